package io.trainkv.replication;

import io.trainkv.DbIterator;
import io.trainkv.Entry;
import io.trainkv.IteratorOptions;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.WriteBatch;
import io.trainkv.util.Bytes;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.function.Function;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.SnapshotInfo;
import org.apache.ratis.statemachine.SnapshotRetentionPolicy;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.util.LifeCycle;

/**
 * The Raft state machine over one local TrainKV database. Each committed log entry is a write
 * batch or an optimistic transaction; applying it is one atomic TrainKV batch holding its writes,
 * the last-modified record of every key it writes, and the applied log position
 * ({@link ReservedKeys}). So after a crash the database and its applied position agree, Ratis
 * replays the log from the last snapshot, and an entry at or below the applied position is skipped:
 * each entry changes the database exactly once. Validation of a transaction reads only the
 * database as of the previous entry, so every replica decides the same.
 *
 * <p>Queries (get, scan page) read the database after taking the applied index, so a reply's index
 * is never newer than what it shows. Snapshots are checkpoints of the database
 * ({@link TrainKV#checkpoint}) in a {@link SnapshotStore}; a follower that installs one swaps its
 * database for a copy of it in {@link #reinitialize()}.
 */
final class TrainKvStateMachine extends BaseStateMachine {

    /** Entries a scan page holds at most, whatever the client asks. */
    static final int MAX_SCAN_PAGE = 10_000;

    private final Path databaseDirectory;
    private final Function<Path, Options> options;
    private final SnapshotStore snapshots = new SnapshotStore();
    /** Readers (queries) hold it shared; swapping the database (snapshot install, close) holds it exclusively. */
    private final ReentrantReadWriteLock databaseLock = new ReentrantReadWriteLock();
    private TrainKV db;
    /** The log index of the last entry written into the database. */
    private volatile long appliedIndex;

    /**
     * @param databaseDirectory the local database (created if missing)
     * @param options the engine options for a directory (tests shrink memtables)
     */
    TrainKvStateMachine(Path databaseDirectory, Function<Path, Options> options) {
        this.databaseDirectory = databaseDirectory;
        this.options = options;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
        super.initialize(server, groupId, storage);
        snapshots.init(storage);
        load();
        getLifeCycle().transition(LifeCycle.State.STARTING);
        getLifeCycle().transition(LifeCycle.State.RUNNING);
    }

    /**
     * Ratis pauses the state machine before each chunk of a snapshot it installs, then calls
     * {@link #reinitialize()} once the snapshot is whole.
     */
    @Override
    public void pause() {
        if (getLifeCycleState() == LifeCycle.State.RUNNING) {
            getLifeCycle().transition(LifeCycle.State.PAUSING);
            getLifeCycle().transition(LifeCycle.State.PAUSED);
        }
    }

    /** Loads the newest snapshot (just installed by Ratis) into the database, and resumes. */
    @Override
    public void reinitialize() throws IOException {
        databaseLock.writeLock().lock();
        try {
            if (db != null) {
                db.close();
                db = null;
            }
            snapshots.reload();
            load();
        } finally {
            databaseLock.writeLock().unlock();
        }
        if (getLifeCycleState() == LifeCycle.State.PAUSED) {
            getLifeCycle().transition(LifeCycle.State.STARTING);
            getLifeCycle().transition(LifeCycle.State.RUNNING);
        }
    }

    /**
     * Opens the database; if the newest snapshot is ahead of it (a follower installed one, or the
     * database lost unsynced writes the purged log no longer holds), replaces it with the snapshot.
     * The applied position Ratis starts from is the snapshot's; entries between it and the
     * database's own position are skipped when replayed.
     */
    private void load() throws IOException {
        Checkpoints.recoverSwitch(databaseDirectory);
        db = TrainKV.open(options.apply(databaseDirectory));
        TermIndex applied = appliedPosition(db);
        SnapshotInfo snapshot = snapshots.getLatestSnapshot();
        if (snapshot != null && (applied == null || applied.getIndex() < snapshot.getIndex())) {
            db.close();
            db = null;
            Checkpoints.restore(snapshots.latestDirectory(), databaseDirectory);
            db = TrainKV.open(options.apply(databaseDirectory));
            applied = appliedPosition(db);
        }
        appliedIndex = applied == null ? 0 : applied.getIndex();
        setLastAppliedTermIndex(snapshot == null ? null : snapshot.getTermIndex());
    }

    private static TermIndex appliedPosition(TrainKV db) {
        byte[] record = db.get(ReservedKeys.APPLIED);
        if (record == null) {
            return null;
        }
        ByteBuffer b = ByteBuffer.wrap(record);
        return TermIndex.valueOf(b.getLong(), b.getLong());
    }

