package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.ManifestState;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.ReadableFile;
import io.trainkv.util.Bytes;
import io.trainkv.util.ValuePointer;
import io.trainkv.vlog.ValueLog;
import io.trainkv.vlog.ValueLogStage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv vlog-verify} and {@code trainkv vlog-dump}: read value-log files of a closed
 * database (read-only), checking every entry's CRC and structure, and show per file the bytes
 * compaction has counted as discarded (from the manifest) and the live estimate. Dump also prints
 * every entry. Verdicts by {@link Severity}: exit 0 when sound; 0 with a {@code warning:} line for
 * a tolerated torn tail (its offset and bytes); 1 on damage; 2 on usage or I/O errors.
 *
 * <p>Where a file's entries stop reading back, the rest of the database directory (the one the
 * file lies in) decides whether the bytes from there on are damage or a torn tail a crash left.
 * They are damage if a sound entry follows them (a crash tears only the end of a file); if a WAL
 * batch an open replays points to an entry there that recovery's own rule calls damage
 * ({@link ReplayPreview}, {@code ValuePointerCheck}: written in full and damaged since, a newer
 * value-log file exists, or the log holding the batch is not the newest); or if a live table
 * points at or past them (a value reaches a table only once it is durable). A file that reads back
 * cleanly to its end is damaged too if a live table points past that end (cut at an entry
 * boundary). Otherwise they are a
 * torn tail, tolerated with a warning, in any file: a crash tears the file that was active, and
 * recovery keeps that tail and starts a new file, so after a reopen a torn tail that nothing
 * reaches sits in an older file (value-log GC tolerates it by the same rule). A value-log file a
 * replayed batch points into that is missing is damage too.
 *
 * <p>The bytes alone are not evidence enough. A whole entry at the end of the newest file whose
 * header is intact, whose lengths add up exactly to the file's end and whose checksum fails may be
 * a flipped byte, but a crash leaves the same when the file's new size reached the disk and the
 * entry's last pages did not (they read back as zeros, or as the blocks' old contents). Such an
 * entry is damage only when a pointer shows that it was written in full, exactly as recovery
 * decides; without one, nothing an open keeps can lose it.
 *
 * <p>A file is read as an open that writes leaves it: followed by the bytes of its entries that
 * the value-log stage ({@code VLOG-STAGE}) holds past its end, which such an open appends
 * ({@link StagedValueLogFile}); a killed writer leaves its newest entries there. Its size is then
 * reported split into the bytes in the file (what {@code ls -l} shows) and those staged, and dump
 * marks each entry with bytes only in the stage.
 */
public abstract class VlogCommand implements Callable<Integer>, Inspection {

    /** The verdict of the last run ({@link Inspection}), null until it inspected its target. */
    private Severity severity;

    @Override
    public Severity severity() {
        return severity;
    }

    /** The warning lines of the last run ({@link Inspection}): one per tolerated file, and one for the stage's refusal. */
    private int warnings;

    @Override
    public int warnings() {
        return warnings;
    }

    @Parameters(paramLabel = "DIR|FILE", description = "A database directory (all its value logs) or one .vlog file.")
    Path target;

    /** Keys printed as hex ({@code vlog-dump --hex}). */
    boolean hex;

    @Option(names = "--json", description = "Print one JSON object per file (with vlog-dump, holding its entries).")
    boolean json;

    @Spec
    CommandSpec spec;

    abstract boolean dump();

    @Command(name = "vlog-verify", mixinStandardHelpOptions = true,
            description = {"Check every entry of the value-log files and show discard estimates.",
                "A database that was not closed may hold its newest entries in VLOG-STAGE: files are read as the next "
                        + "open leaves them, with those entries, and the bytes only in the stage are shown apart."})
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

