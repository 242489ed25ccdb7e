package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.ManifestState;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.util.ValueStruct;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalCorruptionException;
import io.trainkv.wal.WalFormat;
import io.trainkv.wal.WalReader;
import io.trainkv.wal.WalReplay;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
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
 * also prints each batch with its version and keys. A log whose number the manifest gives a live
 * table is not a log (a renamed table): damage. Verdicts by {@link Severity}: exit 0 when sound;
 * 0 with a {@code warning:} line saying what an open drops (offset, records, keys, bytes) for a
 * torn tail of the newest log; 0 with a {@code note:} line for zeros after the newest log's last
 * record (space preallocated ahead of the appends: no record is lost); 1 when damage was found; 2
 * on usage or I/O errors. Value-log
 * durable marks are records too: dump shows each as
 * {@code value-log durable mark: 000002.vlog to 53771 bytes}.
 */
public abstract class WalCommand implements Callable<Integer>, Inspection {

    /** The verdict of the last run ({@link Inspection}), null until it inspected its target. */
    private Severity severity;

    @Override
    public Severity severity() {
        return severity;
    }

    /** The warning lines of the last run ({@link Inspection}): one per tolerated file. */
    private int warnings;

    @Override
    public int warnings() {
        return warnings;
    }

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
        Set<Long> liveTables;
        try {
            logs = DatabaseFiles.of(target, FileNames.Kind.WAL);
            liveTables = liveTables(err);
        } catch (IOException e) {
            return ClosedDirectory.unusable(target, e.getMessage(), out, err, json);
        }
        Map<Severity, Integer> counts = new EnumMap<>(Severity.class);
        Severity worst = Severity.OK;
        for (Path log : logs) {
            Severity result;
            try {
                result = check(log, DatabaseFiles.isNewest(log, FileNames.Kind.WAL), liveTables, out, err);
            } catch (IOException e) {
                err.println("error: " + e.getMessage());
                return Severity.UNUSABLE.exitCode();
            }
            counts.merge(result, 1, Integer::sum);
            worst = worst.and(result);
        }
        if (!json) {
            out.println(logs.size() + " log(s), " + counts.getOrDefault(Severity.DAMAGED, 0) + " damaged"
                    + (counts.containsKey(Severity.TOLERATED) ? ", " + counts.get(Severity.TOLERATED) + " with a torn tail "
                    + "an open drops" : "")
                    + (counts.containsKey(Severity.UNUSABLE) ? ", " + counts.get(Severity.UNUSABLE) + " unreadable" : ""));
        }
        severity = worst;
        warnings = counts.getOrDefault(Severity.TOLERATED, 0);
        return worst.exitCode();
    }

    /**
     * The numbers of the tables the directory's manifest records as live (a WAL cannot have one:
     * {@link WalReplay#notALog}); empty, with a note on {@code err}, if the manifest cannot be read.
     */
    private Set<Long> liveTables(PrintWriter err) throws IOException {
        Path directory = Files.isDirectory(target) ? target : target.toAbsolutePath().getParent();
        try {
            ManifestLog.Replayed manifest = ManifestLog.replay(NioStorage.open(directory), Options.MAX_LEVELS);
            return manifest == null ? Set.of() : ManifestState.of(manifest.edits()).liveTables().keySet();
        } catch (CorruptionException e) {
            err.println("note: the manifest cannot be read (" + e.getMessage() + "); WAL numbers are not checked "
                    + "against the live tables");
            return Set.of();
        }
    }

    /**
     * Checks one log: {@link Severity#OK}, {@link Severity#TOLERATED} (a torn tail of the newest log,
     * reported with what an open drops), {@link Severity#DAMAGED} or {@link Severity#UNUSABLE}
     * (unreadable).
     */
    private Severity check(Path log, boolean newest, Set<Long> liveTables, PrintWriter out, PrintWriter err) {
        String name = log.getFileName().toString();
        long records = 0;
        long entries = 0;
        CorruptionException notALog = WalReplay.notALog(FileNames.parseNumber(name, FileNames.Kind.WAL), liveTables);
        if (notALog != null) {
            return damaged(name, notALog.offset(), notALog.getMessage(), out, err);
        }
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
                    return damaged(name, offset, name + " at offset " + offset + ": malformed batch: " + e.getMessage(),
                            out, err);
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
            long zerosAt = reader.tornTailIsZeros() ? reader.tornTailOffset() : -1;
            long torn = zerosAt >= 0 ? -1 : reader.tornTailOffset();
            Severity severity = torn >= 0 ? Severity.TOLERATED : Severity.OK;
            String warning = torn < 0 ? null : "torn tail at offset " + torn + " (" + reader.tornTailReason()
                    + "): an open drops " + reader.tornTailRecords() + " record(s) holding " + reader.tornTailEntries()
                    + " key(s), " + (reader.fileSize() - torn) + " bytes, as never committed (the newest log may end "
                    + "in a write a crash cut short)";
            String note = zerosAt < 0 ? null : (reader.fileSize() - zerosAt) + " bytes of zeros after the last record,"
                    + " from offset " + zerosAt + ": space preallocated ahead of the appends (the database was not"
                    + " closed); no record is lost, an open cuts them off";
            if (json) {
                Map<String, Object> result = severity.addTo(Json.object("file", name, "recordCount", records,
                        "entryCount", entries, "bytes", reader.fileSize(), "tornTailOffset", torn >= 0 ? torn : null));
                if (zerosAt >= 0) {
                    result.put("zeroTail", Json.object("offset", zerosAt, "bytes", reader.fileSize() - zerosAt));
                    result.put("note", note);
                }
                if (torn >= 0) {
                    result.put("tornTail", Json.object("offset", torn, "bytes", reader.fileSize() - torn,
                            "recordCount", reader.tornTailRecords(), "entryCount", reader.tornTailEntries(),
                            "reason", reader.tornTailReason()));
                    result.put("warning", warning);
                }
                if (dump()) {
                    result.put("batches", batches);
                }
                out.println(Json.write(result));
            } else {
                out.println(name + ": " + records + " records, " + entries + " entries, " + reader.fileSize()
                        + " bytes, " + (torn >= 0 ? "ends in a torn tail" : zerosAt >= 0 ? "clean end, then zeros" : "clean end"));
                if (warning != null) {
                    out.println("  warning: " + warning);
                }
                if (note != null) {
                    out.println("  note: " + note);
                }
            }
            return severity;
        } catch (WalCorruptionException e) {
            return damaged(name, e.offset(), e.getMessage()
                    + (newest ? "" : " (not the newest log: a bad record here is damage, not a torn tail)"), out, err);
        } catch (IOException e) {
            if (json) {
                out.println(Json.write(Severity.UNUSABLE.addTo(Json.object("file", name, "error",
                        "cannot read: " + e.getMessage()))));
            }
            err.println(name + ": cannot read: " + e.getMessage());
            return Severity.UNUSABLE;
        }
    }

    /** Reports damage in log {@code name} at {@code offset}; returns {@link Severity#DAMAGED}. */
    private Severity damaged(String name, long offset, String message, PrintWriter out, PrintWriter err) {
        if (json) {
            out.println(Json.write(Severity.DAMAGED.addTo(Json.object("file", name, "badOffset", offset,
                    "error", message))));
        }
        err.println(message);
        return Severity.DAMAGED;
    }

    /** One entry of a batch for the text output: its key and what it holds, not the value itself. */
    private String describe(byte[] key, ValueStruct entry) {
        String held = entry.isTombstone() || entry.isValuePointer() ? " " + shown.value(entry)
                : " (" + entry.value().length + " bytes)";
        return shown.quoted(key) + held + EntryFormat.marks(entry);
    }
}
