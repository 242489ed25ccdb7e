package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.manifest.ManifestState;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValuePointerCheck;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalCorruptionException;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What {@code TrainKV.open} would do with the WAL batches of a closed directory, foreseen without
 * opening it, so that {@code check} and {@code vlog-verify} give the verdict an open gives. It
 * reads the WALs recovery replays (those numbered at least the manifest's log number, oldest
 * first) with the engine's {@link WalReader}, and judges every value pointer with the engine's
 * {@link ValuePointerCheck}, the class recovery itself asks whether an entry that does not read
 * back is a torn tail or damage. Around that rule it follows recovery's replay
 * ({@code io.trainkv.WalReplay}): a pointer a crash may have left unreadable ends the newest WAL at
 * its batch (the open drops that batch and the rest of the log as never committed); any other
 * unreadable pointer fails the open, unless a later write of the same key, replayed too, makes the
 * value dead (then the open logs it and goes on). Damage in a record or batch of a WAL fails the
 * open too, and ends the preview as it ends the replay. Reads only.
 */
final class ReplayPreview {

    /** What an open does about a pointer whose value-log entry does not read back. */
    enum Outcome {
        /** The open fails with {@link CorruptionException} naming the value-log file and offset. */
        FAILS_OPEN,
        /** A later replayed write of the key replaced the value: the open logs it and goes on. */
        SUPERSEDED,
        /** The batch ends the newest WAL: the open drops it and every record after it. */
        DROPPED
    }

    /**
     * A pointer of a replayed batch whose entry does not read back: the WAL and the record offset
     * (bytes) of its batch, the key and batch version, what {@link ValuePointerCheck} found, what
     * the open does about it, and for {@link Outcome#SUPERSEDED} the version of the later write.
     */
    record Unreadable(String wal, long recordOffset, byte[] key, long version, ValuePointer pointer,
                      ValuePointerCheck.Finding finding, Outcome outcome, long supersededBy) {

        /** One line saying what is wrong, where, why it is (or may be) damage, and what an open does. */
        String describe() {
            return finding.problem().getMessage() + "; " + evidence();
        }

        /** The WAL batch that points to the entry, and what that shows and what an open does. */
        String evidence() {
            String where = "write-ahead log " + wal + " at offset " + recordOffset + " (key \"" + Bytes.escape(key)
                    + "\", version " + version + ") points to the entry at offset " + pointer.offset();
            return switch (outcome) {
                case FAILS_OPEN -> where + ", and it is damage, not a torn tail: " + damageReason()
                        + "; an open would fail";
                case SUPERSEDED -> where + ", and it is damage, not a torn tail (" + damageReason() + "), but a later "
                        + "write of the key (version " + supersededBy + ") replaced the value: an open tolerates it "
                        + "and nothing is lost";
                case DROPPED -> where + ", which a crash left unwritten (" + finding.reason() + "): an open drops "
                        + "that batch as never committed";
            };
        }

        /** Why recovery takes the unreadable entry for damage. */
        private String damageReason() {
            return finding.mayBeTorn()
                    ? "the log " + wal + " is not the newest, and a log is closed only after the values it points to "
                            + "are synced"
                    : finding.reason();
        }
    }

    /**
     * The tail of the newest WAL an open drops (cuts off): where it starts (bytes), the valid
     * records from there on, the bytes from there to the end of the file, and why.
     */
    record Drop(String wal, long offset, long records, long bytes, String reason) {

        /** One line naming the WAL, the offset and what an open drops. */
        String describe() {
            return "an open would drop the tail of write-ahead log " + wal + " from offset " + offset + ": " + records
                    + " record(s), " + bytes + " bytes, as never committed (" + reason + ")";
        }
    }

    /** Value pointers checked (those into collected files are superseded and not counted). */
    final long pointersChecked;
    /** Every unreadable pointer the replay meets, in WAL order. */
    final List<Unreadable> unreadable;
    /** The tail of the newest WAL an open drops, or null. */
    final Drop drop;
    /** Damage in a WAL record or batch that fails an open (the preview stops there), or null. */
    final CorruptionException walDamage;

    private ReplayPreview(long pointersChecked, List<Unreadable> unreadable, Drop drop, CorruptionException walDamage) {
        this.pointersChecked = pointersChecked;
        this.unreadable = unreadable;
        this.drop = drop;
        this.walDamage = walDamage;
    }

    /** The unreadable pointers into value-log file {@code fileId}. */
    List<Unreadable> into(long fileId) {
        return unreadable.stream().filter(u -> u.pointer().fileId() == fileId).toList();
    }

