package io.trainkv.bench.db;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Prints the results side by side: a plain table for the terminal (one row per workload and
 * engine, ending with TrainKV's throughput divided by that engine's), and the same rows with every
 * field as CSV or JSON files.
 */
final class Report {

    private static final double MIB = 1 << 20;
    private static final String[] HEADER = {"workload", "engine", "ops/s", "MiB/s", "p50 us", "p99 us", "p99.9 us",
        "settle s", "found", "written MiB", "engine MiB", "w-amp", "size MiB", "s-amp", "RSS MiB", "trainkv/this"};

    private final BenchConfig config;
    private final List<Result> rows;

    /** Whether some workload failed on some engine (its row then says why). */
    boolean anyFailed() {
        return rows.stream().anyMatch(Result::failed);
    }

    /** Orders {@code results} by workload, then engine, as the command line named them. */
    Report(BenchConfig config, List<Result> results) {
        this.config = config;
        this.rows = new ArrayList<>();
        for (Workload w : config.workloads()) {
            for (EngineKind e : config.engines()) {
                results.stream().filter(r -> r.workload().equals(w.id()) && r.engine().equals(e.id()))
                        .forEach(rows::add);
            }
        }
    }

    void printTable(PrintStream out) {
        out.printf(Locale.ROOT, "%,d keys of %d B, values of %d B, %d thread(s), sync %s, seed %d, heap -Xmx%s per engine"
                + " process%s%n", config.num(), config.keySize(), config.valueSize(), config.threads(),
                config.sync() ? "on" : "off", config.seed(), config.heap(),
                config.writeRate() > 0 ? String.format(Locale.ROOT, ", readwhilewriting's writer at %,d puts/s",
                        config.writeRate()) : "");
        List<String[]> cells = new ArrayList<>();
        cells.add(HEADER);
        for (Result r : rows) {
            cells.add(r.ran() ? cells(r) : new String[]{r.workload(), r.engine(), r.note()});
        }
        int[] widths = new int[HEADER.length];
        for (String[] row : cells) {
            boolean noteRow = row.length < HEADER.length;
            for (int i = 0; i < row.length; i++) {
                // a note runs on past the columns instead of widening one
                widths[i] = Math.max(widths[i], noteRow && i == row.length - 1 ? 0 : row[i].length());
            }
        }
        for (String[] row : cells) {
            boolean noteRow = row.length < HEADER.length;
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.length; i++) {
                String align = i < 2 || noteRow ? "-" : "";
                line.append(i == 0 ? "" : "  ").append(String.format(Locale.ROOT, "%" + align + widths[i] + "s", row[i]));
            }
            out.println(line.toString().stripTrailing());
        }
        out.println("peak RSS per engine in MiB (highest over its workloads): " + config.engines().stream()
                .map(e -> e.id() + " " + mib(peakRss(e))).collect(Collectors.joining(", ")));
        out.printf(Locale.ROOT, "cache: every engine gets a %s MiB block cache (mvstore: page cache); index and filter"
                + " blocks as each engine keeps them by default; trainkv and leveldb read tables through mmap"
                + " (trainkv then reads data blocks in place and its block cache stays empty)%n",
                mib(config.cacheBytes()));
        out.println("settle s: untimed flush and wait for compactions after a writing workload; written MiB:"
                + " /proc/self/io write_bytes from open to close, settling included; engine MiB: the engine's own count"
                + " of WAL, table and value-log bytes written ('-': it keeps none)");
        out.println("w-amp: written / key+value bytes the workload wrote; s-amp: directory size / live key+value bytes;"
                + " trainkv/this: TrainKV ops/s divided by this engine's (above 1: TrainKV is faster)");
    }

    /** The table cells of a row that ran. */
    private String[] cells(Result r) {
        return new String[]{r.workload(), r.engine(), number(r.opsPerSecond(), 0), number(r.mibPerSecond(), 1),
            number(r.p50Micros(), 1), number(r.p99Micros(), 1), number(r.p999Micros(), 1), number(r.settleSeconds(), 1),
            r.found() < 0 ? "-" : number(r.found(), 0),
            mib(r.diskBytesWritten()), mib(r.engineBytesWritten()), number(r.writeAmplification(), 2), mib(r.diskSize()),
            number(r.spaceAmplification(config.entryBytes()), 2), mib(r.peakRssBytes()), number(trainKvRatio(r), 2)};
    }

    /** TrainKV's ops/s over this row's, in the same workload; NaN when TrainKV did not run it. */
    private double trainKvRatio(Result r) {
        return trainKv(r.workload()).map(t -> t.opsPerSecond() / r.opsPerSecond()).orElse(Double.NaN);
    }

    private Optional<Result> trainKv(String workload) {
        return rows.stream().filter(r -> r.ran() && r.workload().equals(workload)
                && r.engine().equals(EngineKind.TRAINKV.id())).findFirst();
    }

    /**
     * Prints how each engine's cost grows with the key count, one line per workload and engine:
     * ops/s, write amplification and peak RSS at each count of {@code reports} (one report per
     * count, in the order they ran).
     */
    static void printGrowth(PrintStream out, List<Report> reports) {
        out.println("growth with the key count (ops/s / w-amp / RSS MiB at "
                + reports.stream().map(r -> String.format(Locale.ROOT, "%,d", r.config.num())).collect(Collectors.joining(", "))
                + " keys):");
        BenchConfig first = reports.get(0).config;
        for (Workload w : first.workloads()) {
            for (EngineKind e : first.engines()) {
                StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-16s %-13s", w.id(), e.id()));
                for (Report report : reports) {
                    line.append("  ").append(report.rows.stream()
                            .filter(r -> r.ran() && r.workload().equals(w.id()) && r.engine().equals(e.id()))
                            .findFirst()
                            .map(r -> String.format(Locale.ROOT, "%12s / %5s / %6s", number(r.opsPerSecond(), 0),
                                    number(r.writeAmplification(), 2), mib(r.peakRssBytes())))
                            .orElse(String.format(Locale.ROOT, "%32s", "-")));
                }
                out.println(line);
            }
        }
    }

    private long peakRss(EngineKind engine) {
        return rows.stream().filter(r -> r.engine().equals(engine.id())).mapToLong(Result::peakRssBytes).max().orElse(-1);
    }

    void writeCsv(Path file) throws IOException {
        List<String> lines = new ArrayList<>();
        for (Result r : rows) {
            Map<String, Object> fields = allFields(r);
            if (lines.isEmpty()) {
                lines.add(String.join(",", fields.keySet()));
            }
            lines.add(fields.values().stream().map(Report::csvCell).collect(Collectors.joining(",")));
        }
        Files.write(file, lines);
    }

    void writeJson(Path file) throws IOException {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("benchmarks", config.workloads().stream().map(Workload::id).collect(Collectors.joining(",")));
        settings.put("engines", config.engines().stream().map(EngineKind::id).collect(Collectors.joining(",")));
        settings.put("num", config.num());
        settings.put("keySize", config.keySize());
        settings.put("valueSize", config.valueSize());
        settings.put("threads", config.threads());
        settings.put("sync", config.sync());
        settings.put("seed", config.seed());
        settings.put("cacheBytes", config.cacheBytes());
        settings.put("heap", config.heap());
        String results = rows.stream().map(r -> "    " + Json.object(allFields(r))).collect(Collectors.joining(",\n"));
        Files.writeString(file, "{\n  \"config\": " + Json.object(settings) + ",\n  \"results\": [\n" + results + "\n  ]\n}\n");
    }

    /** The measured fields followed by the derived ones. */
    private Map<String, Object> allFields(Result r) {
        Map<String, Object> fields = r.fields();
        fields.put("opsPerSecond", r.ran() ? r.opsPerSecond() : Double.NaN);
        fields.put("mibPerSecond", r.ran() ? r.mibPerSecond() : Double.NaN);
        fields.put("writeAmplification", r.writeAmplification());
        fields.put("engineWriteAmplification", r.engineWriteAmplification());
        fields.put("spaceAmplification", r.spaceAmplification(config.entryBytes()));
        fields.put("trainkvOpsRatio", r.ran() ? trainKvRatio(r) : Double.NaN);
        return fields;
    }

    private static String csvCell(Object value) {
        if (value instanceof Double d && d.isNaN()) {
            return "";
        }
        String text = String.valueOf(value);
        return text.contains(",") || text.contains("\"") ? "\"" + text.replace("\"", "\"\"") + "\"" : text;
    }

    private static String number(double value, int decimals) {
        return Double.isNaN(value) || Double.isInfinite(value) ? "-" : String.format(Locale.ROOT, "%,." + decimals + "f", value);
    }

    private static String mib(long bytes) {
        return bytes < 0 ? "-" : number(bytes / MIB, bytes < 10 * MIB ? 1 : 0);
    }
}
