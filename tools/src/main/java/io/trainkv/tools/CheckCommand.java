package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.ManifestState;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.util.ValuePointer;
import io.trainkv.vlog.ValueLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv check DIR}: the whole-directory consistency check of a closed database,
 * read-only: manifest-verify, wal-verify, vlog-verify and sstdump verify, then a full scan of the
 * live tables checking that every value pointer resolves to a sound value-log entry, and what an
 * open would do with the value pointers of the WAL batches it replays, by recovery's own rule
 * ({@link ReplayPreview}): damage it refuses is a problem, a torn tail it drops a warning. The
 * scan's findings are summarised by kind (a count and the first {@value #EXAMPLES} lines of each;
 * {@code --all} lists every one), then one summary line. Verdicts by {@link Severity}, the worst of
 * every step: exit 0 when everything is sound; 0 with warning lines for tolerated torn tails (saying
 * what an open drops); 1 when problems were found; 2 on usage or I/O errors.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check everything in a closed database directory: manifest, tables, WALs, value logs, pointers.")
public final class CheckCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR", description = "The database directory.")
    Path directory;

    @Option(names = "--json", description = "Print one JSON object: each step's exit code and JSON results, "
            + "the value-pointer scan, ok, exitCode and severity.")
    boolean json;

    @Option(names = "--all", description = "List every problem of the value-pointer scan, not only the first "
            + EXAMPLES + " of each kind.")
    boolean all;

    @Spec
    CommandSpec spec;

    /** How many lines of each kind of problem the text report shows without --all. */
    static final int EXAMPLES = 5;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        return ClosedDirectory.whileHeld(directory, out, err, json, () -> inspectHeld(out, err));
    }

    /** The tool's work, with the directory held closed. */
    private int inspectHeld(PrintWriter out, PrintWriter err) {
        if (!Files.isDirectory(directory)) {
            return ClosedDirectory.unusable(directory, directory + " is not a directory", out, err, json);
        }
        String dir = directory.toString();
        Severity worst = Severity.OK;
        int stepWarnings = 0;
        List<String> failedSteps = new ArrayList<>();
        List<Object> steps = new ArrayList<>();
        for (String[] step : new String[][] {{"manifest-verify", dir}, {"sstdump", "--command", "verify", dir},
            {"wal-verify", dir}, {"vlog-verify", dir}}) {
            StepVerdict stepVerdict;
            if (json) {
                StringWriter stepOut = new StringWriter();
                StringWriter stepErr = new StringWriter();
                String[] args = Arrays.copyOf(step, step.length + 1);
                args[step.length] = "--json";
                stepVerdict = run(args, new PrintWriter(stepOut, true), new PrintWriter(stepErr, true));
                steps.add(stepVerdict.severity().addTo(Json.object("tool", step[0],
                        "results", stepOut.toString().lines().<Object>map(Json.Raw::new).toList(),
                        "messages", stepErr.toString().lines().toList())));
            } else {
                out.println("== " + step[0]);
                stepVerdict = run(step, out, err);
            }
            Severity verdict = stepVerdict.severity();
            worst = worst.and(verdict);
            stepWarnings += stepVerdict.warnings();
            if (!verdict.ok()) {
                failedSteps.add(step[0]);
            }
        }
        if (!json) {
            out.println("== value pointers");
        }
        PointerScan pointers = checkPointers();
        worst = worst.and(pointers.severity());
        int warnings = stepWarnings + pointers.findings().count(Severity.TOLERATED);
        String summary = !worst.ok() ? (worst == Severity.DAMAGED ? "check: problems found" : "check: could not finish")
                + pointers.findings().summary() + (failedSteps.isEmpty() ? "" : " (see " + String.join(", ", failedSteps) + ")")
                : "check: no problems found" + (warnings == 0 ? "" : " (" + warnings + " warning(s))");
        Findings findings = pointers.findings();
        if (json) {
            out.println(Json.write(worst.addTo(Json.object("directory", dir, "steps", steps,
                    "valuePointers", Json.object("checked", pointers.checked(), "broken", pointers.broken(),
                            "problemCounts", findings.counts(true), "otherCounts", findings.counts(false),
                            "problems", findings.problems(),
                            "warnings", findings.lines(Severity.TOLERATED), "notes", findings.lines(Severity.OK))))));
        } else {
            findings.print(out, all ? Integer.MAX_VALUE : EXAMPLES);
            out.println(pointers.checked() + " value pointers in live tables and the WAL batches an open replays, "
                    + pointers.broken() + " broken"
                    + findings.countsOf(Severity.OK, "damaged but dead (tolerated)"));
            out.println(summary);
        }
        return worst.exitCode();
    }

    /** A step's verdict and the warning lines it printed. */
    private record StepVerdict(Severity severity, int warnings) {
    }

    /** Runs another tool with {@code args} on {@code out} and {@code err}; returns its verdict. */
    private static StepVerdict run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine commandLine = TrainKvCommand.commandLine(out, err);
        int code = commandLine.execute(args);
        CommandLine.ParseResult parsed = commandLine.getParseResult();
        Object tool = parsed != null && parsed.subcommand() != null
                ? parsed.subcommand().commandSpec().userObject() : null;
        if (tool instanceof Inspection inspection && inspection.severity() != null) {
            return new StepVerdict(inspection.severity(), inspection.warnings());
        }
        Severity severity = Severity.ofExitCode(code);
        return new StepVerdict(severity, 0);
    }

    /**
     * What the value-pointer scan found: pointers checked, broken ones (pointers that do not
     * resolve and fail an open), and the findings by kind.
     */
    private record PointerScan(long checked, long broken, Findings findings) {

        Severity severity() {
            return findings.severity();
        }
    }

    /**
     * Resolves every value pointer of the live tables, and foresees what an open does with the
     * pointers of the WAL batches it replays ({@link ReplayPreview}, recovery's own rule): damage
     * it refuses is a problem, a torn tail it drops a warning, damage a later write superseded a note.
     */
    private PointerScan checkPointers() {
        Findings findings = new Findings();
        NioStorage storage;
        ManifestLog.Replayed manifest;
        try {
            storage = NioStorage.open(directory);
            manifest = ManifestLog.replay(storage, Options.MAX_LEVELS);
        } catch (CorruptionException e) {
            findings.add(Severity.DAMAGED, "value-pointer scan skipped", "skipped: the manifest is damaged");
            return new PointerScan(0, 0, findings);
        } catch (IOException e) {
            findings.add(Severity.UNUSABLE, "error", "error: " + e.getMessage());
            return new PointerScan(0, 0, findings);
        }
        if (manifest == null) {
            findings.add(Severity.DAMAGED, "value-pointer scan skipped", "skipped: no " + FileNames.CURRENT
                    + " names the live manifest");
            return new PointerScan(0, 0, findings);
        }
        ManifestState state = ManifestState.of(manifest.edits());
        Map<Long, ReadSource> logs = new HashMap<>();
        long[] counts = new long[2]; // pointers, broken
        try {
            List<TablePointers.Unknown> unknown = TablePointers.forEach(storage, state, (table, key, version, pointer) -> {
                counts[0]++;
                String problem = resolve(storage, logs, pointer);
                if (problem != null) {
                    counts[1]++;
                    findings.add(Severity.DAMAGED, "broken pointer", "broken pointer in " + table + " (version " + version
                            + "): " + problem);
                }
            });
            for (TablePointers.Unknown table : unknown) {
                findings.add(Severity.DAMAGED, table.kind(), table.describe());
            }
            ReplayPreview replay = ReplayPreview.of(storage, state);
            counts[0] += replay.pointersChecked;
            for (ReplayPreview.Unreadable pointer : replay.unreadable) {
                if (pointer.outcome() == ReplayPreview.Outcome.FAILS_OPEN) {
                    counts[1]++;
                    findings.add(Severity.DAMAGED, "broken pointer", "broken pointer: " + pointer.describe());
                } else if (pointer.outcome() == ReplayPreview.Outcome.SUPERSEDED) {
                    findings.add(Severity.OK, "damaged but dead", "tolerated: " + pointer.describe());
                }
            }
            if (replay.drop != null) {
                findings.add(Severity.TOLERATED, "torn tail", "warning: " + replay.drop.describe());
            }
            if (replay.walDamage != null) {
                findings.add(Severity.DAMAGED, "write-ahead log damage", replay.walDamage.getMessage());
            }
        } catch (IOException e) {
            findings.add(Severity.UNUSABLE, "error", "error: cannot read " + directory + ": " + e.getMessage());
        } finally {
            for (ReadSource source : logs.values()) {
                try {
                    source.close();
                } catch (IOException e) {
                    findings.add(Severity.TOLERATED, "warning", "warning: " + e.getMessage());
                }
            }
        }
        return new PointerScan(counts[0], counts[1], findings);
    }

    private static String resolve(NioStorage storage, Map<Long, ReadSource> logs, ValuePointer pointer) {
        String name = FileNames.name(pointer.fileId(), FileNames.Kind.VALUE_LOG);
        try {
            ReadSource source = logs.get(pointer.fileId());
            if (source == null) {
                if (!storage.exists(name)) {
                    return name + " is missing";
                }
                source = ReadSource.open(storage.openRead(name), false);
                logs.put(pointer.fileId(), source);
            }
            ValueLog.readEntry(source, name, pointer);
            return null;
        } catch (CorruptionException e) {
            return e.getMessage();
        } catch (IOException e) {
            return name + ": " + e.getMessage();
        }
    }
}
