package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.manifest.ManifestLog;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv manifest-verify} and {@code trainkv manifest-dump}: replay the manifest of a
 * closed database directory (read-only), checking every record's CRC, then check that every table
 * it names exists with the recorded size, a sound footer and the recorded key range, and list
 * missing, truncated, overlapping and orphan (unnamed) tables, ending with an abnormalities count.
 * Dump also prints every edit. Exit 0 when there is nothing abnormal, 1 otherwise, 2 on usage or
 * I/O errors.
 */
public abstract class ManifestCommand implements Callable<Integer> {

    private static final int MAX_LEVELS = 8;

    @Parameters(paramLabel = "DIR", description = "A closed database directory.")
    Path directory;

    @Option(names = "--hex", description = "Print keys as hex.")
    boolean hex;

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
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        String refusal = ClosedDirectory.refusal(directory);
        if (refusal != null) {
            out.println("error: " + refusal);
            return 2;
        }
        if (!Files.isDirectory(directory)) {
            out.println("error: " + directory + " is not a directory");
            return 2;
        }
        NioStorage storage;
        ManifestLog.Replayed replayed;
        try {
            storage = NioStorage.open(directory);
            replayed = ManifestLog.replay(storage, MAX_LEVELS);
        } catch (CorruptionException e) {
            out.println("corrupt: " + e.getMessage());
            out.println("abnormalities: 1");
            return 1;
        } catch (IOException e) {
            out.println("error: " + e.getMessage());
            return 2;
        }
        if (replayed == null) {
            out.println("error: no CURRENT in " + directory + ": not a TrainKV database");
            return 2;
        }
        out.println("manifest " + replayed.manifestName() + ": " + replayed.edits().size() + " edits");
        Map<Long, VersionEdit.Added> live = new LinkedHashMap<>();
        for (int i = 0; i < replayed.edits().size(); i++) {
            VersionEdit edit = replayed.edits().get(i);
            if (dump()) {
                out.println("edit " + i + ": next file " + edit.nextFileNumber() + ", last version " + edit.lastVersion()
                        + ", log number " + edit.logNumber());
                edit.deleted().forEach(d -> out.println("  delete L" + d.level() + " table " + d.fileNumber()));
                edit.added().forEach(a -> out.println("  add    L" + a.level() + " " + describe(a.table())));
                edit.valueLogDiscard().forEach((f, b) -> out.println("  value log " + f + ": +" + b + " discarded bytes"));
                edit.valueLogsCollected().forEach(f -> out.println("  value log " + f + " collected"));
            }
            edit.deleted().forEach(d -> live.remove(d.fileNumber()));
            edit.added().forEach(a -> live.put(a.table().fileNumber(), a));
        }
        int abnormalities = checkTables(storage, live, out);
        abnormalities += checkOverlaps(live, out);
        abnormalities += checkOrphans(storage, live, out);
        out.println(live.size() + " live tables; abnormalities: " + abnormalities);
        return abnormalities == 0 ? 0 : 1;
    }

    private int checkTables(NioStorage storage, Map<Long, VersionEdit.Added> live, PrintWriter out) {
        int problems = 0;
        for (VersionEdit.Added a : live.values()) {
            TableMeta meta = a.table();
            String name = FileNames.name(meta.fileNumber(), FileNames.Kind.TABLE);
            try {
                if (!storage.exists(name)) {
                    out.println("missing: " + name + " (L" + a.level() + ")");
                    problems++;
                    continue;
                }
                long size = storage.size(name);
                if (size != meta.fileSize()) {
                    out.println("truncated: " + name + " is " + size + " bytes, the manifest says " + meta.fileSize());
                    problems++;
                    continue;
                }
                try (TableReader reader = TableReader.open(storage.openRead(name), name, meta.fileNumber(), false)) {
                    TableProperties p = reader.properties();
                    if (KeyFormat.compare(p.smallestKey(), meta.smallestKey()) != 0
                            || KeyFormat.compare(p.largestKey(), meta.largestKey()) != 0) {
                        out.println("key range: " + name + " holds " + key(p.smallestKey()) + " .. " + key(p.largestKey())
                                + ", the manifest says " + key(meta.smallestKey()) + " .. " + key(meta.largestKey()));
                        problems++;
                    }
                }
            } catch (CorruptionException e) {
                out.println("corrupt: " + e.getMessage());
                problems++;
            } catch (IOException e) {
                out.println("unreadable: " + name + ": " + e.getMessage());
                problems++;
            }
        }
        return problems;
    }

    private static int checkOverlaps(Map<Long, VersionEdit.Added> live, PrintWriter out) {
        int problems = 0;
        for (int level = 1; level < MAX_LEVELS; level++) {
            int l = level;
            List<TableMeta> tables = new ArrayList<>(live.values().stream().filter(a -> a.level() == l)
                    .map(VersionEdit.Added::table).toList());
            tables.sort(Comparator.comparing(TableMeta::smallestKey, KeyFormat::compare));
            for (int i = 1; i < tables.size(); i++) {
                if (Bytes.compare(tables.get(i - 1).largestUserKey(), tables.get(i).smallestUserKey()) >= 0) {
                    out.println("overlapping: L" + level + " tables " + tables.get(i - 1).fileNumber() + " and "
                            + tables.get(i).fileNumber());
                    problems++;
                }
            }
        }
        return problems;
    }

    private static int checkOrphans(NioStorage storage, Map<Long, VersionEdit.Added> live, PrintWriter out) {
        int problems = 0;
        try {
            String[] names = storage.list().toArray(new String[0]);
            Arrays.sort(names);
            for (String name : names) {
                long number = FileNames.parseNumber(name, FileNames.Kind.TABLE);
                if (number >= 0 && !live.containsKey(number)) {
                    out.println("extra (orphan): " + name + " is not in the manifest; the next open deletes it");
                    problems++;
                }
            }
        } catch (IOException e) {
            out.println("unreadable directory: " + e.getMessage());
            problems++;
        }
        return problems;
    }

    private String describe(TableMeta meta) {
        return "table " + meta.fileNumber() + " (" + meta.fileSize() + " bytes, " + key(meta.smallestKey()) + " .. "
                + key(meta.largestKey()) + ")";
    }

    private String key(byte[] internalKey) {
        byte[] user = KeyFormat.userKey(internalKey);
        String shown = hex ? "0x" + java.util.HexFormat.of().formatHex(user) : "\"" + Bytes.escape(user) + "\"";
        return shown + "@" + KeyFormat.version(internalKey);
    }
}