    /**
     * Replays, reading only, the WALs of the directory in {@code storage} that the manifest
     * {@code state} leaves to recovery.
     *
     * @throws IOException if the directory cannot be listed or a file cannot be read
     */
    static ReplayPreview of(NioStorage storage, ManifestState state) throws IOException {
        List<String> names = storage.list();
        List<Long> wals = numbers(names, FileNames.Kind.WAL, state.logNumber());
        List<Long> valueLogs = numbers(names, FileNames.Kind.VALUE_LOG, 0);
        Set<Long> collected = state.valueLogsCollected();
        Map<ByteBuffer, Long> newestVersions = new HashMap<>();
        List<Unreadable> found = new ArrayList<>();
        long[] checked = new long[1];
        Drop drop = null;
        CorruptionException walDamage = null;
        try (ValuePointerCheck check = new ValuePointerCheck(storage, valueLogs, collected)) {
            for (int i = 0; i < wals.size() && walDamage == null; i++) {
                String name = FileNames.name(wals.get(i), FileNames.Kind.WAL);
                boolean newest = i == wals.size() - 1;
                try (ReadableFile file = storage.openRead(name)) {
                    WalReader reader = new WalReader(file, name, newest);
                    drop = replayLog(reader, name, newest, check, collected, checked, newestVersions, found);
                    if (drop == null && reader.tornTailOffset() >= 0) {
                        drop = new Drop(name, reader.tornTailOffset(), 0, reader.fileSize() - reader.tornTailOffset(),
                                reader.tornTailReason());
                    }
                } catch (WalCorruptionException e) {
                    walDamage = new CorruptionException(e.fileName(), e.offset(), "write-ahead log " + e.getMessage()
                            + "; an open would fail", e);
                } catch (CorruptionException e) {
                    walDamage = e;
                }
            }
        }
        // as recovery does once every WAL is replayed: damage a later write of the key replaced costs nothing
        found.replaceAll(u -> {
            long newer = newestVersions.getOrDefault(ByteBuffer.wrap(u.key()), 0L);
            return u.outcome() == Outcome.FAILS_OPEN && newer > u.version()
                    ? new Unreadable(u.wal(), u.recordOffset(), u.key(), u.version(), u.pointer(), u.finding(),
                            Outcome.SUPERSEDED, newer)
                    : u;
        });
        return new ReplayPreview(checked[0], Collections.unmodifiableList(found), drop, walDamage);
    }

    /** One decoded WAL entry, held until its whole batch has been checked. */
    private record DecodedEntry(long version, byte meta, byte[] key, byte[] value) {
    }

    /**
     * Replays one WAL, adding its unreadable pointers to {@code found} (as failing the open until
     * the whole replay shows whether a later write superseded them); returns the tail an open
     * drops if a batch of the newest WAL points to a value a crash left unwritten, else null.
     *
     * @throws CorruptionException for a malformed batch, version or pointer, as recovery throws it
     */
    private static Drop replayLog(WalReader reader, String name, boolean newest, ValuePointerCheck check,
                                  Set<Long> collected, long[] checked, Map<ByteBuffer, Long> newestVersions,
                                  List<Unreadable> found) throws IOException {
        ByteBuffer payload;
        List<DecodedEntry> batch = new ArrayList<>();
        while ((payload = reader.next()) != null) {
            long recordOffset = reader.recordOffset();
            batch.clear();
            long version;
            try {
                version = WalBatchDecoder.decode(payload, (v, meta, userMeta, expiresAt, key, value) ->
                        batch.add(new DecodedEntry(v, meta, key, value)));
            } catch (IllegalArgumentException e) {
                throw walProblem(name, recordOffset, "malformed batch: " + e.getMessage(), e);
            }
            if (version < KeyFormat.MIN_VERSION || version > KeyFormat.MAX_VERSION) {
                throw walProblem(name, recordOffset, "batch version " + version + " is out of range", null);
            }
            List<Unreadable> damagedHere = new ArrayList<>();
            for (DecodedEntry e : batch) {
                if ((e.meta() & ValueStruct.META_VALUE_POINTER) == 0) {
                    continue;
                }
                ValuePointer pointer;
                try {
                    pointer = ValuePointer.decode(e.value());
                } catch (IllegalArgumentException bad) {
                    throw walProblem(name, recordOffset, "malformed value pointer: " + bad.getMessage(), bad);
                }
                if (!collected.contains(pointer.fileId())) {
                    checked[0]++;
                }
                ValuePointerCheck.Finding finding = check.check(pointer, e.key(), version);
                if (finding == null) {
                    continue;
                }
                if (newest && finding.mayBeTorn()) {
                    found.add(new Unreadable(name, recordOffset, e.key(), version, pointer, finding, Outcome.DROPPED, 0));
                    return dropFrom(reader, name, recordOffset, "the batch at version " + version + " points to a value "
                            + "a crash left unwritten: " + finding.problem().getMessage() + "; " + finding.reason());
                }
                damagedHere.add(new Unreadable(name, recordOffset, e.key(), version, pointer, finding, Outcome.FAILS_OPEN, 0));
            }
            found.addAll(damagedHere);
            for (DecodedEntry e : batch) {
                newestVersions.merge(ByteBuffer.wrap(e.key()), e.version(), Math::max);
            }
        }
        return null;
    }

    /** The tail from {@code offset} on, counting the valid records in it. */
    private static Drop dropFrom(WalReader reader, String name, long offset, String reason) throws IOException {
        long records = 1;
        try {
            while (reader.next() != null) {
                records++;
            }
        } catch (WalCorruptionException e) {
            // the open never reads past the dropped batch, so damage further on changes nothing
        }
        return new Drop(name, offset, records, reader.fileSize() - offset, reason);
    }

    private static CorruptionException walProblem(String name, long offset, String what, Throwable cause) {
        return new CorruptionException(name, offset, "write-ahead log " + name + " at offset " + offset + ": " + what
                + "; an open would fail", cause);
    }

    /** The numbers of the files of {@code kind} numbered at least {@code from}, ascending. */
    private static List<Long> numbers(List<String> names, FileNames.Kind kind, long from) {
        List<Long> numbers = new ArrayList<>();
        for (String name : names) {
            long number = FileNames.parseNumber(name, kind);
            if (number >= 0 && number >= from) {
                numbers.add(number);
            }
        }
        Collections.sort(numbers);
        return numbers;
    }
}