    private static byte[] positionRecord(TermIndex at) {
        return ByteBuffer.allocate(2 * Long.BYTES).putLong(at.getTerm()).putLong(at.getIndex()).array();
    }

    @Override
    public StateMachineStorage getStateMachineStorage() {
        return snapshots;
    }

    /** The log index of the last entry applied to the local database. */
    long appliedIndex() {
        return appliedIndex;
    }

    /**
     * Applies one committed entry. An entry that cannot be decoded or is refused is recorded as
     * applied with nothing else written, the same on every replica. A failure to write the local
     * database is thrown: Ratis then stops this server, which must not go on with a database
     * that misses an entry (it is restarted, and replays from its applied position).
     */
    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        TermIndex at = TermIndex.valueOf(entry);
        Wire.Outcome outcome = at.getIndex() <= appliedIndex
                ? new Wire.Outcome(Wire.OK, at.getIndex(), "already applied")
                : apply(at, entry);
        updateLastAppliedTermIndex(at);
        return CompletableFuture.completedFuture(Wire.outcome(outcome));
    }

    /** Validates and writes one new entry, with the applied position, as one batch. */
    private Wire.Outcome apply(TermIndex at, LogEntryProto entry) {
        Object request;
        try {
            request = Wire.decodeRequest(entry.getStateMachineLogEntry().getLogData());
        } catch (IOException e) {
            request = e;
        }
        List<Wire.Op> ops = List.of();
        Wire.Outcome outcome = null;
        if (request instanceof Wire.Write write) {
            ops = write.ops();
        } else if (request instanceof Wire.Txn txn) {
            ops = txn.ops();
            String changed = firstChange(txn);
            if (changed != null) {
                outcome = new Wire.Outcome(Wire.CONFLICT, at.getIndex(), changed + " changed after log index "
                        + txn.readIndex() + ", which the transaction read at");
            }
        } else {
            outcome = new Wire.Outcome(Wire.REJECTED, at.getIndex(), "a log entry must be a write or a transaction, not "
                    + (request instanceof IOException e ? "unreadable bytes (" + e.getMessage() + ")" : "a query"));
        }
        String refused = outcome == null ? refusal(ops) : null;
        if (refused != null) {
            outcome = new Wire.Outcome(Wire.REJECTED, at.getIndex(), refused);
        }
        WriteBatch batch = new WriteBatch();
        if (outcome == null) {
            byte[] index = ReservedKeys.longBytes(at.getIndex());
            for (Wire.Op op : ops) {
                if (op.isDelete()) {
                    batch.delete(op.key());
                } else {
                    batch.set(op.entry());
                }
                batch.set(ReservedKeys.modified(op.key()), index);
            }
            outcome = new Wire.Outcome(Wire.OK, at.getIndex(), null);
        }
        batch.set(ReservedKeys.APPLIED, positionRecord(at));
        db.write(batch);
        appliedIndex = at.getIndex();
        return outcome;
    }

    /** Why a batch cannot be written (a reserved or oversized key, an expired expiry ...), or null. */
    private static String refusal(List<Wire.Op> ops) {
        for (Wire.Op op : ops) {
            if (op.key() == null || op.key().length == 0 || op.key().length > ReservedKeys.MAX_USER_KEY) {
                return "a key must be 1 to " + ReservedKeys.MAX_USER_KEY + " bytes";
            }
            if (ReservedKeys.isReserved(op.key())) {
                return "key " + Bytes.escape(op.key()) + " is in the replication's reserved key space";
            }
            if (!op.isDelete() && (op.value().length > Options.MAX_VALUE_SIZE || op.expiresAtMillis() < 0)) {
                return "value of " + Bytes.escape(op.key()) + " is too large or has a negative expiry";
            }
        }
        return null;
    }

    /** The first key the transaction read that changed after its read index, in words, or null. */
    private String firstChange(Wire.Txn txn) {
        for (byte[] key : txn.readKeys()) {
            byte[] modified = db.get(ReservedKeys.modified(key));
            if (modified != null && ReservedKeys.longOf(modified) > txn.readIndex()) {
                return "key " + Bytes.escape(key);
            }
        }
        for (byte[][] range : txn.readRanges()) {
            IteratorOptions bounds = IteratorOptions.forward()
                    .from(range[0] == null ? ReservedKeys.MODIFIED : ReservedKeys.modified(range[0]));
            byte[] end = range[1] == null ? ReservedKeys.prefixEnd(ReservedKeys.MODIFIED) : ReservedKeys.modified(range[1]);
            bounds.to(end);
            try (DbIterator it = db.iterator(bounds)) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    if (ReservedKeys.longOf(it.value()) > txn.readIndex()) {
                        byte[] key = Arrays.copyOfRange(it.key(), ReservedKeys.MODIFIED.length, it.key().length);
                        return "key " + Bytes.escape(key) + " (in a range the transaction scanned)";
                    }
                }
            }
        }
        return null;
    }

    @Override
    public CompletableFuture<Message> query(Message request) {
        databaseLock.readLock().lock();
        try {
            if (db == null) {
                throw new IllegalStateException("the state machine is not loaded");
            }
            long index = appliedIndex; // before reading: the reply never claims a newer state than it shows
            Object decoded = Wire.decodeRequest(request.getContent());
            List<Entry> entries = new ArrayList<>();
            if (decoded instanceof byte[] key) {
                Entry entry = ReservedKeys.isReserved(key) ? null : db.getEntry(key);
                if (entry != null) {
                    entries.add(entry);
                }
            } else if (decoded instanceof Wire.Scan scan) {
                scan(scan, entries);
            } else {
                throw new IllegalArgumentException("a query must be a get or a scan");
            }
            return CompletableFuture.completedFuture(Wire.readReply(new Wire.ReadReply(index, entries)));
        } catch (IOException | RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        } finally {
            databaseLock.readLock().unlock();
        }
    }

    /**
     * One page of user entries in {@code [from, to)}: the user key space is everything outside
     * {@code [PREFIX, prefixEnd(PREFIX))}, so a scan walks the part below the reserved keys and the
     * part above them, in the scan's direction.
     */
    private void scan(Wire.Scan scan, List<Entry> entries) {
        int limit = Math.max(1, Math.min(scan.limit(), MAX_SCAN_PAGE));
        byte[][] below = {scan.from(), min(scan.to(), ReservedKeys.PREFIX)};
        byte[][] above = {max(scan.from(), ReservedKeys.prefixEnd(ReservedKeys.PREFIX)), scan.to()};
        for (byte[][] part : scan.reverse() ? List.of(above, below) : List.of(below, above)) {
            if (part[0] != null && part[1] != null && Bytes.compare(part[0], part[1]) >= 0) {
                continue;
            }
            IteratorOptions bounds = scan.reverse() ? IteratorOptions.reverse() : IteratorOptions.forward();
            if (part[0] != null) {
                bounds.from(part[0]);
            }
            if (part[1] != null) {
                bounds.to(part[1]);
            }
            try (DbIterator it = db.iterator(bounds)) {
                for (it.seekToFirst(); it.valid() && entries.size() < limit; it.next()) {
                    entries.add(it.entry());
                }
            }
            if (entries.size() >= limit) {
                return;
            }
        }
    }

    private static byte[] min(byte[] bound, byte[] other) {
        return bound == null || Bytes.compare(other, bound) < 0 ? other : bound;
    }

    private static byte[] max(byte[] bound, byte[] other) {
        return bound == null || Bytes.compare(other, bound) > 0 ? other : bound;
    }

    /**
     * Checkpoints the database at the last applied position into a new snapshot. Ratis calls it
     * from the thread that applies entries, so nothing is written meanwhile. The database's applied
     * record is brought up to that position first (entries Ratis applied without us, such as
     * configuration changes, move it), so a database restored from the snapshot starts there.
     */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() <= 0) {
            return RaftLog.INVALID_LOG_INDEX;
        }
        SnapshotInfo latest = snapshots.getLatestSnapshot();
        if (latest != null && latest.getIndex() >= last.getIndex()) {
            return latest.getIndex();
        }
        databaseLock.readLock().lock();
        try {
            if (!last.equals(appliedPosition(db))) {
                db.write(new WriteBatch().set(ReservedKeys.APPLIED, positionRecord(last)));
                appliedIndex = last.getIndex();
            }
            Path target = snapshots.begin(last);
            db.checkpoint(target);
            snapshots.publish(last);
        } finally {
            databaseLock.readLock().unlock();
        }
        snapshots.cleanupOldSnapshots(new SnapshotRetentionPolicy() {
            @Override
            public int getNumSnapshotsRetained() {
                return 2;
            }
        });
        return last.getIndex();
    }

    @Override
    public void close() throws IOException {
        databaseLock.writeLock().lock();
        try {
            super.close();
            if (db != null) {
                db.close();
                db = null;
            }
        } finally {
            databaseLock.writeLock().unlock();
        }
    }

    /** Runs {@code action} on the local database while no snapshot install swaps it (tests compare replicas with it). */
    <T> T withDatabase(Function<TrainKV, T> action) {
        databaseLock.readLock().lock();
        try {
            return action.apply(db);
        } finally {
            databaseLock.readLock().unlock();
        }
    }
}
