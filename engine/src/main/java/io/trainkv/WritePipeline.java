package io.trainkv;

import io.trainkv.manifest.VersionSet;
import io.trainkv.memtable.MemTable;
import io.trainkv.storage.EarlyWriteBack;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.Storage;
import io.trainkv.txn.VersionClock;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import io.trainkv.wal.WalBatchEncoder;
import io.trainkv.wal.WalWriter;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The write path: group commit over the WAL, then the memtable, then publication.
 *
 * <p>Writers queue up, each with one compare-and-set on the queue's newest writer (RocksDB's
 * {@code WriteThread}): joining takes no lock, so a writer never waits for a lock holder that
 * was preempted. The writer at the head becomes the leader, takes the batches queued behind
 * it (up to a byte budget), gives each batch the next version from the clock, appends all their
 * records with one write and at most one fsync, and wakes the writers it served (LevelDB's writer
 * queue). The group then leaves the queue, so the next leader can append its group to the WAL
 * while every writer of this group inserts its own batch into the memtable, in parallel with the
 * others (the skip list takes concurrent inserts; RocksDB's pipelined write with concurrent
 * memtable writes). Only one leader runs at a time; readers never take the lock.
 *
 * <p>A reader sees a batch only once its whole group and every earlier group are in the
 * memtable: reads run at {@link #visibleVersion()}, and versions above it are skipped. Groups are
 * published in version order by whichever writer finishes a group's last insert, and a write
 * returns only once its group is published, so a writer reads its own write. Publication takes no
 * lock: a group is published by moving the visible version from the previous group's last version
 * to its own with one compare-and-set, so only the group right after the visible version can be
 * published, and the writer that publishes a group goes on to the next one if its inserts are done.
 *
 * <p>Writers wait for each hand-off (their turn to lead, their group's WAL append, its
 * publication) outside the lock, through a {@link HandOffWaiter} that spins before it parks: the
 * waits are a few microseconds long, and a parked thread would cost its waker a futex wake-up
 * each time. Only the leader takes the lock, to form its group and hand it to its writers (and,
 * now and then, {@link #close()}, the statistics and background work that reports progress or
 * failure); the WAL append, the memtable inserts and publication run without it. When the active
 * memtable is full the leader waits for the groups still inserting into it, then syncs and closes
 * its WAL, creates a new WAL (directory synced) and a new memtable. A request that must see every
 * earlier write applied (a checked write, a rotation) also waits for them first.
 *
 * <p>A request that cannot be written for a reason of its own (the database is closed, a
 * transaction conflicts, an expiry past what a long holds) fails alone: the leader takes it out
 * of the group before anything shared is touched, and the others are written. An I/O error
 * (WAL, value log, rotation), any other failure once the group's bytes are being written, and an
 * {@link Error} or an exception no step expects (a bug) anywhere in the leader put the pipeline
 * into a failed state: every writer of the
 * group and every later write fails with the original cause, reads keep working, and
 * {@link #close()} still finishes. A failed memtable insert does the same, and fails its group and
 * every group after it that is not yet published (their versions are never made visible).
 *
 * <p>Whenever the value log has been fsynced and the WAL is then appended to (a synced group, a
 * rotation, {@link #close()}), the WAL gets a value-log durable mark first if the active value-log
 * file's durable length changed since the last mark: recovery uses it to tell a value-log entry
 * that was durable and is damaged now from an unsynced tail a power cut dropped
 * ({@link WalReplay}).
 */
final class WritePipeline {

    /**
     * A group stops growing at this many bytes of keys and values (the leader's batch always goes
     * in), measured by {@link WriteBatch#memtableFootprint()}, which counts every value in full:
     * it bounds what one group writes to the WAL and the value log.
     */
    private static final long MAX_GROUP_FOOTPRINT = 4L * 1024 * 1024;

    private static final VarHandle VISIBLE_VERSION;
    private static final VarHandle FAILURE;
    private static final VarHandle NEWEST_WRITER;

    static {
        try {
            MethodHandles.Lookup lookup = MethodHandles.lookup();
            VISIBLE_VERSION = lookup.findVarHandle(WritePipeline.class, "visibleVersion", long.class);
            FAILURE = lookup.findVarHandle(WritePipeline.class, "failure", Throwable.class);
            NEWEST_WRITER = lookup.findVarHandle(WritePipeline.class, "newestWriter", PendingWrite.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Storage storage;
    private final Options options;
    private final VersionClock clock;
    private final VersionSet versions;
    private final ValueLog valueLog;
    private final Runnable flushTrigger;
    /** This pipeline's number, unique in the process: what a request's sole group is matched against. */
    private final long id = NEXT_ID.incrementAndGet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition backgroundProgress = lock.newCondition();
    /**
     * The write queue's newest writer, null when the queue is empty; changed through
     * {@link #NEWEST_WRITER} only. A writer joins with one compare-and-set on it, its
     * {@link PendingWrite#older} pointing at the writer it replaced; the writer whose
     * {@code older} is null is the queue's head, and leads.
     */
    private volatile PendingWrite newestWriter;
    private final WalBatchEncoder encoder = new WalBatchEncoder();
    private final List<PendingWrite> group = new ArrayList<>();
    /**
     * The newest writer the current leader took (its group, and any it refused, run from the
     * leader to it along {@link PendingWrite#newer}) and how many writers that is; written by the
     * leader only, and read by it in {@link #leave} before it hands the lead on.
     */
    private PendingWrite groupLast;
    private int groupMembers;
    /** Groups in the WAL whose inserts are not all done, or that are not yet published or failed. */
    private final AtomicInteger unfinishedGroups = new AtomicInteger();
    /** Memtable footprint of the groups not yet published or failed (bytes); may lag behind, never ahead. */
    private final AtomicLong applyingFootprint = new AtomicLong();

    private volatile List<MemTable> memtables;
    /** Changed only by {@link #publishFrom}'s compare-and-set, in version order. */
    private volatile long visibleVersion;
    private WalWriter wal;
    private volatile boolean closed;
    /** The first write-path failure; set once, by compare-and-set ({@link #fail}). */
    private volatile Throwable failure;
    /** The newest group handed to its writers, null before the first; guarded by the lock. */
    private ApplyingGroup lastGroup;
    /** The last version of {@link #lastGroup}, or the visible version at start; guarded by the lock. */
    private long lastGroupVersion;
    /** The wait of {@link #awaitInserted()}, woken by the writer that drops {@link #unfinishedGroups} to 0. */
    private final LockReleasingWait allInserted = new LockReleasingWait(() -> unfinishedGroups.get() == 0);
    /** The wait of {@link #awaitQueueEmpty()}, woken by the leader that empties the queue. */
    private final LockReleasingWait queueEmpty = new LockReleasingWait(() -> newestWriter == null);
    /** The value-log file and durable length of the last durable mark written, -1 for none. */
    private long markedFileId = -1;
    private long markedLength = -1;
    private long walSyncs;
    private long writeGroups;
    private long batchesWritten;
    private long walBytes;
    private long writeStalls;
    private long writeSlowdowns;

    /**
     * A batch waiting in the queue, and how its write ended. An ordinary write uses its thread's
     * own request ({@link #REUSED}), reset for each write, so that a put allocates no request, no
     * waiter, no per-entry arrays and no value pointers; other requests (flush, sync, checked
     * writes) are made for the occasion. Holds no reference to the pipeline, so that a thread's
     * request never keeps a closed database alive, and none to the batch, its values or other writers' requests once the
     * write returned ({@link #release()}).
     */
    private static final class PendingWrite {
        WriteBatch batch;
        boolean sync;
        boolean rotate;
        /**
         * Run by the leader when this request reaches the head of the queue alone, with every
         * earlier write applied: returns the batch to write (possibly filtered), or throws to
         * refuse it. Null for ordinary writes.
         */
        UnaryOperator<WriteBatch> atApply;
        /** The writer's thread waits through it for its turn, its group's append and publication. */
        final HandOffWaiter waiter = new HandOffWaiter();
        /** Set when this request reaches the head of the queue and is to lead a group. */
        volatile boolean leading;
        /**
         * The writer that was the queue's newest when this one joined, the next older one; null
         * for the head. Written by this writer when it joins, then only by a leader (which clears
         * it when it hands this writer the lead), and cleared when the write has returned.
         */
        PendingWrite older;
        /**
         * The next newer writer in the queue, null until a leader links it from the newer
         * writer's {@link #older} ({@link WritePipeline#linkNewer()}); cleared when the request
         * joins and when the write has returned.
         */
        PendingWrite newer;
        /** The group this batch is inserted with, once its records are in the WAL; null for an empty batch. */
        ApplyingGroup applyingGroup;
        long version;
        /**
         * Set once the leader is done with this request; every field above is written before it,
         * so the writer reads them without the lock once it sees it.
         */
        volatile boolean done;
        RuntimeException error;
        /**
         * Per entry of the batch, from index 0 (the arrays may be longer, and are kept across the
         * writes of a reused request): expiry (epoch ms, 0 for none), the value the WAL and the
         * memtable store (the caller's value, or one of {@link #pointers}), and its meta.
         */
        long[] expiresAt = NO_EXPIRIES;
        byte[][] storedValues = NO_VALUES;
        byte[] storedMeta = NO_META;
        /**
         * The encoded value pointers of the entries that went to the value log, one
         * {@link ValuePointer#SIZE}-byte array per entry index, made on first use and reused: the
         * WAL encoder and the memtable copy them before the write returns.
         */
        byte[][] pointers = NO_VALUES;
        /** Entries of {@link #storedValues} set by the current write, cleared by {@link #release()}. */
        int stored;
        /** Whether a write is using this request: a reused request is taken only when it is free. */
        boolean inUse;
        /** The batch of a single set ({@link WritePipeline#set}), reused. */
        final WriteBatch ownBatch = new WriteBatch();
        /**
         * The group this request's batch is inserted with when it is the only insert of its
         * group and the group before is published, made on first use and begun again for each
         * such write so that a put allocates no group ({@link ApplyingGroup}); null before.
         */
        ApplyingGroup soleGroup;
        /** This request's conditions, made once: a wait allocates nothing. */
        final BooleanSupplier turnCame = () -> done || leading;
        final BooleanSupplier groupSettled = () -> applyingGroup.settled();

        /** Readies this request for a write of {@code batch}; every field a write changes is reset. */
        PendingWrite start(WriteBatch batch, boolean sync, boolean rotate, UnaryOperator<WriteBatch> atApply) {
            this.batch = batch;
            this.sync = sync;
            this.rotate = rotate;
            this.atApply = atApply;
            this.leading = false;
            this.applyingGroup = null;
            this.version = 0;
            this.error = null;
            this.done = false;
            return this;
        }

        /**
         * Drops the references to the batch, its values and its group once the write has returned
         * (and the pipeline no longer reads them), so that a thread's request keeps nothing alive.
         */
        void release() {
            if (expiresAt.length > RETAINED_ENTRIES) {
                expiresAt = NO_EXPIRIES;
                storedValues = NO_VALUES;
                storedMeta = NO_META;
                pointers = NO_VALUES;
            } else {
                Arrays.fill(storedValues, 0, stored, null);
            }
            stored = 0;
            batch = null;
            ownBatch.clear();
            atApply = null;
            applyingGroup = null;
            older = null; // a queue's links, read by nobody once the write is done
            newer = null;
            if (soleGroup != null) {
                soleGroup.target = null; // published or failed: read by nobody now, and a memtable is large
            }
            error = null;
            inUse = false;
        }

        /** Makes the per-entry arrays hold at least {@code entries} entries. */
        void ensureEntries(int entries) {
            if (expiresAt.length < entries) {
                int capacity = Math.max(entries, 2 * expiresAt.length);
                expiresAt = new long[capacity];
                storedValues = new byte[capacity][];
                storedMeta = new byte[capacity];
                pointers = Arrays.copyOf(pointers, capacity);
            }
        }

        /** The reused array entry {@code i}'s value pointer is encoded into. */
        byte[] pointer(int i) {
            byte[] pointer = pointers[i];
            if (pointer == null) {
                pointer = new byte[ValuePointer.SIZE];
                pointers[i] = pointer;
            }
            return pointer;
        }

        /** Requests that must lead a group of their own. */
        boolean alone() {
            return rotate || atApply != null;
        }

        void wake() {
            waiter.wake();
        }
    }

    /**
     * Entries a reused request keeps its per-entry arrays for between writes: after a larger
     * batch they are dropped, so that one large batch does not hold memory for the thread's life.
     */
    private static final int RETAINED_ENTRIES = 1024;
    private static final long[] NO_EXPIRIES = {};
    private static final byte[][] NO_VALUES = {};
    private static final byte[] NO_META = {};

    /** Source of {@link #id}s. */
    private static final AtomicLong NEXT_ID = new AtomicLong();

    /**
     * Each thread's request for its ordinary writes (a thread has one write in flight at a time):
     * shared by every pipeline of the JVM, and holding none of them.
     */
    private static final ThreadLocal<PendingWrite> REUSED = ThreadLocal.withInitial(PendingWrite::new);

    /**
     * A group whose records are in the WAL while its writers insert their batches into
     * {@code target}; published (the visible version moved from {@code previousVersion} to
     * {@code lastVersion}) once every insert is done and the group before it is published.
     * Shared by its writers without a lock: the fields {@link #begin} sets are read by other
     * threads only after a volatile read that follows it (of {@code done}, or of a link), and the
     * others are volatile or atomic.
     *
     * <p>A group is used once, except the {@linkplain PendingWrite#soleGroup sole group} of a
     * request, which is begun again for each write of the request that is its group's only
     * insert and comes after a published group (every write of a lone writer): such a group is
     * linked from no other group, so only its writer publishes it and no other thread reads it
     * after that, except the next leader reading {@link #lastGroup} with the lock held, as the
     * writer does when it begins the group again.
     */
    private static final class ApplyingGroup {
        private static final VarHandle INSERTING;

        static {
            try {
                INSERTING = MethodHandles.lookup().findVarHandle(ApplyingGroup.class, "inserting", int.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        /**
         * The {@linkplain WritePipeline#id id} of the pipeline whose writes the group carries: a
         * number, not the pipeline, so that a request's sole group keeps no closed database alive.
         */
        final long pipelineId;
        MemTable target;
        /** The last version of the group before this one: the visible version it is published after. */
        long previousVersion;
        long lastVersion;
        long footprint;
        /**
         * The writers inserting a batch, woken when the group is published or fails; the
         * publisher clears the entries once it has woken them (a failed group is never published).
         */
        final PendingWrite[] inserters;
        /** Inserts not done yet; changed through {@link #INSERTING} only. */
        private volatile int inserting;
        /** Set by the writer that published the group (moved the visible version to {@link #lastVersion}), before it wakes the inserters. */
        volatile boolean published;
        /**
         * The next newer group, set by its leader if this one is not published yet; cleared by
         * the writer that publishes this one.
         */
        volatile ApplyingGroup next;
        /** Set when this group or an earlier one failed an insert: it is never published. */
        volatile RuntimeException error;

        /** A group of pipeline {@code pipelineId} for the writers {@code inserters}; {@link #begin} it before use. */
        ApplyingGroup(long pipelineId, PendingWrite[] inserters) {
            this.pipelineId = pipelineId;
            this.inserters = inserters;
        }

        /**
         * Starts the group's round: its inserters insert {@code footprint} bytes into
         * {@code target} at the versions after {@code previousVersion} up to {@code lastVersion}.
         */
        void begin(MemTable target, long previousVersion, long lastVersion, long footprint) {
            this.target = target;
            this.previousVersion = previousVersion;
            this.lastVersion = lastVersion;
            this.footprint = footprint;
            this.published = false;
            this.next = null;
            this.error = null;
            this.inserting = inserters.length;
        }

        /** Counts one insert done; returns how many are left. */
        int insertDone() {
            return (int) INSERTING.getAndAdd(this, -1) - 1;
        }

        /** Inserts not done yet. */
        int inserting() {
            return inserting;
        }

        /** Whether its writers may return: published, or failed. */
        boolean settled() {
            return published || error != null;
        }
    }

    /**
     * Starts the pipeline on a fresh WAL. {@code recovered} are the memtables replayed at open,
     * oldest first; they are immutable and wait for flushing. {@code flushTrigger} is run after
     * every rotation to get the frozen memtable flushed. With {@link Options#readOnly()} no WAL is
     * created: the recovered memtables only serve reads, and {@link TrainKV} refuses every write
     * before it gets here.
     */
    WritePipeline(Storage storage, Options options, VersionClock clock, VersionSet versions, ValueLog valueLog,
                  List<MemTable> recovered, Runnable flushTrigger) throws IOException {
        this.storage = storage;
        this.options = options;
        this.clock = clock;
        this.versions = versions;
        this.valueLog = valueLog;
        this.flushTrigger = flushTrigger;
        this.visibleVersion = clock.last();
        this.lastGroupVersion = visibleVersion;
        List<MemTable> newestFirst = new ArrayList<>(recovered);
        Collections.reverse(newestFirst);
        this.memtables = List.copyOf(newestFirst);
        if (!options.readOnly()) {
            startNewWal();
        }
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
     *
     * @throws IllegalArgumentException if the batch needs more memtable bytes than
     *     {@link Options#memtableSize(long)} ({@link #memtableFootprint}); nothing is written
     */
    void write(WriteBatch batch, boolean sync) {
        PendingWrite write = reusedRequest();
        try {
            write(write, batch, sync);
        } finally {
            write.release();
        }
    }

    /**
     * Writes a set of {@code entry} alone, as {@link #write} writes a batch of that one set, through
     * the calling thread's reused batch, so that a put allocates no batch.
     *
     * @throws IllegalArgumentException if {@link WriteBatch#set(Entry)} refuses the entry, or it
     *     needs more memtable bytes than {@link Options#memtableSize(long)}; nothing is written
     */
    void set(Entry entry, boolean sync) {
        PendingWrite write = reusedRequest();
        try {
            write(write, write.ownBatch.set(entry), sync);
        } finally {
            write.release();
        }
    }

    /**
     * Writes a set of {@code key} to {@code value} as {@link #set(Entry, boolean)} writes an entry
     * with no TTL or user meta, with no {@link Entry} made.
     *
     * @throws IllegalArgumentException as {@link #set(Entry, boolean)}
     */
    void set(byte[] key, byte[] value, boolean sync) {
        PendingWrite write = reusedRequest();
        try {
            write(write, write.ownBatch.set(key, value), sync);
        } finally {
            write.release();
        }
    }

    /** The calling thread's request, for an ordinary write; {@link PendingWrite#release()} it after. */
    private static PendingWrite reusedRequest() {
        PendingWrite write = REUSED.get();
        if (write.inUse) { // not expected: a thread has one write at a time
            write = new PendingWrite();
        }
        write.inUse = true;
        return write;
    }

    private void write(PendingWrite write, WriteBatch batch, boolean sync) {
        long footprint = memtableFootprint(batch);
        if (footprint > options.memtableSize()) {
            throw new IllegalArgumentException("batch needs about " + footprint + " bytes of memtable, more than"
                    + " memtableSize " + options.memtableSize() + ": values shorter than valueThreshold "
                    + options.valueThreshold() + " bytes are held in the memtable, and values up to the "
                    + Options.MAX_VALUE_SIZE + "-byte value limit fit any memtableSize only when they go to the"
                    + " value log (a " + ValuePointer.SIZE + "-byte pointer in the memtable)");
        }
        submit(write.start(batch, sync || options.syncWrites(), false, null));
    }

    /**
     * Queues a request, leads its group when it reaches the head, and rethrows its error; an
     * {@link Error} met while leading is rethrown as it is, once the group's writers are done.
     */
    private void submit(PendingWrite write) {
        if (!join(write)) {
            write.waiter.await(write.turnCame);
        }
        if (!write.done) {
            lead(write);
        }
        if (write.error != null) {
            throw write.error;
        }
        if (write.applyingGroup != null) {
            insertAndAwaitPublication(write);
        }
    }

    /**
     * Adds {@code write} to the queue with one compare-and-set on {@link #newestWriter}, taking no
     * lock (RocksDB's {@code WriteThread::LinkOne}); returns whether the queue was empty, which
     * makes {@code write} its head and the leader.
     */
    private boolean join(PendingWrite write) {
        write.newer = null;
        while (true) {
            PendingWrite newest = newestWriter;
            write.older = newest;
            if (NEWEST_WRITER.compareAndSet(this, newest, write)) {
                return newest == null;
            }
        }
    }

    /**
     * Links each queued writer to the next newer one ({@link PendingWrite#newer}), walking from the
     * newest along {@link PendingWrite#older} until a writer linked already or the head. Called by
     * the leader only: every writer the walk reaches is queued, and none of them leaves the queue
     * while it runs.
     */
    private void linkNewer() {
        PendingWrite w = newestWriter;
        while (true) {
            PendingWrite older = w.older;
            if (older == null || older.newer != null) {
                return;
            }
            older.newer = w;
            w = older;
        }
    }

    /**
     * Takes the group that ends at {@code last} out of the queue and returns the next leader, the
     * writer after {@code last}, or null if the queue is empty now. Called by the leader before
     * any writer of its group is done: a writer that is done may join again at once, changing its
     * links.
     */
    private PendingWrite detach(PendingWrite last) {
        if (newestWriter == last && NEWEST_WRITER.compareAndSet(this, last, null)) {
            return null;
        }
        linkNewer();
        PendingWrite next = last.newer;
        next.older = null; // the head: a later walk stops here, short of the group's writers
        return next;
    }

    /**
     * Inserts {@code w}'s batch into its group's memtable, then waits until the group is
     * published; takes no lock. A failed insert fails the pipeline, this group and the unpublished
     * groups after it; an {@link Error} is rethrown to this writer, the others of the group get
     * the pipeline's failure.
     */
    private void insertAndAwaitPublication(PendingWrite w) {
        ApplyingGroup group = w.applyingGroup;
        Throwable error = null;
        try {
            apply(group.target, w);
        } catch (RuntimeException | Error e) {
            error = e;
            failInserts(group, e); // before the count drops, so that nobody publishes the group
        }
        if (group.insertDone() == 0) {
            publishFrom(group);
            if (unfinishedGroups.decrementAndGet() == 0) {
                allInserted.wake();
            }
        }
        w.waiter.await(w.groupSettled);
        if (error instanceof Error fatal) {
            throw fatal;
        }
        if (visibleVersion < group.lastVersion) {
            throw group.error;
        }
    }

    /**
     * Publishes {@code group}, whose inserts are all done, if the group before it is published,
     * and then every later group whose inserts are done, in version order; wakes their writers.
     * A group that failed an insert is never published, so neither is any later group: that
     * would make visible versions above a batch that is half in the memtable.
     *
     * <p>Takes no lock. The writer that finishes a group's inserts calls this after its count
     * drops to 0; if the previous group is not published yet, the compare-and-set fails, and the
     * writer that publishes the previous group reads this group's count (after its own
     * compare-and-set) and publishes it instead: each of the two writes before it reads, so at
     * least one of them sees the other's write.
     */
    private void publishFrom(ApplyingGroup group) {
        ApplyingGroup g = group;
        while (g.inserting() == 0 && g.error == null
                && VISIBLE_VERSION.compareAndSet(this, g.previousVersion, g.lastVersion)) {
            g.published = true;
            applyingFootprint.addAndGet(-g.footprint);
            PendingWrite[] inserters = g.inserters;
            for (int i = 0; i < inserters.length; i++) {
                inserters[i].wake();
                // The pipeline keeps the last group (lastGroup) until the next one: unlinked, its
                // writers' batches are not kept alive after their writes returned.
                inserters[i] = null;
            }
            ApplyingGroup next = g.next;
            // Nobody follows the link of a published group: unlinked, a dead group that was
            // promoted to the old generation does not keep every later group (and its batches) alive.
            g.next = null;
            if (next == null) {
                return;
            }
            g = next;
        }
    }

    /**
     * Fails the pipeline after {@code cause} broke an insert of {@code group}, and fails that group
     * and every group after it, none of which can be published now; wakes their writers. A group
     * a leader links after the last one while this runs gets the error from the leader
     * ({@link #startInserting}).
     */
    private void failInserts(ApplyingGroup group, Throwable cause) {
        RuntimeException error = fail(cause);
        for (ApplyingGroup g = group; g != null; g = g.next) {
            if (g.error == null) {
                g.error = error;
            }
            for (PendingWrite w : g.inserters) {
                w.wake();
            }
        }
    }

    /**
     * Waits until every group in the WAL is in the memtable and published (or failed), so that the
     * caller sees every earlier write and no insert runs. Called with the lock held, by the
     * queue's head or by {@link #close()} once the queue is empty, so one thread at a time;
     * waiting releases the lock.
     */
    private void awaitInserted() {
        allInserted.await();
    }

    /**
     * Waits, for {@link #close()} (with the lock held, {@link #closed} set), until the write queue
     * is empty: every queued writer has led or been taken in a group, and each one that leads
     * now fails at once. Waiting releases the lock, which the leaders take.
     */
    private void awaitQueueEmpty() {
        queueEmpty.await();
    }

    /**
     * A wait, by one thread at a time holding the lock, for a condition that threads without the
     * lock make true and then {@link #wake()} it (the last insert of the groups in flight, the
     * leader that empties the queue); waiting releases the lock.
     */
    private final class LockReleasingWait {
        private final BooleanSupplier ready;
        /** The waiting thread's waiter, null when nobody waits. */
        private volatile HandOffWaiter waiter;

        LockReleasingWait(BooleanSupplier ready) {
            this.ready = ready;
        }

        /** Returns once {@code ready} holds, with the lock held again. */
        void await() {
            if (ready.getAsBoolean()) {
                return;
            }
            HandOffWaiter w = new HandOffWaiter();
            // Written before ready is read again, while a waker makes ready true before it reads
            // this field: one of the two sees the other's write, so the wake-up is not lost.
            waiter = w;
            lock.unlock();
            try {
                w.await(ready);
            } finally {
                waiter = null;
                lock.lock();
            }
        }

        /** Wakes the waiting thread, if any; call after making {@code ready} true. */
        void wake() {
            HandOffWaiter w = waiter;
            if (w != null) {
                w.wake();
            }
        }
    }

    /**
     * Freezes the active memtable (if it holds anything) through the write queue, so that no
     * group is being applied to it, then waits until every frozen memtable is flushed.
     */
    void flush() {
        submit(new PendingWrite().start(new WriteBatch(), false, true, null));
        lock.lock();
        try {
            while (memtables.size() > 1 && failure == null && !closed) {
                backgroundProgress.awaitUninterruptibly();
            }
            checkUsable();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Writes the batch {@code atApply} returns when it is given {@code batch} by the leader, in a
     * group of its own after every earlier write is applied, so nothing can slip in between the
     * check and the write. {@code atApply} may filter the batch (value-log GC keeps only keys that
     * are unchanged) or throw to refuse it (a transaction's conflict check); its exception reaches
     * this caller only, and the database stays writable.
     *
     * @return the version the batch was written at, or 0 if nothing was written
     */
    long writeChecked(WriteBatch batch, UnaryOperator<WriteBatch> atApply, boolean sync) {
        PendingWrite write = new PendingWrite().start(batch, sync || options.syncWrites(), false, atApply);
        submit(write);
        return write.batch.isEmpty() ? 0 : write.version;
    }

    /**
     * Where the write path stands between two write groups: every version up to {@code version}
     * is applied and visible and nothing above it is written; the active WAL ({@code walNumber},
     * -1 if none: opened read-only) holds {@code walBytes} bytes and the active value-log file
     * ({@code valueLogFileId}, -1 if none) {@code valueLogBytes} bytes, all written though perhaps
     * not yet fsynced. Versions are handed out in WAL order, so the first {@code walBytes} bytes of
     * the WAL and the first {@code valueLogBytes} of the value-log file hold exactly the writes of
     * the active memtable at or below {@code version}.
     */
    record WriteFrontier(long version, long walNumber, long walBytes, long valueLogFileId, long valueLogBytes) {
    }

    /**
     * Runs {@code capture} between two write groups, with the pipeline's lock held and every
     * earlier write applied, so that no write can change what it reads; returns what it returns.
     * Writes nothing: it takes its turn in the write queue like an empty write (so it waits, as
     * writers do, while level 0 is at its stop trigger).
     */
    <T> T atWriteBoundary(Function<WriteFrontier, T> capture) {
        List<T> result = new ArrayList<>(1);
        UnaryOperator<WriteBatch> atApply = empty -> {
            result.add(capture.apply(frontier()));
            return empty;
        };
        if (options.readOnly()) { // no writer can run
            lock.lock();
            try {
                checkUsable();
                return capture.apply(frontier());
            } finally {
                lock.unlock();
            }
        }
        submit(new PendingWrite().start(new WriteBatch(), false, false, atApply));
        return result.get(0);
    }

    private WriteFrontier frontier() {
        long valueLogFile = valueLog.activeFileId();
        if (valueLogFile >= 0) {
            try {
                valueLog.writeStagedEntries(); // the frontier's bytes are read from the file
            } catch (IOException e) {
                throw new StorageException("cannot write the value-log stage to value-log file " + valueLogFile
                        + ": " + e, e);
            }
        }
        try {
            return new WriteFrontier(visibleVersion, wal == null ? -1 : wal.number(), wal == null ? 0 : wal.size(),
                    valueLogFile, valueLogFile < 0 ? 0 : valueLog.size(valueLogFile));
        } catch (IOException e) {
            throw new StorageException("cannot read the size of write-ahead log " + wal.name() + ": " + e, e);
        }
    }

    /** Makes every acknowledged write durable. */
    void sync() {
        submit(new PendingWrite().start(new WriteBatch(), true, false, null));
    }

    /**
     * Runs one group commit with {@code leader} at the head of the queue, then hands the lead on
     * ({@link #leave}). Takes the lock, which only the leader (and the rare calls from
     * {@link #close()} and background work) takes: writers join the queue without it. A request
     * that {@link #prepare} refuses fails alone and the rest of the group is written; an
     * {@link Error}, or an exception where none is expected, fails the pipeline and the group, and
     * is rethrown once the lead is handed on, so that the writers queued behind are not stranded.
     */
    private void lead(PendingWrite leader) {
        RuntimeException error;
        Throwable unexpected = null;
        lock.lock();
        try {
            error = commitGroup(leader);
        } catch (RuntimeException | Error e) {
            unexpected = e;
            error = fail(e);
        } finally {
            lock.unlock();
        }
        leave(leader, error);
        if (unexpected instanceof Error fatal) {
            throw fatal;
        }
        if (unexpected != null) {
            throw (RuntimeException) unexpected;
        }
    }

    /**
     * Forms {@code leader}'s group, appends it to the WAL and hands it to its writers for their
     * inserts; returns the error of the whole group, if any (a request's own error is set on it).
     * Called with the lock held; sets {@link #groupLast} and {@link #groupMembers}.
     */
    private RuntimeException commitGroup(PendingWrite leader) {
        groupLast = leader;
        groupMembers = 1;
        try {
            checkUsable();
            collectGroup(leader);
            if (leader.atApply != null) {
                awaitInserted();
                checkUsable();
                leader.batch = leader.atApply.apply(leader.batch);
            }
        } catch (RuntimeException e) {
            leader.error = e;
            groupLast = leader; // the leader alone leaves the queue: the writers behind it lead in turn
            groupMembers = 1;
            return null;
        }
        boolean syncGroup = false;
        long footprint = 0;
        for (int i = 0; i < group.size(); i++) {
            PendingWrite w = group.get(i);
            syncGroup |= w.sync;
            footprint += memtableFootprint(w.batch);
        }
        try {
            if (leader.rotate) {
                if (!memtables.get(0).isEmpty()) {
                    rotate();
                }
            } else {
                throttleForLevel0();
                makeRoom(footprint);
                if (!options.syncWrites() && EarlyWriteBack.due(memtables.get(0).sizeBytes(), options.memtableSize())) {
                    wal.startEarlyWriteBack(); // its rotation comes with the memtable's; synced writes leave nothing to write
                }
            }
            long nowMillis = anyTtl(group) ? options.clock().millis() : 0;
            int kept = 0;
            for (int i = 0; i < group.size(); i++) {
                PendingWrite w = group.get(i);
                if (prepare(w, nowMillis)) {
                    group.set(kept++, w);
                }
            }
            while (group.size() > kept) {
                group.remove(group.size() - 1);
            }
            for (int i = 0; i < group.size(); i++) {
                PendingWrite w = group.get(i);
                if (!w.batch.isEmpty()) {
                    w.version = clock.next();
                }
            }
        } catch (IOException | RuntimeException e) {
            group.clear();
            return fail(e);
        }
        MemTable target = memtables.get(0);
        RuntimeException error = commitUnlocked(syncGroup);
        if (error == null) {
            startInserting(target, footprint);
        }
        group.clear();
        return error;
    }

    /**
     * Takes the leader's group out of the queue, hands the lead to the next writer (or wakes
     * {@link #close()} if it waits for the queue to empty), and marks the group's writers done,
     * with {@code error} for those without an error of their own. Called without the lock: from
     * the moment the group is detached another leader may run, so this reads nothing of the
     * pipeline's but the queue and {@link #queueEmpty}.
     */
    private void leave(PendingWrite leader, RuntimeException error) {
        PendingWrite last = groupLast;
        int members = groupMembers;
        PendingWrite next = detach(last);
        if (next != null) {
            next.leading = true;
            next.wake();
        } else {
            queueEmpty.wake();
        }
        PendingWrite w = leader;
        for (int i = 0; i < members; i++) { // those refused by prepare included
            PendingWrite newer = w.newer; // read first: once done, its writer may join again
            if (w.error == null) {
                w.error = error;
            }
            w.done = true;
            if (w != leader) {
                w.wake();
            }
            w = newer;
        }
    }

    /**
     * Hands the group, now in the WAL, to its writers for their memtable inserts into
     * {@code target}. A group that comes after a failed insert is failed at once.
     */
    private void startInserting(MemTable target, long footprint) {
        int inserting = 0;
        long lastVersion = 0;
        PendingWrite lastInserter = null;
        for (int i = 0; i < group.size(); i++) {
            PendingWrite w = group.get(i);
            if (!w.batch.isEmpty()) {
                inserting++;
                lastVersion = w.version;
                lastInserter = w;
            }
        }
        if (inserting == 0) {
            return;
        }
        ApplyingGroup previous = lastGroup;
        // A published group needs no link: this group's inserts start after it is published, so
        // the writer that finishes them publishes it. A group not published when read here is
        // linked before any insert starts, so its publisher follows the link if they are done first.
        boolean afterUnpublished = previous != null && visibleVersion < previous.lastVersion;
        ApplyingGroup applyingGroup;
        if (inserting == 1 && !afterUnpublished) {
            applyingGroup = soleGroupOf(lastInserter);
        } else {
            PendingWrite[] inserters = new PendingWrite[inserting];
            int at = 0;
            for (int i = 0; i < group.size(); i++) {
                PendingWrite w = group.get(i);
                if (!w.batch.isEmpty()) {
                    inserters[at++] = w;
                }
            }
            applyingGroup = new ApplyingGroup(id, inserters);
        }
        applyingGroup.begin(target, lastGroupVersion, lastVersion, footprint);
        unfinishedGroups.incrementAndGet();
        applyingFootprint.addAndGet(footprint);
        if (afterUnpublished) {
            // Linked before the error is read, while failInserts writes the error before it
            // follows the link: the new group gets a failure either way.
            previous.next = applyingGroup;
            RuntimeException previousError = previous.error;
            if (previousError != null) {
                applyingGroup.error = previousError;
            } else if (visibleVersion >= previous.lastVersion) {
                // Published meanwhile, so this group's writers publish it themselves, and the
                // publisher either read the link (and stops at this group, not inserted yet) or
                // never will: unlinked, a published group (perhaps a request's sole group, which
                // its thread keeps) keeps this group and its memtable from the garbage collector.
                previous.next = null;
            }
        }
        lastGroup = applyingGroup;
        lastGroupVersion = lastVersion;
        for (PendingWrite w : applyingGroup.inserters) {
            w.applyingGroup = applyingGroup;
        }
    }

    /**
     * {@code inserter}'s {@linkplain PendingWrite#soleGroup sole group}, holding it as its only
     * inserter: the one it used last, unless that one is another pipeline's (whose last group it
     * may still be) or was never published (it failed: a new one keeps the failed one as it was),
     * or else a new one it keeps.
     */
    private ApplyingGroup soleGroupOf(PendingWrite inserter) {
        ApplyingGroup sole = inserter.soleGroup;
        if (sole == null || sole.pipelineId != id || !sole.published) {
            sole = new ApplyingGroup(id, new PendingWrite[1]);
            inserter.soleGroup = sole;
        }
        sole.inserters[0] = inserter;
        return sole;
    }

    /** Whether an entry of {@code writes} has a TTL: only then do their expiries need the clock. */
    private static boolean anyTtl(List<PendingWrite> writes) {
        for (int w = 0; w < writes.size(); w++) {
            WriteBatch batch = writes.get(w).batch;
            for (int i = 0; i < batch.size(); i++) {
                if (batch.hasTtl(i)) {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * Computes what depends on {@code w} alone and can refuse it (each entry's expiry from its
     * TTL and the clock) before anything shared is touched; returns false, with {@code w}'s
     * error set, if {@code w} cannot be written, so that it leaves the group alone.
     */
    private static boolean prepare(PendingWrite w, long nowMillis) {
        WriteBatch batch = w.batch;
        try {
            w.ensureEntries(batch.size());
            for (int i = 0; i < batch.size(); i++) {
                w.expiresAt[i] = batch.expiresAtMillis(i, nowMillis);
            }
            return true;
        } catch (RuntimeException e) {
            w.error = e;
            return false;
        }
    }

    /**
     * Takes into {@link #group} the leader and the writers queued behind it, in order, until one
     * must lead a group of its own or the group's footprint would pass its budget
     * ({@link #MAX_GROUP_FOOTPRINT}, at most the memtable size).
     */
    private void collectGroup(PendingWrite leader) {
        group.clear();
        group.add(leader);
        if (newestWriter == leader) { // a lone writer's group: nothing to link
            return;
        }
        linkNewer();
        long budget = Math.min(MAX_GROUP_FOOTPRINT, options.memtableSize());
        long footprint = leader.batch.memtableFootprint();
        PendingWrite last = leader;
        for (PendingWrite w = leader.newer; w != null && !w.alone() && !leader.alone(); w = w.newer) {
            long size = w.batch.memtableFootprint();
            if (footprint + size > budget) {
                break;
            }
            footprint += size;
            group.add(w);
            last = w;
        }
        groupLast = last;
        groupMembers = group.size();
    }

    /**
     * Appends and syncs the group without holding the lock; returns the error, if any. The
     * value-log entries a failed group appended are dead bytes: no WAL record points at them. An
     * {@link Error} is rethrown (the lock held again).
     */
    private RuntimeException commitUnlocked(boolean syncGroup) {
        WalWriter log = wal;
        long bytes = 0;
        lock.unlock();
        Throwable error = null;
        boolean batchRecords = false;
        boolean marked = false;
        try {
            encoder.reset();
            if (syncGroup) {
                encoder.reserveDurableMark();
            }
            for (int i = 0; i < group.size(); i++) {
                PendingWrite w = group.get(i);
                if (!w.batch.isEmpty()) {
                    separateValues(w);
                    encode(w);
                    batchRecords = true;
                }
            }
            valueLog.publishAppended();
            if (syncGroup) {
                valueLog.sync();
                marked = durableMarkDue();
                if (marked) {
                    encoder.fillDurableMark(valueLog.activeFileId(), valueLog.syncedBytes());
                }
            }
            bytes = encoder.appendTo(log);
            if (marked) {
                markWritten();
            }
            if (syncGroup) {
                log.sync();
            }
        } catch (IOException | RuntimeException | Error e) {
            error = e;
        } finally {
            lock.lock();
        }
        if (error instanceof Error fatal) {
            throw fatal;
        }
        if (error != null) {
            return fail(error);
        }
        if (batchRecords) {
            writeGroups++;
        }
        walBytes += bytes;
        for (int i = 0; i < group.size(); i++) {
            if (!group.get(i).batch.isEmpty()) {
                batchesWritten++;
            }
        }
        if (syncGroup) {
            walSyncs++;
        }
        return null;
    }

    /**
     * Decides what the WAL and memtable store for each entry: values at or above the value
     * threshold go to the value log and are replaced by a pointer.
     */
    private void separateValues(PendingWrite w) throws IOException {
        WriteBatch batch = w.batch;
        int n = batch.size();
        w.stored = n;
        byte moved = batch.isValueLogMoves() ? ValueStruct.META_MOVED : 0;
        for (int i = 0; i < n; i++) {
            byte[] value = batch.value(i);
            if (batch.isTombstone(i)) {
                w.storedMeta[i] = ValueStruct.META_TOMBSTONE;
                w.storedValues[i] = value;
            } else if (goesToValueLog(value.length, options.valueThreshold())) {
                w.storedMeta[i] = (byte) (ValueStruct.META_VALUE_POINTER | moved);
                byte[] pointer = w.pointer(i);
                valueLog.add(batch.key(i), w.version, value, pointer);
                w.storedValues[i] = pointer;
            } else {
                w.storedMeta[i] = moved;
                w.storedValues[i] = value;
            }
        }
    }

    /** Whether a set's value of {@code valueLength} bytes is stored in the value log, not in the memtable. */
    static boolean goesToValueLog(int valueLength, int valueThreshold) {
        return valueLength >= valueThreshold;
    }

    /**
     * At most the memtable bytes of one entry (see {@link MemTable#maxEntryFootprint}): a value
     * that goes to the value log counts as its {@value ValuePointer#SIZE}-byte pointer, the only
     * part of it the memtable holds.
     */
    static long entryFootprint(int keyLength, int valueLength, boolean tombstone, int valueThreshold) {
        boolean pointer = !tombstone && goesToValueLog(valueLength, valueThreshold);
        return MemTable.maxEntryFootprint(keyLength, pointer ? ValuePointer.SIZE : valueLength);
    }

    /** At most the memtable bytes {@code batch} takes: the sum of its entries' {@link #entryFootprint}. */
    private long memtableFootprint(WriteBatch batch) {
        long bytes = 0;
        for (int i = 0; i < batch.size(); i++) {
            bytes += entryFootprint(batch.key(i).length, batch.value(i).length, batch.isTombstone(i),
                    options.valueThreshold());
        }
        return bytes;
    }

    private void encode(PendingWrite w) {
        encoder.beginBatch(w.version);
        for (int i = 0; i < w.batch.size(); i++) {
            encoder.addEntry(w.storedMeta[i], w.batch.userMeta(i), w.expiresAt[i], w.batch.key(i), w.storedValues[i]);
        }
        encoder.endBatch();
    }

    private static void apply(MemTable target, PendingWrite w) {
        for (int i = 0; i < w.batch.size(); i++) {
            target.put(w.batch.key(i), w.version, w.storedMeta[i], w.batch.userMeta(i), w.expiresAt[i],
                    w.storedValues[i]);
        }
    }

    /**
     * Rotates to a new memtable and WAL when the active one cannot take {@code footprint} more
     * bytes. When too many frozen memtables wait for flushing, the leader first waits (a write
     * stall) so that memory stays bounded.
     */
    private void makeRoom(long footprint) throws IOException {
        MemTable active = memtables.get(0);
        // Read before the memtable's size: a group leaves the count after its inserts are in it.
        long inFlight = applyingFootprint.get();
        if (footprint == 0 || active.sizeBytes() + inFlight + footprint <= options.memtableSize()) {
            return;
        }
        awaitInserted();
        if (active.sizeBytes() + footprint <= options.memtableSize()) {
            return;
        }
        rotate();
    }

    /**
     * Freezes the active memtable, once no group is still inserting into it, and starts a new one
     * with a new WAL; may stall first.
     */
    private void rotate() throws IOException {
        awaitInserted();
        boolean stalled = false;
        while (memtables.size() - 1 >= options.maxImmutableMemtables() && failure == null && !closed) {
            stalled = true;
            backgroundProgress.awaitUninterruptibly();
        }
        if (stalled) {
            writeStalls++;
        }
        checkUsable();
        valueLog.sync();
        appendDurableMark();
        wal.sync();
        walSyncs++;
        wal.close();
        startNewWal();
        flushTrigger.run();
    }

    /**
     * Holds writers back while level 0 is too full for reads to stay fast: at the stop trigger they
     * wait for compaction to bring it down, at the slowdown trigger each group waits 1 ms so that
     * compaction gets the disk. Called by the leader with the lock held; waiting releases it.
     */
    private void throttleForLevel0() {
        int level0 = versions.level0SublevelCount();
        if (level0 >= options.level0StopTrigger()) {
            writeStalls++;
            while (versions.level0SublevelCount() >= options.level0StopTrigger() && failure == null && !closed) {
                backgroundProgress.awaitUninterruptibly();
            }
            checkUsable();
        } else if (level0 >= options.level0SlowdownTrigger()) {
            writeSlowdowns++;
            try {
                backgroundProgress.await(1, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Whether the active value-log file's durable length differs from the last durable mark's
     * (and is not 0: a file nothing was synced to needs no mark). Called by the leader after
     * {@link ValueLog#sync()}.
     */
    private boolean durableMarkDue() {
        long length = valueLog.syncedBytes();
        return length > 0 && (valueLog.activeFileId() != markedFileId || length != markedLength);
    }

    /** Notes the value-log durable state a mark just appended to the WAL records. */
    private void markWritten() {
        markedFileId = valueLog.activeFileId();
        markedLength = valueLog.syncedBytes();
    }

    /**
     * Appends a value-log durable mark to the WAL on its own, if one is due; the caller has just
     * fsynced the value log and fsyncs the WAL next (rotation, close). Nothing else may use the
     * encoder meanwhile.
     */
    private void appendDurableMark() throws IOException {
        if (!durableMarkDue()) {
            return;
        }
        encoder.reset();
        encoder.addDurableMark(valueLog.activeFileId(), valueLog.syncedBytes());
        walBytes += encoder.appendTo(wal);
        markWritten();
    }

    /** Wakes writers waiting for a flush or compaction. */
    void signalBackgroundProgress() {
        lock.lock();
        try {
            backgroundProgress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Creates the next WAL file and its empty memtable; the WAL's name is durable before use. */
    private void startNewWal() throws IOException {
        long number = versions.newFileNumber();
        String name = FileNames.name(number, FileNames.Kind.WAL);
        wal = new WalWriter(storage.createLog(name), number, name);
        storage.syncDirectory();
        List<MemTable> next = new ArrayList<>(memtables.size() + 1);
        next.add(new MemTable(number, MemTable.DEFAULT_CHUNK_BITS, options.memtableSize()));
        next.addAll(memtables);
        memtables = List.copyOf(next);
    }

    /** The oldest frozen memtable, the next to flush, or null if only the active one exists. */
    MemTable oldestImmutable() {
        List<MemTable> current = memtables;
        return current.size() > 1 ? current.get(current.size() - 1) : null;
    }

    /**
     * The lowest WAL number still needed once {@code flushed} (the oldest memtable) is in a table:
     * that of the next newer memtable.
     */
    long walNumberAfter(MemTable flushed) {
        List<MemTable> current = memtables;
        int at = current.indexOf(flushed);
        if (at <= 0) {
            throw new IllegalStateException("memtable of WAL " + flushed.walNumber() + " is not frozen");
        }
        return current.get(at - 1).walNumber();
    }

    /** Drops a flushed memtable (its table is installed) and wakes stalled writers. */
    void removeFlushed(MemTable flushed) {
        lock.lock();
        try {
            List<MemTable> next = new ArrayList<>(memtables);
            next.remove(flushed);
            memtables = List.copyOf(next);
            backgroundProgress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Background work failed: no more writes, and stalled writers give up. */
    void failBackground(Throwable cause) {
        lock.lock();
        try {
            fail(cause);
            backgroundProgress.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Records a write-path failure (the first one sticks and makes the database refuse writes) and
     * returns the exception to hand to the writers concerned. Safe without the lock.
     */
    private RuntimeException fail(Throwable cause) {
        if (closed && cause instanceof IllegalStateException closedError) {
            return closedError;
        }
        FAILURE.compareAndSet(this, null, cause);
        if (cause instanceof TrainKVException engineError) {
            return engineError;
        }
        return new StorageException("write failed; the database refuses writes until reopened: " + cause.getMessage(), cause);
    }

    private void checkUsable() {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
        if (failure != null) {
            throw new StorageException("database refuses writes until reopened, after an earlier write failure: " + failure, failure);
        }
    }

    /**
     * Writers in the write queue, the leader included; for tests of grouping, which call it while
     * the leader is held (no group leaves the queue meanwhile, so the count is exact).
     */
    int queuedWriters() {
        int writers = 0;
        for (PendingWrite w = newestWriter; w != null; w = w.older) {
            writers++;
        }
        return writers;
    }

    /** The write-path counters, in the order {@link Stats} lists them. */
    record Counters(long batchesWritten, long writeGroups, long walSyncs, long walBytes, long writeStalls,
                    long writeSlowdowns, int memtables, long memtableBytes, long lastVersion) {
    }

    Counters counters() {
        lock.lock();
        try {
            long memtableBytes = 0;
            for (MemTable m : memtables) {
                memtableBytes += m.sizeBytes();
            }
            return new Counters(batchesWritten, writeGroups, walSyncs, walBytes, writeStalls, writeSlowdowns,
                    memtables.size(), memtableBytes, visibleVersion);
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
            backgroundProgress.signalAll();
            awaitQueueEmpty();
            awaitInserted();
            if (wal == null) {
                return; // read-only: nothing was written
            }
            try (WalWriter closing = wal) { // a failure to close is added to a failed sync's
                if (failure == null) {
                    valueLog.sync();
                    appendDurableMark();
                    wal.sync();
                }
            }
        } finally {
            lock.unlock();
        }
    }
}
