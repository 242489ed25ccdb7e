package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.ManifestState;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.sstable.TableIterator;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.ReadableFile;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalCorruptionException;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv check DIR}: the whole-directory consistency check of a closed database,
 * read-only: manifest-verify, wal-verify, vlog-verify and sstdump verify, then a full scan of the
 * live tables checking that every value pointer resolves to a sound value-log entry. One summary
 * line at the end. Exit 0 when everything is sound, 1 when problems were found, 2 on usage or I/O
 * errors.
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
        return ClosedDirectory.whileHeld(directory, err, () -> inspectHeld(out, err));
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
        String summary = worst == 0 ? "check: no problems found" : worst == 1 ? "check: problems found" : "check: could not finish";
        if (json) {
            out.println(Json.write(Json.object("directory", dir, "ok", worst == 0, "exitCode", worst, "steps", steps,
                    "valuePointers", Json.object("checked", pointers.checked(), "problems", pointers.problems(),
                    "notes", pointers.notes()))));
        } else {
            pointers.problems().forEach(out::println);
            pointers.notes().forEach(out::println);
            out.println(pointers.checked() + " value pointers in live tables and WALs, " + pointers.broken() + " broken");
            out.println(summary);
        }
        return worst;
    }

    /**
     * What the value-pointer scan found: pointers checked, broken ones, a line per problem, and
     * notes (what recovery tolerates, not counted as problems).
     */
    private record PointerScan(long checked, long broken, List<String> problems, List<String> notes, int exitCode) {
    }

    /** Scans every live table and resolves every value pointer. */
    private PointerScan checkPointers() {
        NioStorage storage;
        ManifestLog.Replayed manifest;
        try {
            storage = NioStorage.open(directory);
            manifest = ManifestLog.replay(storage, Options.MAX_LEVELS);
        } catch (CorruptionException e) {
            return new PointerScan(0, 0, List.of("skipped: the manifest is damaged"), List.of(), 1);
        } catch (IOException e) {
            return new PointerScan(0, 0, List.of("error: " + e.getMessage()), List.of(), 2);
        }
        if (manifest == null) {
            return new PointerScan(0, 0, List.of("error: no CURRENT: not a TrainKV database"), List.of(), 2);
        }
        ManifestState state = ManifestState.of(manifest.edits());
        Map<Long, VersionEdit.Added> live = state.liveTables();
        Set<Long> collected = state.valueLogsCollected();
        long logNumber = state.logNumber();
        Map<Long, ReadSource> logs = new HashMap<>();
        List<String> problems = new ArrayList<>();
        List<String> notes = new ArrayList<>();
        long pointers = 0;
        long broken = 0;
        try {
            for (VersionEdit.Added table : live.values()) {
                String name = FileNames.name(table.table().fileNumber(), FileNames.Kind.TABLE);
                if (!storage.exists(name)) {
                    problems.add("missing table " + name + ": its value pointers cannot be checked");
                    broken++;
                    continue;
                }
                try (TableReader reader = TableReader.open(storage.openRead(name), name, table.table().fileNumber(), false)) {
                    TableIterator it = reader.iterator(false);
                    for (it.seekToFirst(); it.valid(); it.next()) {
                        ValueStruct value = it.value();
                        if (!value.isValuePointer() || collected.contains(value.pointer().fileId())) {
                            continue;
                        }
                        pointers++;
                        String problem = resolve(storage, logs, value.pointer());
                        if (problem != null) {
                            broken++;
                            problems.add("broken pointer in " + name + " (version " + value.version() + "): " + problem);
                        }
                    }
                } catch (CorruptionException | IOException e) {
                    problems.add("unreadable table " + name + ": " + e.getMessage());
                    broken++;
                }
            }
            long[] walCounts = checkWalPointers(storage, logs, collected, logNumber, problems, notes);
            pointers += walCounts[0];
            broken += walCounts[1];
        } catch (IOException e) {
            problems.add("error: cannot list " + directory + ": " + e.getMessage());
            return new PointerScan(pointers, broken, problems, notes, 2);
        } finally {
            for (ReadSource source : logs.values()) {
                try {
                    source.close();
                } catch (IOException e) {
                    problems.add("warning: " + e.getMessage());
                }
            }
        }
        return new PointerScan(pointers, broken, problems, notes, broken == 0 ? 0 : 1);
    }

    /**
     * Resolves the value pointers of the batches in the WALs recovery would replay; returns
     * {pointers, broken}. As in recovery, a batch of the newest log pointing at a value a crash left
     * unwritten ends that log (it was never committed: noted, not broken); in an older log it is damage.
     * Records and batches themselves are wal-verify's business, so an unreadable record ends a log here.
     */
    private static long[] checkWalPointers(NioStorage storage, Map<Long, ReadSource> logs, Set<Long> collected,
                                           long logNumber, List<String> problems, List<String> notes)
            throws IOException {
        List<Long> wals = new ArrayList<>();
        for (String name : storage.list()) {
            long number = FileNames.parseNumber(name, FileNames.Kind.WAL);
            if (number >= logNumber) {
                wals.add(number);
            }
        }
        Collections.sort(wals);
        long[] counts = new long[2];
        for (int i = 0; i < wals.size(); i++) {
            boolean newest = i == wals.size() - 1;
            String name = FileNames.name(wals.get(i), FileNames.Kind.WAL);
            try (ReadableFile file = storage.openRead(name)) {
                WalReader reader = new WalReader(file, name, newest);
                ByteBuffer payload;
                while ((payload = reader.next()) != null) {
                    List<ValuePointer> batch = new ArrayList<>();
                    WalBatchDecoder.decode(payload, (v, meta, userMeta, expiresAt, key, value) -> {
                        if ((meta & ValueStruct.META_VALUE_POINTER) != 0) {
                            batch.add(ValuePointer.decode(value));
                        }
                    });
                    String problem = null;
                    for (ValuePointer pointer : batch) {
                        if (!collected.contains(pointer.fileId())) {
                            counts[0]++;
                            problem = problem != null ? problem : resolve(storage, logs, pointer);
                        }
                    }
                    if (problem != null && newest) {
                        notes.add("note: " + name + " at offset " + reader.recordOffset() + ": the last batches point to "
                                + "unreadable values (" + problem + "), as a crash leaves unsynced writes; recovery "
                                + "drops them as never committed");
                        break;
                    }
                    if (problem != null) {
                        counts[1]++;
                        problems.add("broken pointer in " + name + " at offset " + reader.recordOffset() + ": " + problem);
                    }
                }
            } catch (WalCorruptionException | IllegalArgumentException e) {
                continue;
            }
        }
        return counts;
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
