package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.util.Bytes;
import io.trainkv.vlog.ValueLog;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * {@code trainkv vlog-verify} and {@code trainkv vlog-dump}: read value-log files of a closed
 * database (read-only), checking every entry's CRC and structure, and show per file the bytes
 * compaction has counted as discarded (from the manifest) and the live estimate. Unreadable bytes
 * at the end of the newest file are a torn tail, tolerated; anywhere else they are damage. Dump
 * also prints every entry. Exit 0 when sound, 1 on damage, 2 on usage or I/O errors.
 */
public abstract class VlogCommand implements Callable<Integer> {

    @Parameters(paramLabel = "DIR|FILE", description = "A database directory (all its value logs) or one .vlog file.")
    Path target;

    @Option(names = "--hex", description = "dump: print keys as hex.")
    boolean hex;

    @Option(names = "--json", description = "Print one JSON object per file (with vlog-dump, holding its entries).")
    boolean json;

    @Spec
    CommandSpec spec;

    abstract boolean dump();

    @Command(name = "vlog-verify", mixinStandardHelpOptions = true,
            description = "Check every entry of the value-log files and show discard estimates.")
    public static final class Verify extends VlogCommand {
        @Override
        boolean dump() {
            return false;
        }
    }

    @Command(name = "vlog-dump", mixinStandardHelpOptions = true,
            description = "Print every value-log entry (key, version, offset, length) and check as vlog-verify.")
    public static final class Dump extends VlogCommand {
        @Override
        boolean dump() {
            return true;
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        return ClosedDirectory.whileHeld(target, err, () -> inspectHeld(out, err));
    }

    /** The tool's work, with the directory held closed. */
    private int inspectHeld(PrintWriter out, PrintWriter err) {
        List<Path> logs;
        Map<Long, Long> discard = new HashMap<>();
        try {
            logs = DatabaseFiles.of(target, FileNames.Kind.VALUE_LOG);
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        if (Files.isDirectory(target)) {
            try {
                ManifestLog.Replayed manifest = ManifestLog.replay(NioStorage.open(target), Options.MAX_LEVELS);
                if (manifest != null) {
                    for (VersionEdit edit : manifest.edits()) {
                        edit.valueLogDiscard().forEach((file, bytes) -> discard.merge(file, bytes, Long::sum));
                    }
                }
            } catch (CorruptionException | IOException e) {
                err.println("note: the manifest cannot be read (" + e.getMessage() + "); no discard statistics");
            }
        }
        int damaged = 0;
        int unreadable = 0;
        for (Path log : logs) {
            int result = check(log, discard, out, err);
            damaged += result == 1 ? 1 : 0;
            unreadable += result == 2 ? 1 : 0;
        }
        if (!json) {
            out.println(logs.size() + " value-log file(s), " + damaged + " damaged"
                    + (unreadable > 0 ? ", " + unreadable + " unreadable" : ""));
        }
        return unreadable > 0 ? 2 : damaged > 0 ? 1 : 0;
    }

    /** Checks one file: 0 sound (a torn tail included), 1 damaged, 2 unreadable. */
    private int check(Path log, Map<Long, Long> discard, PrintWriter out, PrintWriter err) {
        String name = log.getFileName().toString();
        long fileId = FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG);
        long[] totals = new long[2];
        List<Object> entries = new ArrayList<>();
        try (ReadSource source = ReadSource.open(NioStorage.open(log.toAbsolutePath().getParent()).openRead(name), true)) {
            CorruptionException damage = ValueLog.scanFile(source, name, fileId, entry -> {
                totals[0]++;
                totals[1] += entry.length();
                if (dump()) {
                    String key = hex ? "0x" + java.util.HexFormat.of().formatHex(entry.key()) : Bytes.escape(entry.key());
                    if (json) {
                        entries.add(Json.object("key", key, "version", entry.version(), "offset", entry.offset(),
                                "length", entry.length()));
                    } else {
                        out.println("  " + (hex ? key : "\"" + key + "\"") + " @" + entry.version() + " offset "
                                + entry.offset() + ", " + entry.length() + " bytes");
                    }
                }
                return true;
            });
            long size = source.size();
            long discarded = Math.min(size, discard.getOrDefault(fileId, 0L));
            boolean tolerated = damage != null
                    && ValueLog.nextSoundEntry(source, name, fileId, damage.offset() + 1) < 0;
            if (json) {
                Map<String, Object> result = Json.object("file", name, "ok", damage == null || tolerated,
                        "entries", totals[0], "bytes", size, "discardedBytes", discarded, "liveEstimateBytes", size - discarded,
                        "tornTailOffset", tolerated ? damage.offset() : null,
                        "damage", damage != null && !tolerated
                                ? Json.object("offset", damage.offset(), "message", damage.getMessage()) : null);
                if (dump()) {
                    result.put("entryList", entries);
                }
                out.println(Json.write(result));
            } else {
                out.println(name + ": " + totals[0] + " entries, " + size + " bytes, discarded " + discarded
                        + " bytes (" + (size == 0 ? 0 : 100 * discarded / size) + "%), live estimate " + (size - discarded)
                        + " bytes");
                if (tolerated) {
                    out.println("  torn tail at offset " + damage.offset() + " (" + (size - damage.offset())
                            + " bytes, no sound entry after it), tolerated: a crash left it");
                } else if (damage != null) {
                    out.println("  damaged: " + damage.getMessage() + " (sound entries follow: not a torn tail)");
                }
            }
            return damage == null || tolerated ? 0 : 1;
        } catch (IOException e) {
            if (json) {
                out.println(Json.write(Json.object("file", name, "ok", false, "error", "cannot read: " + e.getMessage())));
            }
            err.println(name + ": cannot read: " + e.getMessage());
            return 2;
        }
    }
}