        @Option(names = "--hex", description = "Print keys as hex.")
        void hexKeys(boolean on) {
            hex = on;
        }
    }

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        return ClosedDirectory.whileHeld(target, out, err, json, () -> inspectHeld(out, err));
    }

    /** The tool's work, with the directory held closed. */
    private int inspectHeld(PrintWriter out, PrintWriter err) {
        List<Path> logs;
        try {
            logs = DatabaseFiles.of(target, FileNames.Kind.VALUE_LOG);
        } catch (IOException e) {
            return ClosedDirectory.unusable(target, e.getMessage(), out, err, json);
        }
        Path directory = Files.isDirectory(target) ? target : target.toAbsolutePath().getParent();
        Map<Severity, Integer> counts = new EnumMap<>(Severity.class);
        Severity worst = Severity.OK;
        Severity stage = Severity.OK;
        int stageWarnings = 0;
        int missing;
        try (Evidence evidence = Evidence.of(directory, err)) {
            for (Path log : logs) {
                Severity result = check(log, evidence, out, err);
                counts.merge(result, 1, Integer::sum);
                worst = worst.and(result);
            }
            missing = Files.isDirectory(target) ? reportMissing(logs, evidence, out) : 0;
            if (evidence.stageRefusal != null) {
                worst = worst.and(Severity.TOLERATED);
                stageWarnings = 1;
                if (json) {
                    out.println(Json.write(Severity.TOLERATED.addTo(Json.object("file", FileNames.VALUE_LOG_STAGE,
                            "warning", evidence.stageRefusal))));
                } else {
                    out.println(FileNames.VALUE_LOG_STAGE + ":");
                    out.println("  warning: " + evidence.stageRefusal);
                }
            }
            if (evidence.stageDamage != null) {
                stage = Severity.DAMAGED;
                if (json) {
                    out.println(Json.write(Severity.DAMAGED.addTo(Json.object("file", FileNames.VALUE_LOG_STAGE,
                            "damage", Json.object("offset", evidence.stageDamage.offset(),
                                    "message", evidence.stageDamage.getMessage())))));
                } else {
                    out.println(FileNames.VALUE_LOG_STAGE + ": damaged");
                    out.println("  damaged at offset " + evidence.stageDamage.offset() + ": "
                            + evidence.stageDamage.getMessage());
                    out.println("  note: an open fails on it; the value-log files above were judged as if it held nothing");
                }
            }
            if (evidence.stageUnreadable != null) {
                stage = Severity.UNUSABLE;
                String why = FileNames.VALUE_LOG_STAGE + " cannot be read (" + evidence.stageUnreadable.getMessage()
                        + "): an open fails on it; the value-log files above were judged as if it held nothing";
                if (json) {
                    out.println(Json.write(Severity.UNUSABLE.addTo(Json.object("file", FileNames.VALUE_LOG_STAGE,
                            "error", why))));
                } else {
                    out.println(FileNames.VALUE_LOG_STAGE + ": unreadable");
                    out.println("  error: " + why);
                }
            }
            worst = worst.and(stage);
        }
        if (missing > 0) {
            counts.merge(Severity.DAMAGED, missing, Integer::sum);
            worst = worst.and(Severity.DAMAGED);
        }
        if (!json) {
            out.println((logs.size() + missing) + " value-log file(s), " + counts.getOrDefault(Severity.DAMAGED, 0)
                    + " damaged" + (counts.containsKey(Severity.TOLERATED) ? ", " + counts.get(Severity.TOLERATED)
                    + " with a tolerated torn tail" : "")
                    + (counts.containsKey(Severity.UNUSABLE) ? ", " + counts.get(Severity.UNUSABLE) + " unreadable" : "")
                    + (stage == Severity.OK ? "" : "; " + FileNames.VALUE_LOG_STAGE + " "
                            + (stage == Severity.UNUSABLE ? "unreadable" : stage.word())));
        }
        severity = worst;
        warnings = counts.getOrDefault(Severity.TOLERATED, 0) + stageWarnings;
        return worst.exitCode();
    }

    /**
     * Reports the value-log files that WAL batches an open replays point into but that are not in
     * the directory (recovery fails on them); returns how many.
     */
    private int reportMissing(List<Path> logs, Evidence evidence, PrintWriter out) {
        if (evidence.replay == null) {
            return 0;
        }
        Set<Long> present = new HashSet<>();
        logs.forEach(log -> present.add(FileNames.parseNumber(log.getFileName().toString(), FileNames.Kind.VALUE_LOG)));
        Map<Long, ReplayPreview.Unreadable> missing = new TreeMap<>();
        for (ReplayPreview.Unreadable pointer : evidence.replay.unreadable) {
            if (!present.contains(pointer.pointer().fileId())) {
                missing.putIfAbsent(pointer.pointer().fileId(), pointer);
            }
        }
        for (ReplayPreview.Unreadable pointer : missing.values()) {
            String name = FileNames.name(pointer.pointer().fileId(), FileNames.Kind.VALUE_LOG);
            if (json) {
                out.println(Json.write(Severity.DAMAGED.addTo(Json.object("file", name, "missing", true,
                        "damage", Json.object("offset", pointer.pointer().offset(), "message", pointer.describe())))));
            } else {
                out.println(name + ": missing");
                out.println("  damaged: " + pointer.describe());
            }
        }
        return missing.size();
    }

    /**
     * What the rest of the database directory says about the value-log files: discard statistics,
     * and the live pointers that tell damage from a torn tail. {@code replay} foresees what an open
     * does with the pointers of the WAL batches it replays, by recovery's own rule (null without a
     * readable manifest); the live tables' pointers are read once, for the first file judged,
     * keeping per file the pointer that reaches furthest. {@code stage} is the value-log stage
     * when it holds entries an open may append (null if not), released by {@link #close()}.
     */
    private static final class Evidence implements AutoCloseable {
        final Map<Long, Long> discard;
        final ReplayPreview replay;
        final ValueLogStage stage;
        /**
         * Why the value-log stage is refused, if it holds a header this version does not write or
         * is of another length and not only zeros (an open fails on it); else null.
         */
        final CorruptionException stageDamage;
        /** Why the value-log stage could not be read at all (an I/O error; an open fails on it too); else null. */
        final IOException stageUnreadable;
        /** Why an open takes none of the entries the stage holds, if they fail their checks ({@link ValueLogStage#refusal}); else null. */
        final String stageRefusal;
        private final NioStorage storage;
        private final ManifestState state;
        private Map<Long, TableReach> tableReach;
        private List<TablePointers.Unknown> unknownTables;

        private Evidence(Map<Long, Long> discard, ReplayPreview replay, ValueLogStage stage,
                         CorruptionException stageDamage, IOException stageUnreadable, String stageRefusal,
                         NioStorage storage, ManifestState state) {
            this.stageDamage = stageDamage;
            this.stageUnreadable = stageUnreadable;
            this.stageRefusal = stageRefusal;
            this.discard = discard;
            this.replay = replay;
            this.stage = stage;
            this.storage = storage;
            this.state = state;
        }

        /**
         * Reads the manifest and the value-log stage, and previews the WAL replay of
         * {@code directory}; reports on {@code err} what it cannot.
         */
        static Evidence of(Path directory, PrintWriter err) {
            ValueLogStage stage = null;
            CorruptionException stageDamage = null;
            IOException stageUnreadable = null;
            String stageRefusal = null;
            try {
                NioStorage storage = NioStorage.open(directory);
                stage = ValueLogStage.open(storage, false);
                stageRefusal = stage == null ? ValueLogStage.refusal(storage) : null; // an open stage was vouched for
            } catch (IOException e) {
                stageUnreadable = e;
            } catch (CorruptionException e) {
                stageDamage = e;
            }
            ManifestState state;
            NioStorage storage;
            try {
                storage = NioStorage.open(directory);
                ManifestLog.Replayed manifest = ManifestLog.replay(storage, Options.MAX_LEVELS);
                if (manifest == null) {
                    return new Evidence(Map.of(), null, stage, stageDamage, stageUnreadable, stageRefusal, null, null);
                }
                state = ManifestState.of(manifest.edits());
            } catch (CorruptionException | IOException e) {
                err.println("note: the manifest cannot be read (" + e.getMessage() + "); no discard statistics, and "
                        + "no pointers to tell damage from a torn tail");
                return new Evidence(Map.of(), null, stage, stageDamage, stageUnreadable, stageRefusal, null, null);
            }
            ReplayPreview replay = null;
            try {
                replay = ReplayPreview.of(storage, state);
            } catch (IOException e) {
                err.println("note: the write-ahead logs cannot be read (" + e.getMessage() + "); their pointers are "
                        + "not used to tell damage from a torn tail");
            }
            return new Evidence(state.valueLogDiscard(), replay, stage, stageDamage, stageUnreadable, stageRefusal, storage, state);
        }

        /**
         * Opens value-log file {@code log} to be read as an open that writes leaves it: followed
         * by the bytes the stage holds past its end, if it holds any ({@link StagedValueLogFile#open}).
         *
         * @throws IOException if the file cannot be opened, its size read, or it cannot be mapped
         */
        StagedValueLogFile.Source open(Path log, long fileId) throws IOException {
            ReadableFile file = NioStorage.open(log.toAbsolutePath().getParent()).openRead(log.getFileName().toString());
            return StagedValueLogFile.open(file, stage, fileId);
        }

        @Override
        public void close() {
            if (stage != null) {
                stage.close();
            }
        }

        /** The live-table pointer into {@code fileId} whose entry ends furthest, or null (none, or no manifest). */
        TableReach tableReach(long fileId) {
            if (state == null) {
                return null;
            }
            if (tableReach == null) {
                tableReach = new HashMap<>();
                unknownTables = TablePointers.forEach(storage, state, (table, key, version, pointer) ->
                        tableReach.merge(pointer.fileId(), new TableReach(table, key, version, pointer),
                                (a, b) -> b.end() > a.end() ? b : a));
            }
            return tableReach.get(fileId);
        }

        /** Why the evidence for a torn tail is incomplete, or "" if it is not. */
        String gaps() {
            if (state == null) {
                return "; no readable manifest, so no pointer into it was checked";
            }
            String gaps = replay == null ? "; the write-ahead logs could not be read" : "";
            if (unknownTables != null && !unknownTables.isEmpty()) {
                gaps += "; " + unknownTables.size() + " live table(s) could not be read (" + unknownTables.get(0).describe() + ")";
            }
            return gaps;
        }
    }

    /** A live table's pointer into a value-log file, and the offset just past the bytes it names. */
    private record TableReach(String table, byte[] key, long version, ValuePointer pointer) {
        long end() {
            return pointer.offset() + pointer.length();
        }
    }

    /**
     * What one file's bytes amount to: {@code damage} (null if none) with its message, or a
     * tolerated torn tail at {@code tornTail} (-1 if none) with a warning; {@code zeroTail} (-1 if
     * none) is where zeros start that run to the end of the file, the space preallocated ahead of
     * the appends, which loses nothing (with a note).
     */
    private record Verdict(CorruptionException damage, String message, long tornTail, String warning, long zeroTail,
                           String note) {

        Verdict(CorruptionException damage, String message, long tornTail, String warning) {
            this(damage, message, tornTail, warning, -1, null);
        }
    }

    /**
     * Judges the end of a file's sound entries, {@code damage} or (null) the file's end: damage if a
     * sound entry follows, if a WAL batch an open keeps points to an unreadable entry of the file
     * (recovery's rule, {@link ReplayPreview}), or if a live table points at or past the unreadable
     * bytes or past the end of the file (a value is flushed only once durable); else a torn tail,
     * tolerated. A file cut at an entry boundary reads back cleanly: only the live tables' pointers
     * past its end show the loss, so they are read for every file (once, for all of them).
     */
    private static Verdict judge(ReadSource source, String name, long fileId, long size, CorruptionException damage,
                                 Evidence evidence) throws IOException {
        if (damage != null) {
            long sound = ValueLog.nextSoundEntry(source, name, fileId, damage.offset() + 1);
            if (sound >= 0) {
                return new Verdict(damage, damage.getMessage() + " (a sound entry follows at offset " + sound
                        + ": not a torn tail)", -1, null);
            }
        }
        List<ReplayPreview.Unreadable> pointed = evidence.replay == null ? List.of() : evidence.replay.into(fileId);
        for (ReplayPreview.Unreadable pointer : pointed) {
            if (pointer.outcome() != ReplayPreview.Outcome.DROPPED) {
                CorruptionException problem = damage != null ? damage : pointer.finding().problem();
                return new Verdict(problem, problem.getMessage() + " (" + pointer.evidence() + ")", -1, null);
            }
        }
        String dropped = pointed.isEmpty() ? "" : " (" + pointed.get(0).evidence() + ")";
        long readable = damage != null ? damage.offset() : size;
        TableReach reach = evidence.tableReach(fileId);
        if (reach != null && reach.end() > readable) {
            CorruptionException problem = damage != null ? damage : new CorruptionException(name, size, "value log "
                    + name + " at offset " + size + ": the file ends there, before the end of an entry a live table "
                    + "points to");
            return new Verdict(problem, problem.getMessage() + " (table " + reach.table() + " (key \""
                    + Bytes.escape(reach.key()) + "\", version " + reach.version() + ") points to the entry at offset "
                    + reach.pointer().offset() + ", and a value reaches a table only once it is durable: not a torn tail)",
                    -1, null);
        }
        if (damage == null) {
            return pointed.isEmpty() ? new Verdict(null, null, -1, null) : new Verdict(null, null, size,
                    "torn tail at offset " + size + " (0 bytes: the file ends before an entry a WAL batch names), "
                            + "tolerated" + dropped);
        }
        if (pointed.isEmpty() && source.isZeros(damage.offset(), size)) {
            return new Verdict(null, null, -1, null, damage.offset(), (size - damage.offset()) + " bytes of zeros after"
                    + " the last entry, from offset " + damage.offset() + ": space preallocated ahead of the appends (the"
                    + " database was not closed while this file was active); no entry is lost");
        }
        return new Verdict(null, null, damage.offset(), "torn tail at offset " + damage.offset() + " ("
                + (size - damage.offset()) + " bytes; " + damage.getMessage() + "), tolerated: no sound entry follows, "
                + "and nothing an open keeps points into it" + dropped + evidence.gaps());
    }

    /**
     * Checks one file: {@link Severity#OK}, {@link Severity#TOLERATED} (a torn tail, reported on a
     * warning line), {@link Severity#DAMAGED} or {@link Severity#UNUSABLE} (unreadable).
     */
    private Severity check(Path log, Evidence evidence, PrintWriter out, PrintWriter err) {
        String name = log.getFileName().toString();
        long fileId = FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG);
        long[] totals = new long[2];
        List<Object> entries = new ArrayList<>();
        try (StagedValueLogFile.Source opened = evidence.open(log, fileId)) {
            ReadSource source = opened.source();
            long staged = opened.stagedBytes();
            CorruptionException damage = ValueLog.scanFile(source, name, fileId, entry -> {
                totals[0]++;
                totals[1] += entry.length();
                if (dump()) {
                    EntryFormat shown = new EntryFormat(hex);
                    long stagedOfEntry = opened.stagedOf(entry.offset(), entry.length());
                    if (json) {
                        entries.add(Json.object("key", shown.text(entry.key()), "version", entry.version(),
                                "offset", entry.offset(), "length", entry.length(), "staged", stagedOfEntry > 0));
                    } else {
                        out.println("  " + shown.quoted(entry.key()) + " @" + entry.version() + " offset "
                                + entry.offset() + ", " + entry.length() + " bytes" + (stagedOfEntry == 0 ? ""
                                : stagedOfEntry == entry.length() ? " (staged in " + FileNames.VALUE_LOG_STAGE + ")"
                                : " (its last " + stagedOfEntry + " bytes staged in " + FileNames.VALUE_LOG_STAGE + ")"));
                    }
                }
                return true;
            });
            long size = source.size();
            long discarded = Math.min(size, evidence.discard.getOrDefault(fileId, 0L));
            Verdict verdict = judge(source, name, fileId, size, damage, evidence);
            if (verdict.warning() != null && !DatabaseFiles.isNewest(log, FileNames.Kind.VALUE_LOG)) {
                verdict = new Verdict(null, null, verdict.tornTail(), verdict.warning() + "; not the newest value-log "
                        + "file: a crash tore it while it was active, and the open after the crash started a new file "
                        + "(an open never appends to an older one)");
            }
            Severity severity = verdict.damage() != null ? Severity.DAMAGED
                    : verdict.warning() != null ? Severity.TOLERATED : Severity.OK;
            if (json) {
                Map<String, Object> result = severity.addTo(Json.object("file", name,
                        "entryCount", totals[0], "bytes", size, "fileBytes", opened.fileEnd(),
                        "discardedBytes", discarded, "liveEstimateBytes", size - discarded,
                        "tornTailOffset", verdict.tornTail() >= 0 ? verdict.tornTail() : null,
                        "warning", verdict.warning(),
                        "damage", verdict.damage() != null
                                ? Json.object("offset", verdict.damage().offset(), "message", verdict.message()) : null));
                if (staged > 0) {
                    result.put("staged", Json.object("offset", opened.fileEnd(), "bytes", staged));
                }
                if (verdict.zeroTail() >= 0) {
                    result.put("zeroTail", Json.object("offset", verdict.zeroTail(), "bytes", size - verdict.zeroTail()));
                    result.put("note", verdict.note());
                }
                if (dump()) {
                    result.put("entries", entries);
                }
                out.println(Json.write(result));
            } else {
                boolean opens = verdict.damage() == null; // an open fails on damage before it appends anything
                out.println(name + ": " + totals[0] + " entries, " + size + " bytes" + (staged == 0 ? "" : " ("
                        + opened.fileEnd() + " in the file + " + staged + " staged in " + FileNames.VALUE_LOG_STAGE
                        + (opens ? ", appended by the next open that writes)" : ")")) + ", discarded " + discarded
                        + " bytes (" + (size == 0 ? 0 : 100 * discarded / size) + "%), live estimate " + (size - discarded)
                        + " bytes");
                if (staged > 0) {
                    out.println("  note: the " + staged + " bytes from offset " + opened.fileEnd() + " are entries "
                            + FileNames.VALUE_LOG_STAGE + " holds for this file (the database was not closed); "
                            + (opens ? "an open that writes appends them to it"
                                    : "an open that writes would append them to it, but it fails on the damage below"));
                }
                if (verdict.warning() != null) {
                    out.println("  warning: " + verdict.warning());
                } else if (verdict.damage() != null) {
                    out.println("  damaged: " + verdict.message());
                } else if (verdict.note() != null) {
                    out.println("  note: " + verdict.note());
                }
            }
            return severity;
        } catch (IOException e) {
            if (json) {
                out.println(Json.write(Severity.UNUSABLE.addTo(Json.object("file", name,
                        "error", "cannot read: " + e.getMessage()))));
            }
            err.println(name + ": cannot read: " + e.getMessage());
            return Severity.UNUSABLE;
        }
    }
}
