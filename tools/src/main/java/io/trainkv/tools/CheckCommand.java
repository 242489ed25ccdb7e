package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.sstable.TableIterator;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

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

    @Override
    public Integer call() {
        String refusal = ClosedDirectory.refusal(directory);
        if (refusal != null) {
            System.out.println("error: " + refusal);
            return 2;
        }
        if (!Files.isDirectory(directory)) {
            System.out.println("error: " + directory + " is not a directory");
            return 2;
        }
        String dir = directory.toString();
        int worst = 0;
        for (String[] step : new String[][] {{"manifest-verify", dir}, {"sstdump", "--command", "verify", dir},
            {"wal-verify", dir}, {"vlog-verify", dir}}) {
            System.out.println("== " + step[0]);
            worst = Math.max(worst, TrainKvCommand.execute(step));
        }
        System.out.println("== value pointers");
        int pointerCode = checkPointers();
        worst = Math.max(worst, pointerCode);
        System.out.println(worst == 0 ? "check: no problems found" : worst == 1 ? "check: problems found" : "check: could not finish");
        return worst;
    }

    /** Scans every live table and resolves every value pointer; returns an exit code. */
    private int checkPointers() {
        NioStorage storage;
        ManifestLog.Replayed manifest;
        try {
            storage = NioStorage.open(directory);
            manifest = ManifestLog.replay(storage, 8);
        } catch (CorruptionException e) {
            System.out.println("skipped: the manifest is damaged");
            return 1;
        } catch (IOException e) {
            System.out.println("error: " + e.getMessage());
            return 2;
        }
        if (manifest == null) {
            System.out.println("error: no CURRENT: not a TrainKV database");
            return 2;
        }
        Map<Long, VersionEdit.Added> live = new LinkedHashMap<>();
        Set<Long> collected = new HashSet<>();
        for (VersionEdit edit : manifest.edits()) {
            edit.deleted().forEach(d -> live.remove(d.fileNumber()));
            edit.added().forEach(a -> live.put(a.table().fileNumber(), a));
            collected.addAll(edit.valueLogsCollected());
        }
        Map<Long, ReadSource> logs = new HashMap<>();
        long pointers = 0;
        long broken = 0;
        try {
            for (VersionEdit.Added table : live.values()) {
                String name = FileNames.name(table.table().fileNumber(), FileNames.Kind.TABLE);
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
                            System.out.println("broken pointer in " + name + " (version " + value.version() + "): " + problem);
                        }
                    }
                } catch (CorruptionException | IOException e) {
                    System.out.println("unreadable table " + name + ": " + e.getMessage());
                    broken++;
                }
            }
        } finally {
            for (ReadSource source : logs.values()) {
                try {
                    source.close();
                } catch (IOException e) {
                    System.out.println("warning: " + e.getMessage());
                }
            }
        }
        System.out.println(pointers + " value pointers in live tables, " + broken + " broken");
        return broken == 0 ? 0 : 1;
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
