package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.manifest.ManifestState;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.Bytes;
import io.trainkv.util.ValuePointer;
import io.trainkv.vlog.ValueLogStage;
import io.trainkv.vlog.ValuePointerCheck;
import io.trainkv.wal.WalReplay;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * What {@code TrainKV.open} would do with the WAL batches of a closed directory, foreseen without
 * opening it, so that {@code check} and {@code vlog-verify} give the verdict an open gives. It runs
 * the engine's own replay ({@link WalReplay}, reading only) over the WALs recovery replays (those
 * numbered at least the manifest's log number, oldest first), with the engine's
 * {@link ValuePointerCheck}, and states its decisions for a person: a pointer a crash may have
 * left unreadable ends the newest WAL at its batch (the open drops that batch and the rest of the
 * log as never committed); any other unreadable pointer fails the open, unless a later write of
 * the same key, replayed too, makes the value dead (then the open logs it and goes on). Damage in
 * a record or batch of a WAL fails the open too, and ends the preview as it ends the replay.
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
     * the open does about it, why it is damage ({@code damage}, the open's own exception; null for
     * {@link Outcome#DROPPED}), and for {@link Outcome#SUPERSEDED} the version of the later write.
     */
    record Unreadable(String wal, long recordOffset, byte[] key, long version, ValuePointer pointer,
                      ValuePointerCheck.Finding finding, Outcome outcome, CorruptionException damage,
                      long supersededBy) {

        /** One line saying what is wrong, where, why it is (or may be) damage, and what an open does. */
        String describe() {
            return outcome == Outcome.DROPPED ? finding.problem().getMessage() + "; " + evidence()
                    : damage.getMessage() + "; " + consequence();
        }

        /** The WAL batch that points to the entry, and what that shows and what an open does. */
        String evidence() {
            if (outcome == Outcome.DROPPED) {
                return "write-ahead log " + wal + " at offset " + recordOffset + " (key \"" + Bytes.escape(key)
                        + "\", version " + version + ") points to the entry at offset " + pointer.offset()
                        + ", which a crash left unwritten (" + finding.reason() + "): an open drops that batch as"
                        + " never committed";
            }
            String message = damage.getMessage();
            int because = message.indexOf("; write-ahead log ");
            return (because >= 0 ? message.substring(because + 2) : message) + "; " + consequence();
        }

        private String consequence() {
            return outcome == Outcome.SUPERSEDED
                    ? "but a later write of the key (version " + supersededBy + ") replaced the value: an open "
                            + "tolerates it and nothing is lost"
                    : "an open would fail";
        }
    }

    /**
     * The tail of the newest WAL an open drops (cuts off): the engine's {@link WalReplay.TornTail},
     * which says where it starts, the records and keys from there on, the bytes, and why.
     */
    record Drop(WalReplay.TornTail tail) {

        /** One line naming the WAL, the offset and what an open drops. */
        String describe() {
            return "an open would drop the tail of write-ahead log " + tail.wal() + " from offset " + tail.offset() + ": "
                    + tail.records() + " record(s), " + tail.bytes() + " bytes, holding " + tail.entries() + " key(s), as "
                    + "never committed (" + tail.reason() + ")";
        }
    }

    /** Value pointers checked (those into collected files are superseded and not counted). */
    final long pointersChecked;
    /** Every unreadable pointer the replay meets, in WAL order. */
    final List<Unreadable> unreadable;
    /** The tail of the newest WAL an open drops, or null (also for a tail of preallocated zeros, which drops nothing). */
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
     * The value-log stage opened read-only, or null if it holds nothing to read, or is refused
     * (damage: another header, or another length and not only zeros) or cannot be read: vlog-verify
     * reports those on the stage itself, and the preview then judges its entries, if any, as the
     * file's torn tail (an open fails on such a stage).
     */
    private static ValueLogStage readableStage(NioStorage storage) {
        try {
            return ValueLogStage.open(storage, false);
        } catch (CorruptionException | IOException e) {
            return null;
        }
    }

    /**
     * Replays, reading only, the WALs of the directory in {@code storage} that the manifest
     * {@code state} leaves to recovery.
     *
     * @throws IOException if the directory cannot be listed or a file cannot be read
     */
    static ReplayPreview of(NioStorage storage, ManifestState state) throws IOException {
        List<String> names = storage.list();
        WalReplay.Result replayed;
        try (ValueLogStage stage = readableStage(storage);
             ValuePointerCheck check = new ValuePointerCheck(storage, FileNames.numbers(names, FileNames.Kind.VALUE_LOG, 0),
                     state.valueLogsCollected(), stage)) {
            replayed = WalReplay.replay(storage, FileNames.numbers(names, FileNames.Kind.WAL, state.logNumber()), check,
                    state.liveTables().keySet());
        }
        List<Unreadable> found = new ArrayList<>();
        for (WalReplay.DamagedValue d : replayed.damagedValues()) {
            found.add(new Unreadable(d.wal(), d.recordOffset(), d.key(), d.version(), d.pointer(), d.finding(),
                    d.supersededBy() > 0 ? Outcome.SUPERSEDED : Outcome.FAILS_OPEN, d.damage(), d.supersededBy()));
        }
        WalReplay.TornTail torn = replayed.tornTail();
        Drop drop = null;
        if (torn != null) {
            if (torn.pointer() != null) {
                found.add(new Unreadable(torn.wal(), torn.offset(), torn.key(), torn.version(), torn.pointer(),
                        torn.finding(), Outcome.DROPPED, null, 0));
            }
            if (!torn.zeros()) { // preallocated zeros hold no record: an open cuts them off and drops nothing
                drop = new Drop(torn);
            }
        }
        CorruptionException damage = replayed.walDamage();
        CorruptionException walDamage = damage == null ? null : new CorruptionException(damage.fileName(),
                damage.offset(), damage.getMessage() + "; an open would fail", damage);
        return new ReplayPreview(replayed.pointersChecked(), Collections.unmodifiableList(found), drop, walDamage);
    }

}
