package io.trainkv.bench.db;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs every workload on every engine, one child JVM at a time (never two at once, so that disk
 * and CPU are the measured engine's alone). Engines alternate within each workload, and the
 * engine that goes first rotates from one workload to the next, so that slow drift of the machine
 * (page cache, temperature, other load) falls on all engines alike. Each engine's directory
 * carries its data from one workload to the next, as db_bench's database does.
 */
final class Runner {

    private final BenchConfig config;

    Runner(BenchConfig config) {
        this.config = config;
    }

    List<Result> run() throws InterruptedException {
        List<Result> results = new ArrayList<>();
        List<EngineKind> engines = config.engines();
        for (int w = 0; w < config.workloads().size(); w++) {
            Workload workload = config.workloads().get(w);
            for (int e = 0; e < engines.size(); e++) {
                EngineKind engine = engines.get((w + e) % engines.size());
                Result result = workload.supportedBy(engine)
                        ? ChildProcess.run(config, workload, engine)
                        : Result.unsupported(workload, engine);
                results.add(result);
                System.err.println(summary(result));
            }
        }
        return results;
    }

    private static String summary(Result r) {
        if (!r.ran()) {
            return String.format(Locale.ROOT, "%-16s %-8s %s", r.workload(), r.engine(), r.note());
        }
        return String.format(Locale.ROOT, "%-16s %-8s %,12.0f ops/s  %,d ops in %.1f s, settled in %.1f s;"
                + " opened in %.2f s (%.2f s CPU)", r.workload(), r.engine(), r.opsPerSecond(), r.ops(), r.seconds(),
                r.settleSeconds(), r.openSeconds(), r.openCpuSeconds());
    }
}
