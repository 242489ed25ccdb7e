package io.trainkv.bench.db;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The db_bench-style runner behind {@code scripts/bench}: parses db_bench's flags, runs each
 * workload on each engine in a child JVM of its own and prints the comparison. With the hidden
 * {@value #CHILD_FLAG} flag it is that child: it runs its one workload on its one engine in
 * this process and prints the result as a JSON line.
 */
@Command(name = "scripts/bench", sortOptions = false, usageHelpWidth = 100,
        description = {"Runs db_bench-style workloads on TrainKV and peer engines, one engine process at a time,"
                + " and prints ops/s, MiB/s, latency percentiles, bytes written, write and space amplification"
                + " and peak memory side by side."},
        footerHeading = "%nWorkloads:%n",
        footer = {"  fillseq, fillrandom   load --num keys into an emptied database, in key order or at random",
                "  overwrite, readrandom, readmissing, readseq, readreverse, seekrandom, readwhilewriting, ycsba,",
                "  deleterandom          run on the database a fill left in --db: run a fill before them",
                "  readwhilewriting      --num random gets on --threads readers, beside one writer (--write-rate)",
                "  ycsba                 YCSB workload A: --ops operations, 50%% reads and 50%% updates of keys drawn",
                "                        from a scrambled Zipfian distribution",
                "  open                  untimed fillrandom of --num keys left in the WAL, then the timed open of a",
                "                        second session (its seconds in the p50 column as us, and in --json/--csv)",
                "Engines: rocksdb-tuned is RocksDB with a 10 bits/key bloom filter, no compression and dynamic",
                "  level sizes (level_compaction_dynamic_level_bytes).",
                "%nExit codes:",
                "  0  every workload ran on every engine",
                "  1  some workload failed on some engine (its row says why)",
                "  2  usage or I/O error: an unknown flag, a bad value, a --db that cannot be used or that another",
                "     run is using"})
public final class DbBench implements Callable<Integer> {

    static final String CHILD_FLAG = "--child";

    @Spec
    private CommandSpec spec;

    @Option(names = "--benchmarks", split = ",", paramLabel = "NAME",
            defaultValue = "fillseq,fillrandom,overwrite,readrandom,readmissing,readseq,readreverse,seekrandom,"
                    + "readwhilewriting,deleterandom",
            description = "Comma-separated workloads, run in this order: ${COMPLETION-CANDIDATES}. Default: all.")
    private List<Workload> workloads;

    @Option(names = "--engine", split = ",", paramLabel = "NAME", defaultValue = "trainkv,rocksdb,rocksdb-tuned,leveldb,mvstore",
            description = "Comma-separated engines: ${COMPLETION-CANDIDATES}. Default: all.")
    private List<EngineKind> engines;

    @Option(names = "--num", paramLabel = "N", defaultValue = "1000000", description = "Keys, and operations per workload. Default: ${DEFAULT-VALUE}.")
    private int num;

    @Option(names = "--ops", paramLabel = "N", description = "Operations of ycsba. Default: --num.")
    private Integer ops;

    @Option(names = "--sizes", split = ",", paramLabel = "N",
            description = "Run everything once per key count instead of at --num (e.g. 1000000,10000000), print each"
                    + " table, then how each engine's ops/s, write amplification and peak RSS grow with the count;"
                    + " --csv and --json files then get -N before their extension.")
    private List<Integer> sizes;

    @Option(names = "--key-size", paramLabel = "BYTES", defaultValue = "16", description = "Bytes per key (at least 8). Default: ${DEFAULT-VALUE}.")
    private int keySize;

    @Option(names = "--value-size", paramLabel = "BYTES", defaultValue = "100", description = "Bytes per value. Default: ${DEFAULT-VALUE}.")
    private int valueSize;

    @Option(names = "--threads", paramLabel = "N", defaultValue = "1",
            description = "Threads per workload, sharing its --num operations (readwhilewriting adds one writer);"
                    + " 1 to " + BenchConfig.MAX_THREADS + ". Default: ${DEFAULT-VALUE}.")
    private int threads;

    @Option(names = "--sync", paramLabel = "BOOL", arity = "0..1", defaultValue = "false", fallbackValue = "true",
            description = "Fsync every write. Default: ${DEFAULT-VALUE}.")
    private boolean sync;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1", description = "Seed of keys, values and operation order. Default: ${DEFAULT-VALUE}.")
    private long seed;

    @Option(names = "--db", paramLabel = "DIR", defaultValue = "${java.io.tmpdir}/trainkv-bench",
            description = "Parent directory; each engine's database is DIR/<engine>, emptied by the fills."
                    + " Default: ${DEFAULT-VALUE}.")
    private Path db;

    @Option(names = "--cache-size", paramLabel = "BYTES", defaultValue = "67108864",
            description = "Block cache of every engine (MVStore: its page cache). Default: ${DEFAULT-VALUE}.")
    private long cacheBytes;

    @Option(names = "--write-rate", paramLabel = "PUTS", defaultValue = "0",
            description = "Puts per second of readwhilewriting's writer, the same for every engine (db_bench's"
                    + " --benchmark_write_rate_limit); 0 writes as fast as it can. Default: ${DEFAULT-VALUE}.")
    private int writeRate;

    @Option(names = "--heap", paramLabel = "SIZE", defaultValue = "1g", description = "-Xmx of each engine's JVM. Default: ${DEFAULT-VALUE}.")
    private String heap;

    @Option(names = "--csv", paramLabel = "FILE", description = "Also write every result field as CSV.")
    private Path csv;

    @Option(names = "--json", paramLabel = "FILE", description = "Also write the settings and every result as JSON.")
    private Path json;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    private boolean help;

    @Option(names = CHILD_FLAG, hidden = true, description = "Run one workload on one engine here; print JSON.")
    private boolean child;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code. */
    static int run(String... args) {
        return new CommandLine(new DbBench())
                .registerConverter(EngineKind.class, id -> named(() -> EngineKind.fromId(id)))
                .registerConverter(Workload.class, id -> named(() -> Workload.fromId(id)))
                .setParameterExceptionHandler(DbBench::usageError)
                .execute(args);
    }

    /** A command-line name looked up, its error (naming the names there are) a usage error. */
    private static <T> T named(Supplier<T> lookup) {
        try {
            return lookup.get();
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }

    /** Prints a usage error as one line naming the help to read, and returns exit code 2. */
    private static int usageError(ParameterException e, String[] args) {
        e.getCommandLine().getErr().println("error: " + e.getMessage() + " (see scripts/bench --help)");
        return 2;
    }

    @Override
    public Integer call() throws Exception {
        BenchConfig config;
        try {
            config = new BenchConfig(workloads, engines, num, ops == null ? num : ops, keySize, valueSize, threads, sync, seed, db, cacheBytes, heap, writeRate);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        if (child) {
            if (workloads.size() != 1 || engines.size() != 1) {
                throw new ParameterException(spec.commandLine(), CHILD_FLAG + " runs exactly one benchmark on one engine");
            }
            return runChild(config, workloads.get(0), engines.get(0));
        }
        BenchDirectoryLock lock;
        try {
            lock = BenchDirectoryLock.take(db);
        } catch (IllegalStateException e) {
            spec.commandLine().getErr().println(e.getMessage());
            return 2;
        } catch (IOException e) {
            spec.commandLine().getErr().println("cannot use --db " + db + ": " + e);
            return 2;
        }
        try (lock) {
            return runAll(config);
        }
    }

    /** Runs the table, or one table per --sizes count and the growth table; 1 if any workload failed. */
    private int runAll(BenchConfig config) throws Exception {
        if (sizes == null || sizes.isEmpty()) {
            return runAndReport(config, csv, json).anyFailed() ? 1 : 0;
        }
        List<Report> reports = new ArrayList<>();
        for (int size : sizes) {
            BenchConfig sized;
            try {
                sized = config.withNum(size);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
            reports.add(runAndReport(sized, suffixed(csv, size), suffixed(json, size)));
        }
        Report.printGrowth(System.out, reports);
        return reports.stream().anyMatch(Report::anyFailed) ? 1 : 0;
    }

    /** Runs every workload on every engine with {@code config}, prints the table and writes the files asked for. */
    private static Report runAndReport(BenchConfig config, Path csv, Path json) throws Exception {
        Report report = new Report(config, new Runner(config).run());
        report.printTable(System.out);
        if (csv != null) {
            report.writeCsv(csv);
        }
        if (json != null) {
            report.writeJson(json);
        }
        return report;
    }

    /** {@code file} with {@code -size} before its extension ({@code out.csv} becomes {@code out-10000000.csv}). */
    private static Path suffixed(Path file, int size) {
        if (file == null) {
            return null;
        }
        String name = file.getFileName().toString();
        int dot = name.lastIndexOf('.');
        String sized = dot <= 0 ? name + "-" + size : name.substring(0, dot) + "-" + size + name.substring(dot);
        return file.resolveSibling(sized);
    }

    /** Prints the result line, also when the engine fails (the row then says why); exit code 1 on failure. */
    private static int runChild(BenchConfig config, Workload workload, EngineKind engine) throws InterruptedException {
        Result result;
        try {
            result = EngineRun.run(config, workload, engine);
        } catch (RuntimeException e) {
            result = Result.failed(workload, engine, e);
        }
        System.out.println(result.toJson());
        return result.ran() ? 0 : 1;
    }
}
