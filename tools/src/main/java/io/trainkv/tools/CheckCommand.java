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
 * ({@link ReplayPreview}): damage it refuses is a problem, a torn tail it drops a warning. One
 * summary line at the end. Exit 0 when everything is sound (tolerated torn tails included), 1
 * when problems were found, 2 on usage or I/O errors.
 */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Check everything in a closed database directory: manifest, tables, WALs, value logs, pointers.")
public final class CheckCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR", description = "The database directory.")
    Path directory;

    @Option(names = "--json", description = "Print one JSON object: each step's exit code and JSON results, "
            + "the value-pointer scan, and ok.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        return ClosedDirectory.whileHeld(directory, out, err, json, () -> inspectHeld(out, err));
    }

    /** The tool's work, with the directory held closed. */
    private int inspectHeld(PrintWriter out, PrintWriter err) {
        if (!Files.isDirectory(directory)) {
            err.println("error: " + directory + " is not a directory");
            return 2;
        }
        String dir = directory.toString();
        int worst = 0;
        List<Object> steps = new ArrayList<>();
        for (String[] step : new String[][] {{"manifest-verify", dir}, {"sstdump", "--command", "verify", dir},
            {"wal-verify", dir}, {"vlog-verify", dir}}) {
            if (json) {
                StringWriter stepOut = new StringWriter();
                StringWriter stepErr = new StringWriter();
                String[] args = Arrays.copyOf(step, step.length + 1);
                args[step.length] = "--json";
                int code = TrainKvCommand.commandLine(new PrintWriter(stepOut, true), new PrintWriter(stepErr, true))
                        .execute(args);
                worst = Math.max(worst, code);
                steps.add(Json.object("tool", step[0], "exitCode", code,
                        "results", stepOut.toString().lines().<Object>map(Json.Raw::new).toList(),
                        "messages", stepErr.toString().lines().toList()));
            } else {
                out.println("== " + step[0]);
                worst = Math.max(worst, TrainKvCommand.commandLine(out, err).execute(step));
            }
        }
        if (!json) {
            out.println("== value pointers");
        }
        PointerScan pointers = checkPointers();
        worst = Math.max(worst, pointers.exitCode());
        String warnings = pointers.warnings().isEmpty() ? "" : " (" + pointers.warnings().size() + " warning(s))";
        String summary = worst == 0 ? "check: no problems found" + warnings
                : worst == 1 ? "check: problems found" : "check: could not finish";
        if (json) {
            out.println(Json.write(Json.object("directory", dir, "ok", worst == 0, "exitCode", worst, "steps", steps,
                    "valuePointers", Json.object("checked", pointers.checked(), "problems", pointers.problems(),
                    "warnings", pointers.warnings(), "notes", pointers.notes()))));
        } else {
            pointers.problems().forEach(out::println);
            pointers.warnings().forEach(out::println);
            pointers.notes().forEach(out::println);
            out.println(pointers.checked() + " value pointers in live tables and WALs, " + pointers.broken() + " broken"
                    + (pointers.notes().isEmpty() ? "" : ", " + pointers.notes().size() + " damaged but dead (tolerated)"));
            out.println(summary);
        }
        return worst;
    }

    /**
     * What the value-pointer scan found: pointers checked, broken ones, a line per problem,
     * warnings (what an open drops as a torn tail) and notes (damage an open tolerates); neither
     * of the last two counts as a problem.
     */
    private record PointerScan(long checked, long broken, List<String> problems, List<String> warnings,
                               List<String> notes, int exitCode) {

        static PointerScan failed(String problem, int exitCode) {
            return new PointerScan(0, 0, List.of(problem), List.of(), List.of(), exitCode);
        }
    }

    /**
     * Resolves every value pointer of the live tables, and foresees what an open does with the
     * pointers of the WAL batches it replays ({@link ReplayPreview}, recovery's own rule): damage
     * it refuses is a problem, a torn tail it drops a warning, damage a later write superseded a note.
     */
    private PointerScan checkPointers() {
        NioStorage storage;
        ManifestLog.Replayed manifest;
        try {
            storage = NioStorage.open(directory);
            manifest = ManifestLog.replay(storage, Options.MAX_LEVELS);
        } catch (CorruptionException e) {
            return PointerScan.failed("skipped: the manifest is damaged", 1);
        } catch (IOException e) {
            return PointerScan.failed("error: " + e.getMessage(), 2);
        }
        if (manifest == null) {
            return PointerScan.failed("skipped: no " + FileNames.CURRENT + " names the live manifest", 1);
        }
        ManifestState state = ManifestState.of(manifest.edits());
        Map<Long, ReadSource> logs = new HashMap<>();
        List<String> problems = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long[] counts = new long[2]; // pointers, broken
        try {
            List<String> unknown = TablePointers.forEach(storage, state, (table, key, version, pointer) -> {
                counts[0]++;
                String problem = resolve(storage, logs, pointer);
                if (problem != null) {
                    counts[1]++;
                    problems.add("broken pointer in " + table + " (version " + version + "): " + problem);
                }
            });
            counts[1] += unknown.size();
            problems.addAll(unknown);
            ReplayPreview replay = ReplayPreview.of(storage, state);
            counts[0] += replay.pointersChecked;
            for (ReplayPreview.Unreadable pointer : replay.unreadable) {
                if (pointer.outcome() == ReplayPreview.Outcome.FAILS_OPEN) {
                    counts[1]++;
                    problems.add("broken pointer: " + pointer.describe());
                } else if (pointer.outcome() == ReplayPreview.Outcome.SUPERSEDED) {
                    notes.add("tolerated: " + pointer.describe());
                }
            }
            if (replay.drop != null) {
                warnings.add("warning: " + replay.drop.describe());
            }
            if (replay.walDamage != null) {
                problems.add(replay.walDamage.getMessage());
            }
        } catch (IOException e) {
            problems.add("error: cannot read " + directory + ": " + e.getMessage());
            return new PointerScan(counts[0], counts[1], problems, warnings, notes, 2);
        } finally {
            for (ReadSource source : logs.values()) {
                try {
                    source.close();
                } catch (IOException e) {
                    warnings.add("warning: " + e.getMessage());
                }
            }
        }
        return new PointerScan(counts[0], counts[1], problems, warnings, notes, problems.isEmpty() ? 0 : 1);
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
