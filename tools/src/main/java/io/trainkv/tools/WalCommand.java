package io.trainkv.tools;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.util.ValueStruct;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalCorruptionException;
import io.trainkv.wal.WalFormat;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv wal-verify} and {@code trainkv wal-dump}: read write-ahead logs without opening
 * the database (read-only). Verify checks every record's CRC and batch structure and says where
 * the first bad record is and whether it is a tolerable torn tail (only in the newest log); dump
 * also prints each batch with its version and keys. Exit 0 when sound (a torn tail of the newest
 * log is sound), 1 when damage was found, 2 on usage or I/O errors. Value-log durable marks are
 * records too: dump shows each as {@code value-log durable mark: 000002.vlog to 53771 bytes}.
 */
public abstract class WalCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR|FILE", description = "A database directory (all its WALs) or one .wal file.")
    Path target;

    @Option(names = "--json", description = "Print one JSON object per log (with wal-dump, holding its batches, each entry an object "
            + "as in sstdump scan --json).")
    boolean json;

    @Spec
    CommandSpec spec;

    @Option(names = "--hex", description = "dump: print keys as hex.")
    boolean hex;

    abstract boolean dump();

    private EntryFormat shown;

    @Command(name = "wal-verify", mixinStandardHelpOptions = true,
            description = "Check every record of the write-ahead logs of a closed database directory.")
    public static final class Verify extends WalCommand {
        @Override
        boolean dump() {
            return false;
        }
    }

    @Command(name = "wal-dump", mixinStandardHelpOptions = true,
            description = "Print every batch of the write-ahead logs with its version and keys.")
    public static final class Dump extends WalCommand {
        @Override
        boolean dump() {
            return true;
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        shown = new EntryFormat(hex);
        return ClosedDirectory.whileHeld(target, out, err, json, () -> inspectHeld(out, err));
    }

    /** The tool's work, with the directory held closed. */
    private int inspectHeld(PrintWriter out, PrintWriter err) {
        List<Path> logs;
        try {
            logs = DatabaseFiles.of(target, FileNames.Kind.WAL);
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        int damaged = 0;
        int unreadable = 0;
        for (Path log : logs) {
            int result;
            try {
                result = check(log, DatabaseFiles.isNewest(log, FileNames.Kind.WAL), out, err);
            } catch (IOException e) {
                err.println("error: " + e.getMessage());
                return 2;
            }
            damaged += result == 1 ? 1 : 0;
            unreadable += result == 2 ? 1 : 0;
        }
        if (!json) {
            out.println(logs.size() + " log(s), " + damaged + " damaged" + (unreadable > 0 ? ", " + unreadable + " unreadable" : ""));
        }
        return unreadable > 0 ? 2 : damaged > 0 ? 1 : 0;
    }

    /** Checks one log: 0 sound (a tolerated torn tail included), 1 damaged, 2 unreadable. */
    private int check(Path log, boolean newest, PrintWriter out, PrintWriter err) {
        String name = log.getFileName().toString();
        long records = 0;
        long entries = 0;
        try (ReadableFile file = NioStorage.open(log.toAbsolutePath().getParent()).openRead(name)) {
            WalReader reader = new WalReader(file, name, newest);
            ByteBuffer payload;
            List<Object> batches = new ArrayList<>();
            while ((payload = reader.next()) != null) {
                long offset = reader.recordOffset();
                List<Object> keys = new ArrayList<>();
                long[] mark = new long[2];
                long version;
                try {
                    version = WalBatchDecoder.decode(payload, new WalBatchDecoder.Visitor() {
                        @Override
                        public void entry(long v, byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
                            ValueStruct entry = new ValueStruct(v, meta, userMeta, expiresAt, value);
                            keys.add(json ? shown.json(key, entry) : describe(key, entry));
                        }

                        @Override
                        public void durableMark(long fileId, long durableLength) {
                            mark[0] = fileId;
                            mark[1] = durableLength;
                        }
                    });
                } catch (IllegalArgumentException e) {
                    if (json) {
                        out.println(Json.write(Json.object("file", name, "ok", false, "badOffset", offset,
                                "error", "malformed batch: " + e.getMessage())));
                    }
                    err.println(name + " at offset " + offset + ": malformed batch: " + e.getMessage());
                    return 1;
                }
                records++;
                entries += keys.size();
                if (version == WalFormat.DURABLE_MARK_VERSION) {
                    String valueLog = FileNames.name(mark[0], FileNames.Kind.VALUE_LOG);
                    if (dump() && json) {
                        batches.add(Json.object("offset", offset, "durableMark",
                                Json.object("valueLog", valueLog, "file", mark[0], "bytes", mark[1])));
                    } else if (dump()) {
                        out.println(String.format(Locale.ROOT, "%s offset %d: value-log durable mark: %s to %d bytes",
                                name, offset, valueLog, mark[1]));
                    }
                } else if (dump() && json) {
                    batches.add(Json.object("version", version, "offset", offset, "entries", keys));
                } else if (dump()) {
                    out.println(String.format(Locale.ROOT, "%s @%d offset %d: %s", name, version, offset,
                            keys.stream().map(String::valueOf).collect(Collectors.joining(", "))));
                }
            }
            String tail = reader.tornTailOffset() >= 0 ? "torn tail at offset " + reader.tornTailOffset() + " ("
                    + reader.tornTailReason() + "), tolerated" : "clean end";
            if (json) {
                Map<String, Object> result = Json.object("file", name, "ok", true, "records", records, "entries", entries,
                        "bytes", reader.fileSize(), "tornTailOffset", reader.tornTailOffset() >= 0 ? reader.tornTailOffset() : null);
                if (dump()) {
                    result.put("batches", batches);
                }
                out.println(Json.write(result));
            } else {
                out.println(name + ": " + records + " records, " + entries + " entries, " + reader.fileSize()
                        + " bytes, " + tail);
            }
            return 0;
        } catch (WalCorruptionException e) {
            if (json) {
                out.println(Json.write(Json.object("file", name, "ok", false, "badOffset", e.offset(), "error", e.getMessage())));
            }
            err.println(e.getMessage() + (newest ? "" : " (not the newest log: a bad record here is damage, not a torn tail)"));
            return 1;
        } catch (IOException e) {
            if (json) {
                out.println(Json.write(Json.object("file", name, "ok", false, "error", "cannot read: " + e.getMessage())));
            }
            err.println(name + ": cannot read: " + e.getMessage());
            return 2;
        }
    }

    /** One entry of a batch for the text output: its key and what it holds, not the value itself. */
    private String describe(byte[] key, ValueStruct entry) {
        String held = entry.isTombstone() || entry.isValuePointer() ? " " + shown.value(entry)
                : " (" + entry.value().length + " bytes)";
        return shown.quoted(key) + held + EntryFormat.marks(entry);
    }
}
