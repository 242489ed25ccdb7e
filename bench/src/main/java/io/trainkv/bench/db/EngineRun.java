package io.trainkv.bench.db;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.HdrHistogram.Histogram;

/**
 * Runs one workload on one engine in this process, from opening the engine's directory to
 * closing it, and measures it: the timed operations, then (for writing workloads) the untimed
 * settling, a count of live keys, the engine's and the process's bytes written, the directory
 * size and peak memory. A child process does exactly this once; the smoke test does it in-process.
 */
final class EngineRun {

    private EngineRun() {
    }

    static Result run(BenchConfig config, Workload workload, EngineKind kind) throws InterruptedException {
        Path dir = config.engineDir(kind);
        prepare(dir, workload);
        kind.load();
        if (workload == Workload.OPEN) {
            fillWithoutSettling(config, kind, dir);
        }
        long writtenBefore = ProcStats.writeBytes();
        Measurement m;
        double settleSeconds;
        long liveKeys;
        long engineBytes;
        ThreadMXBean cpu = ManagementFactory.getThreadMXBean();
        long openCpuStart = cpu.isCurrentThreadCpuTimeSupported() ? cpu.getCurrentThreadCpuTime() : -1;
        long openStart = System.nanoTime();
        long openNanos;
        long openCpuNanos;
        try (Engine engine = kind.open(dir, config.settings())) {
            openNanos = System.nanoTime() - openStart;
            openCpuNanos = openCpuStart < 0 ? -1 : cpu.getCurrentThreadCpuTime() - openCpuStart;
            if (workload == Workload.OPEN) {
                m = Measurement.oneOperation(openNanos);
            } else {
                try (Progress progress = new Progress(workload.id() + " on " + kind.id(),
                        workload == Workload.YCSBA ? config.ops() : config.num())) {
                    m = runner(config, engine).run(workload, progress);
                }
            }
            long settleStart = System.nanoTime();
            if (workload.writes()) {
                engine.settle();
            }
            settleSeconds = (System.nanoTime() - settleStart) / 1e9;
            liveKeys = countKeys(engine);
            engineBytes = engine.bytesWritten();
        }
        long writtenAfter = ProcStats.writeBytes();
        Histogram latency = m.latency();
        return new Result(workload.id(), kind.id(), "", m.ops(), workload.reads() ? m.found() : -1, liveKeys,
                m.nanos() / 1e9, settleSeconds, m.bytes(), micros(latency, 50), micros(latency, 99),
                micros(latency, 99.9), m.userBytesWritten(),
                writtenBefore < 0 || writtenAfter < 0 ? -1 : writtenAfter - writtenBefore, engineBytes,
                directorySize(dir), ProcStats.peakRssBytes(), openNanos / 1e9,
                openCpuNanos < 0 ? -1 : openCpuNanos / 1e9);
    }

    private static WorkloadRunner runner(BenchConfig config, Engine engine) {
        return new WorkloadRunner(engine, config.keySpace(), new ValueSource(config.valueSize(), config.seed()),
                config.threads(), config.ops(), config.writeRate());
    }

    /**
     * The open workload's first session: fillrandom, then close without settling, so that what
     * the engine keeps in its write buffer at close is left to the next open to replay.
     */
    private static void fillWithoutSettling(BenchConfig config, EngineKind kind, Path dir) throws InterruptedException {
        try (Engine engine = kind.open(dir, config.settings());
             Progress progress = new Progress("open: fillrandom on " + kind.id(), config.num())) {
            runner(config, engine).run(Workload.FILLRANDOM, progress);
        }
    }

    /** Fills start from an empty directory; every other workload needs the data a fill left. */
    private static void prepare(Path dir, Workload workload) {
        try {
            if (workload.fresh()) {
                deleteRecursively(dir);
                Files.createDirectories(dir);
            } else if (!Files.isDirectory(dir) || isEmpty(dir)) {
                throw new IllegalStateException(workload.id() + " needs a database in " + dir
                        + ": run fillseq or fillrandom before it");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long countKeys(Engine engine) {
        long keys = 0;
        try (Engine.Cursor cursor = engine.cursor(false)) {
            for (cursor.seekToFirst(); cursor.valid(); cursor.next()) {
                keys++;
            }
        }
        return keys;
    }

    private static double micros(Histogram latency, double percentile) {
        return latency.getTotalCount() == 0 ? Double.NaN : latency.getValueAtPercentile(percentile) / 1e3;
    }

    private static boolean isEmpty(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.findAny().isEmpty();
        }
    }

    private static long directorySize(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            return paths.filter(Files::isRegularFile).mapToLong(p -> p.toFile().length()).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
