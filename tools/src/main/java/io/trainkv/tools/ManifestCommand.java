package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.ManifestState;
import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.sstable.TableProperties;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv manifest-verify} and {@code trainkv manifest-dump}: replay the manifest of a
 * closed database directory (read-only), checking every record's CRC, then check that every table
 * it names exists with the recorded size, a sound footer and the recorded key range, and list
 * missing, truncated, overlapping and orphan (unnamed) tables, ending with an abnormalities count.
 * Dump also prints every edit. Exit 0 when there is nothing abnormal, 1 otherwise, 2 on usage or
 * I/O errors.
 */
public abstract class ManifestCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR", description = "A closed database directory.")
    Path directory;

    @Option(names = "--hex", description = "Print keys as hex.")
    boolean hex;

    @Option(names = "--json", description = "Print one JSON object: the live tables, each abnormality (kind, file, "
            + "offset where known, message) and, for manifest-dump, every edit.")
    boolean json;

    @Spec
    CommandSpec spec;

    /** The abnormalities found, in the order found: each a JSON-ready object with kind, file and message. */
    private final List<Map<String, Object>> abnormalities = new ArrayList<>();
    private PrintWriter out;

    abstract boolean dump();

    @Command(name = "manifest-verify", mixinStandardHelpOptions = true,
            description = "Check the manifest and the tables it names.")
    public static final class Verify extends ManifestCommand {
        @Override
        boolean dump() {
            return false;
        }
    }

    @Command(name = "manifest-dump", mixinStandardHelpOptions = true,
            description = "Print every manifest edit, then check the tables as manifest-verify does.")
    public static final class Dump extends ManifestCommand {
        @Override
        boolean dump() {
            return true;
        }
    }

    @Override
    public Integer call() {
        out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        return ClosedDirectory.whileHeld(directory, out, err, json, () -> inspectHeld(err));
    }

    /** The tool's work, with the directory held closed. */
    private int inspectHeld(PrintWriter err) {
        if (!Files.isDirectory(directory)) {
            err.println("error: " + directory + " is not a directory");
            return 2;
        }
        NioStorage storage;
        ManifestLog.Replayed replayed;
        try {
            storage = NioStorage.open(directory);
            replayed = ManifestLog.replay(storage, Options.MAX_LEVELS);
        } catch (CorruptionException e) {
            found("corrupt", e.fileName(), e.offset(), e.getMessage());
            finish(null, 0, List.of());
            return 1;
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        if (replayed == null) {
            found("missing", FileNames.CURRENT, -1, "no " + FileNames.CURRENT + " in " + directory
                    + ", which holds a database's files: the file naming the live manifest is lost");
            finish(null, 0, List.of());
            return 1;
        }
        if (!json) {
            out.println("manifest " + replayed.manifestName() + ": " + replayed.edits().size() + " edits");
        }
        List<Object> edits = new ArrayList<>();
        for (int i = 0; i < replayed.edits().size(); i++) {
            VersionEdit edit = replayed.edits().get(i);
            if (dump() && json) {
                edits.add(editJson(i, edit));
            } else if (dump()) {
                out.println("edit " + i + ": next file " + edit.nextFileNumber() + ", last version " + edit.lastVersion()
                        + ", log number " + edit.logNumber());
                edit.deleted().forEach(d -> out.println("  delete L" + d.level() + " table " + d.fileNumber()));
                edit.added().forEach(a -> out.println("  add    L" + a.level() + " " + describe(a.table())));
                edit.valueLogDiscard().forEach((f, b) -> out.println("  value log " + f + ": +" + b + " discarded bytes"));
                edit.valueLogsCollected().forEach(f -> out.println("  value log " + f + " collected"));
                if (edit.droppedDeletionVersion() > 0) {
                    out.println("  compaction dropped deletions up to version " + edit.droppedDeletionVersion());
                }
            }
        }
        Map<Long, VersionEdit.Added> live = ManifestState.of(replayed.edits()).liveTables();
        checkTables(storage, live);
        checkOverlaps(live);
        checkOrphans(storage, live);
        finish(replayed.manifestName(), live.size(), edits);
        return abnormalities.isEmpty() ? 0 : 1;
    }

    /** Records an abnormality and prints it (as text at once; as JSON at the end). */
    private void found(String kind, String file, long offset, String message) {
        abnormalities.add(Json.object("kind", kind, "file", file, "offset", offset >= 0 ? offset : null, "message", message));
        if (!json) {
            out.println(kind + ": " + message);
        }
    }

    private void finish(String manifest, int liveTables, List<Object> edits) {
        if (json) {
            Map<String, Object> result = (abnormalities.isEmpty() ? Severity.OK : Severity.DAMAGED).addTo(
                    Json.object("manifest", manifest, "liveTableCount", liveTables, "abnormalities", abnormalities));
            if (dump()) {
                result.put("edits", edits);
            }
            out.println(Json.write(result));
        } else {
            out.println(liveTables + " live tables; abnormalities: " + abnormalities.size());
        }
    }

    private Map<String, Object> editJson(int index, VersionEdit edit) {
        return Json.object("edit", index, "nextFile", edit.nextFileNumber(), "lastVersion", edit.lastVersion(),
                "logNumber", edit.logNumber(),
                "deleted", edit.deleted().stream().<Object>map(d -> Json.object("level", d.level(), "table", d.fileNumber())).toList(),
                "added", edit.added().stream().<Object>map(a -> Json.object("level", a.level(), "table", a.table().fileNumber(),
                        "bytes", a.table().fileSize(),
                        "smallestKey", keys().text(KeyFormat.userKey(a.table().smallestKey())),
                        "smallestVersion", KeyFormat.version(a.table().smallestKey()),
                        "largestKey", keys().text(KeyFormat.userKey(a.table().largestKey())),
                        "largestVersion", KeyFormat.version(a.table().largestKey()))).toList(),
                "valueLogDiscard", edit.valueLogDiscard().entrySet().stream().<Object>map(e -> Json.object("file", e.getKey(),
                        "bytes", e.getValue())).toList(),
                "valueLogsCollected", List.copyOf(edit.valueLogsCollected()),
                "droppedDeletionVersion", edit.droppedDeletionVersion());
    }

    private void checkTables(NioStorage storage, Map<Long, VersionEdit.Added> live) {
        for (VersionEdit.Added a : live.values()) {
            TableMeta meta = a.table();
            String name = FileNames.name(meta.fileNumber(), FileNames.Kind.TABLE);
            try {
                if (!storage.exists(name)) {
                    found("missing", name, -1, name + " (L" + a.level() + ") is named by the manifest but does not exist");
                    continue;
                }
                long size = storage.size(name);
                if (size != meta.fileSize()) {
                    found("truncated", name, Math.min(size, meta.fileSize()), name + " is " + size
                            + " bytes, the manifest says " + meta.fileSize());
                    continue;
                }
                try (TableReader reader = TableReader.open(storage.openRead(name), name, meta.fileNumber(), false)) {
                    TableProperties p = reader.properties();
                    if (KeyFormat.compare(p.smallestKey(), meta.smallestKey()) != 0
                            || KeyFormat.compare(p.largestKey(), meta.largestKey()) != 0) {
                        found("key range", name, -1, name + " holds " + key(p.smallestKey()) + " .. " + key(p.largestKey())
                                + ", the manifest says " + key(meta.smallestKey()) + " .. " + key(meta.largestKey()));
                    }
                }
            } catch (CorruptionException e) {
                found("corrupt", e.fileName(), e.offset(), e.getMessage());
            } catch (IOException e) {
                found("unreadable", name, -1, name + ": " + e.getMessage());
            }
        }
    }

    private void checkOverlaps(Map<Long, VersionEdit.Added> live) {
        for (int level = 1; level < Options.MAX_LEVELS; level++) {
            int l = level;
            List<TableMeta> tables = new ArrayList<>(live.values().stream().filter(a -> a.level() == l)
                    .map(VersionEdit.Added::table).toList());
            tables.sort(Comparator.comparing(TableMeta::smallestKey, KeyFormat::compare));
            for (int i = 1; i < tables.size(); i++) {
                if (Bytes.compare(tables.get(i - 1).largestUserKey(), tables.get(i).smallestUserKey()) >= 0) {
                    found("overlapping", FileNames.name(tables.get(i).fileNumber(), FileNames.Kind.TABLE), -1,
                            "L" + level + " tables " + tables.get(i - 1).fileNumber() + " and " + tables.get(i).fileNumber()
                            + " overlap");
                }
            }
        }
    }

    private void checkOrphans(NioStorage storage, Map<Long, VersionEdit.Added> live) {
        try {
            String[] names = storage.list().toArray(new String[0]);
            Arrays.sort(names);
            for (String name : names) {
                long number = FileNames.parseNumber(name, FileNames.Kind.TABLE);
                if (number >= 0 && !live.containsKey(number)) {
                    found("extra (orphan)", name, -1, name + " is not in the manifest; the next open deletes it");
                }
            }
        } catch (IOException e) {
            found("unreadable directory", directory.toString(), -1, e.getMessage());
        }
    }

    private String describe(TableMeta meta) {
        return "table " + meta.fileNumber() + " (" + meta.fileSize() + " bytes, " + key(meta.smallestKey()) + " .. "
                + key(meta.largestKey()) + ")";
    }

    private String key(byte[] internalKey) {
        return keys().quoted(KeyFormat.userKey(internalKey)) + "@" + KeyFormat.version(internalKey);
    }

    private EntryFormat keys() {
        return new EntryFormat(hex);
    }
}
