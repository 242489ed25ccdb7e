package io.trainkv.tools;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import io.trainkv.ValueLogGcReport;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv vlog-gc DIR}: opens a closed database and runs value-log GC once, or with
 * {@code --sample-only} only reports each file's discard estimate. Prints per-file estimates and
 * the reclaimed bytes. Exit 0 on success, 2 if the database cannot be opened or GC fails.
 */
@Command(name = "vlog-gc", mixinStandardHelpOptions = true,
        description = "Run value-log garbage collection on a closed database (or only sample it).")
public final class VlogGcCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR", description = "The database directory.")
    Path directory;

    @Option(names = "--ratio", defaultValue = "0.5", description = "Collect files whose discard ratio is at least this. Default: ${DEFAULT-VALUE}")
    double ratio;

    @Option(names = "--sample-only", description = "Report discard estimates without rewriting anything.")
    boolean sampleOnly;

    @Override
    public Integer call() {
        try (TrainKV db = TrainKV.open(Options.at(directory).gcInterval(java.time.Duration.ZERO))) {
            ValueLogGcReport report;
            try (Progress progress = Progress.start(() -> sampleOnly ? "sampling value-log files..." : "collecting value-log files...")) {
                report = sampleOnly ? db.sampleValueLogGC(ratio) : db.runValueLogGC(ratio);
            }
            System.out.print(report.format());
            return 0;
        } catch (TrainKVException | IllegalArgumentException e) {
            System.err.println("error: " + e.getMessage());
            return 2;
        }
    }
}
