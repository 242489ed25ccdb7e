package io.trainkv.tools;

import io.trainkv.Options;
import io.trainkv.Stats;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import io.trainkv.ValueLogGcReport;
import io.trainkv.storage.FileNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv vlog-gc DIR}: opens a closed database and runs value-log GC once over every
 * sealed file at or above the ratio, or over exactly the files named with {@code --files}, or with
 * {@code --sample-only} only reports each file's discard estimate (opening the database read-only). Prints per-file estimates and
 * the reclaimed bytes. Options are checked before the directory is opened. Exit codes by
 * {@link Severity}: 0 on success; 1 if the database is damaged (the open fails on damage,
 * {@code CURRENT} is lost, or GC refuses a file damaged other than by a torn tail); 2 if --ratio is
 * not in (0, 1], a named file is not a sealed value-log file, the directory is not a database or
 * another process holds it, or on an I/O error.
 */
@Command(name = "vlog-gc", mixinStandardHelpOptions = true,
        description = "Run value-log garbage collection on a closed database (or only sample it).")
public final class VlogGcCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR", description = "The database directory.")
    Path directory;

    @Option(names = "--ratio", defaultValue = "0.5", paramLabel = "R", description = "Collect files whose discard ratio is at least this. Default: ${DEFAULT-VALUE}")
    double ratio;

    @Option(names = "--files", split = ",", paramLabel = "ID",
            description = "Collect exactly these sealed value-log files (numbers, as in 000012.vlog), whatever their ratio.")
    List<Long> files;

    @Option(names = "--sample-only", description = "Report discard estimates without rewriting anything.")
    boolean sampleOnly;

    @Option(names = "--json", description = "Print the report as one JSON object.")
    boolean json;

    @Override
    public Integer call() {
        if (files != null && sampleOnly) {
            System.err.println("error: --files and --sample-only do not go together");
            return 2;
        }
        if (!(ratio > 0 && ratio <= 1)) {
            System.err.println("error: --ratio must be a discard ratio in (0, 1], got " + ratio);
            return 2;
        }
        ClosedDirectory.Refusal refusal = ClosedDirectory.openRefusal(directory);
        if (refusal != null) {
            return ClosedDirectory.fail(directory, refusal.severity(), refusal.reason(), json, System.out, System.err);
        }
        if (files != null) {
            for (long id : files) {
                if (!Files.isRegularFile(directory.resolve(FileNames.name(id, FileNames.Kind.VALUE_LOG)))) {
                    System.err.println("error: value-log file " + id + " (" + FileNames.name(id, FileNames.Kind.VALUE_LOG)
                            + ") is not in " + directory);
                    return 2;
                }
            }
        }
        try (TrainKV db = TrainKV.open(Options.at(directory).gcInterval(Duration.ZERO).readOnly(sampleOnly))) {
            ValueLogGcReport report;
            Stats before = db.stats();
            long toExamine = files != null ? files.size()
                    : before.valueLogFiles().stream().filter(f -> !f.active() && f.bytes() > 0).count();
            try (Progress progress = Progress.start(() -> {
                long examined = db.stats().valueLogGcFilesExamined() - before.valueLogGcFilesExamined();
                return Progress.bar(examined, toExamine) + " " + examined + " of " + toExamine + " sealed files "
                        + (sampleOnly ? "sampled" : "examined");
            })) {
                if (files != null) {
                    report = db.collectValueLogFiles(Set.copyOf(files));
                } else {
                    report = sampleOnly ? db.sampleValueLogGC(ratio) : db.runValueLogGC(ratio);
                }
                progress.succeeded();
            }
            System.out.print(json ? Json.write(toJson(directory, report)) + "\n" : report.format());
            return 0;
        } catch (IllegalArgumentException e) {
            return ClosedDirectory.fail(directory, Severity.UNUSABLE, e.getMessage(), json, System.out, System.err);
        } catch (TrainKVException e) {
            return ClosedDirectory.fail(directory, Severity.of(e), e.getMessage(), json, System.out, System.err);
        }
    }

    private static Object toJson(Path directory, ValueLogGcReport report) {
        List<Object> files = report.files().stream().<Object>map(f -> Json.object("file", f.fileId(), "bytes", f.bytes(),
                "discardBytes", f.discardBytes(), "sampledBytes", f.sampledBytes(), "sampledLiveBytes", f.sampledLive(),
                "discardRatio", f.discardRatio(), "collected", f.collected())).toList();
        return Severity.OK.addTo(Json.object("directory", directory.toString(), "files", files,
                "collectedFiles", report.collectedFiles(),
                "reclaimedBytes", report.reclaimedBytes(), "rewrittenBytes", report.rewrittenBytes()));
    }
}
