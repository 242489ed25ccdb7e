package io.trainkv;

import io.trainkv.memtable.MemTable;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.Storage;
import io.trainkv.txn.VersionClock;
import io.trainkv.util.ValueStruct;
import io.trainkv.wal.WalBatchEncoder;
import io.trainkv.wal.WalWriter;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The write path: group commit over the WAL, then the memtable, then publication.
 *
 * <p>Writers queue up; the writer at the head becomes the leader, takes the batches queued behind
 * it (up to a byte budget), gives each batch the next version from the clock, appends all their
 * records with one write and at most one fsync, applies them to the memtable, publishes the last
 * version to readers, and wakes the writers it served (LevelDB's writer queue). Only one leader
 * runs at a time, so the memtable has a single writer; readers never take the lock.
 *
 * <p>A reader sees a batch only once its whole group is applied: reads run at
 * {@link #visibleVersion()}, and versions above it are skipped. When the active memtable is full
 * the leader syncs and closes its WAL, creates a new WAL (directory synced) and a new memtable.
 *
 * <p>An I/O error on the WAL puts the pipeline into a failed state: every later write fails with
 * the original cause, reads keep working.
 */
final class WritePipeline {

    /** A group stops growing at this many memtable bytes (the leader's batch always goes in). */
    private static final long MAX_GROUP_FOOTPRINT = 4L * 1024 * 1024;

    private final Storage storage;
    private final Options options;
    private final VersionClock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition drained = lock.newCondition();
    private final ArrayDeque<PendingWrite> queue = new ArrayDeque<>();
    private final WalBatchEncoder encoder = new WalBatchEncoder();
    private final List<PendingWrite> group = new ArrayList<>();

    private volatile List<MemTable> memtables;
    private volatile long visibleVersion;
    private WalWriter wal;
    private long nextFileNumber;
    private boolean closed;
    private Throwable failure;
    private long walSyncs;
    private long writeGroups;
    private long batchesWritten;
    private long walBytes;

    /** A batch waiting in the queue, and how its write ended. */
    private final class PendingWrite {
        final WriteBatch batch;
        final boolean sync;
        final Condition turn = lock.newCondition();
        long version;
        boolean done;
        RuntimeException error;

        PendingWrite(WriteBatch batch, boolean sync) {
            this.batch = batch;
            this.sync = sync;
        }
    }

    WritePipeline(Storage storage, Options options, VersionClock clock, List<MemTable> recovered, long nextFileNumber)
            throws IOException {
        this.storage = storage;
        this.options = options;
        this.clock = clock;
        this.nextFileNumber = nextFileNumber;
        this.visibleVersion = clock.last();
        List<MemTable> newestFirst = new ArrayList<>(recovered);
        Collections.reverse(newestFirst);
        this.memtables = List.copyOf(newestFirst);
        startNewWal();
    }

    /** Memtables newest first; the first is the active one. Safe to read without a lock. */
    List<MemTable> memtables() {
        return memtables;
    }

    /** The highest version whose whole write group is applied; reads run at this version. */
    long visibleVersion() {
        return visibleVersion;
    }

    /**
     * Writes {@code batch} atomically, waiting until it is in the WAL (and on stable storage if
     * {@code sync}) and visible to readers.
     */
    void write(WriteBatch batch, boolean sync) {
        if (batch.memtableFootprint() > options.memtableSize()) {
            throw new IllegalArgumentException("batch needs about " + batch.memtableFootprint()
                    + " bytes of memtable, more than memtableSize " + options.memtableSize());
        }
        PendingWrite write = new PendingWrite(batch, sync || options.syncWrites());
        lock.lock();
        try {
            queue.addLast(write);
            while (!write.done && queue.peekFirst() != write) {
                write.turn.awaitUninterruptibly();
            }
            if (!write.done) {
                lead(write);
            }
            if (write.error != null) {
                throw write.error;
            }
        } finally {
            lock.unlock();
        }
    }

    /** Makes every acknowledged write durable. */
    void sync() {
        write(new WriteBatch(), true);
    }

    /** Runs one group commit with {@code leader} at the head of the queue. Called with the lock held. */
    private void lead(PendingWrite leader) {
        try {
            checkUsable();
            collectGroup(leader);
        } catch (RuntimeException e) {
            queue.removeFirst();
            leader.done = true;
            leader.error = e;
            wakeNext();
            return;
        }
        boolean syncGroup = false;
        long footprint = 0;
        for (PendingWrite w : group) {
            syncGroup |= w.sync;
            footprint += w.batch.memtableFootprint();
        }
        RuntimeException error = null;
        try {
            makeRoom(footprint);
            for (PendingWrite w : group) {
                if (!w.batch.isEmpty()) {
                    w.version = clock.next();
                }
            }
        } catch (IOException | RuntimeException e) {
            error = fail(e);
        }
        if (error == null) {
            error = commitUnlocked(syncGroup);
        }
        for (int i = 0; i < group.size(); i++) {
            PendingWrite w = queue.removeFirst();
            w.done = true;
            w.error = error;
            if (w != leader) {
                w.turn.signal();
            }
        }
        group.clear();
        wakeNext();
    }

    private void collectGroup(PendingWrite leader) {
        group.clear();
        long budget = Math.min(MAX_GROUP_FOOTPRINT, options.memtableSize());
        long footprint = 0;
        for (PendingWrite w : queue) {
            long size = w.batch.memtableFootprint();
            if (w != leader && footprint + size > budget) {
                break;
            }
            footprint += size;
            group.add(w);
        }
    }

    /** Appends, syncs and applies the group without holding the lock; returns the error, if any. */
    private RuntimeException commitUnlocked(boolean syncGroup) {
        MemTable target = memtables.get(0);
        WalWriter log = wal;
        long nowMillis = options.clock().millis();
        long lastVersion = visibleVersion;
        long bytes = 0;
        lock.unlock();
        Throwable error = null;
        try {
            encoder.reset();
            for (PendingWrite w : group) {
                if (!w.batch.isEmpty()) {
                    encode(w.batch, w.version, nowMillis);
                }
            }
            var records = encoder.records();
            bytes = records.remaining();
            if (bytes > 0) {
                log.append(records);
            }
            if (syncGroup) {
                log.sync();
            }
            for (PendingWrite w : group) {
                if (!w.batch.isEmpty()) {
                    apply(target, w.batch, w.version, nowMillis);
                    lastVersion = w.version;
                }
            }
        } catch (IOException | RuntimeException e) {
            error = e;
        } finally {
            lock.lock();
        }
        if (error != null) {
            return fail(error);
        }
        writeGroups++;
        walBytes += bytes;
        batchesWritten += group.size();
        if (syncGroup) {
            walSyncs++;
        }
        visibleVersion = lastVersion;
        return null;
    }

    private void encode(WriteBatch batch, long version, long nowMillis) {
        encoder.beginBatch(version);
        for (int i = 0; i < batch.size(); i++) {
            Entry e = batch.entry(i);
            encoder.addEntry(meta(batch, i), e.userMeta(), e.expiresAtMillis(nowMillis), e.key(), e.value());
        }
        encoder.endBatch();
    }

    private static void apply(MemTable target, WriteBatch batch, long version, long nowMillis) {
        for (int i = 0; i < batch.size(); i++) {
            Entry e = batch.entry(i);
            target.put(e.key(), version, meta(batch, i), e.userMeta(), e.expiresAtMillis(nowMillis), e.value());
        }
    }

    private static byte meta(WriteBatch batch, int i) {
        return batch.isTombstone(i) ? ValueStruct.META_TOMBSTONE : 0;
    }

    /** Rotates to a new memtable and WAL when the active one cannot take {@code footprint} more bytes. */
    private void makeRoom(long footprint) throws IOException {
        MemTable active = memtables.get(0);
        if (active.sizeBytes() + footprint <= options.memtableSize() || footprint == 0) {
            return;
        }
        wal.sync();
        walSyncs++;
        wal.close();
        startNewWal();
    }

    /** Creates the next WAL file and its empty memtable; the WAL's name is durable before use. */
    private void startNewWal() throws IOException {
        long number = nextFileNumber++;
        String name = FileNames.name(number, FileNames.Kind.WAL);
        wal = new WalWriter(storage.create(name), number, name);
        storage.syncDirectory();
        List<MemTable> next = new ArrayList<>(memtables.size() + 1);
        next.add(new MemTable(number));
        next.addAll(memtables);
        memtables = List.copyOf(next);
    }

    private RuntimeException fail(Throwable cause) {
        if (failure == null) {
            failure = cause;
        }
        if (cause instanceof RuntimeException && !(cause instanceof TrainKVException) && !(cause instanceof IllegalStateException)) {
            return (RuntimeException) cause;
        }
        return new StorageException("write failed; the database is now read-only: " + cause.getMessage(), cause);
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
        if (failure != null) {
            throw new StorageException("database is read-only after an earlier write failure: " + failure, failure);
        }
    }

    private void wakeNext() {
        PendingWrite next = queue.peekFirst();
        if (next != null) {
            next.turn.signal();
        } else {
            drained.signalAll();
        }
    }

    /** Writers waiting behind the current leader; for tests of grouping. */
    int queuedWriters() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    Stats stats() {
        lock.lock();
        try {
            long memtableBytes = 0;
            for (MemTable m : memtables) {
                memtableBytes += m.sizeBytes();
            }
            return new Stats(batchesWritten, writeGroups, walSyncs, walBytes, memtables.size(), memtableBytes,
                    visibleVersion);
        } finally {
            lock.unlock();
        }
    }

    /** Refuses new writes, waits for queued ones to finish, then syncs and closes the WAL. */
    void close() throws IOException {
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            while (!queue.isEmpty()) {
                drained.awaitUninterruptibly();
            }
            try {
                if (failure == null) {
                    wal.sync();
                }
            } finally {
                wal.close();
            }
        } finally {
            lock.unlock();
        }
    }
}
