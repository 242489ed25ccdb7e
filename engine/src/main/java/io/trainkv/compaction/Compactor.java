package io.trainkv.compaction;

import io.trainkv.manifest.TableHandle;
import io.trainkv.manifest.Version;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.manifest.VersionSet;
import io.trainkv.storage.Storage;
import io.trainkv.txn.SnapshotRegistry;
import java.io.IOException;
import java.time.Clock;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * Keeps the levels in shape: after each flush or compaction it picks the most urgent compaction
 * and runs it on one of {@code threads} background threads, never two on the same table. Also
 * runs forced compactions of a key range (and of everything) on the caller's thread, one caller
 * at a time, with automatic compaction paused meanwhile; {@link #close()} waits for them too. Readers never wait for it: a compaction installs a new
 * version and the old tables live on until no reader holds them.
 */
public final class Compactor implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Compactor.class.getName());

    private final Storage storage;
    private final VersionSet versions;
    private final SnapshotRegistry snapshots;
    private final Clock clock;
    private final CompactionSettings settings;
    private final CompactionPicker picker;
    private final Runnable onProgress;
    private final Consumer<Throwable> onFailure;
    private final ExecutorService executor;
    private final Set<Long> busy = new HashSet<>();
    private int running;
    private int manual;
    private boolean stopped;
    private boolean failed;
    private long readBytes;
    private long writeBytes;
    private long completed;
    private long trivialMoves;

    public Compactor(Storage storage, VersionSet versions, SnapshotRegistry snapshots, Clock clock, CompactionSettings settings, Runnable onProgress, Consumer<Throwable> onFailure) {
        this.storage = storage;
        this.versions = versions;
        this.snapshots = snapshots;
        this.clock = clock;
        this.settings = settings;
        this.picker = new CompactionPicker(settings.baseLevelSize(), settings.levelSizeMultiplier(),
                settings.level0Trigger());
        this.onProgress = onProgress;
        this.onFailure = onFailure;
        AtomicInteger threadNumber = new AtomicInteger();
        this.executor = Executors.newFixedThreadPool(settings.threads(), runnable -> {
            Thread thread = new Thread(runnable, "trainkv-compaction-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Starts as many needed compactions as there are idle threads. Cheap when nothing is needed. */
    public synchronized void maybeSchedule() {
        while (!stopped && !failed && manual == 0 && running < settings.threads()) {
            Version version = versions.acquireCurrent();
            Compaction compaction = picker.pick(version, busy);
            if (compaction == null) {
                version.unref();
                return;
            }
            claim(compaction);
            executor.execute(() -> runInBackground(compaction));
        }
    }

    /** Stops starting compactions (background work failed elsewhere); running ones finish. */
    public synchronized void halt() {
        failed = true;
    }

    /** The level targets of {@code version}, for stats. */
    public LevelTargets targets(Version version) {
        return picker.targets(version);
    }

    private void claim(Compaction compaction) {
        for (TableHandle t : compaction.allTables()) {
            busy.add(t.meta().fileNumber());
        }
        running++;
    }

    private void runInBackground(Compaction compaction) {
        try {
            execute(compaction);
        } catch (Throwable e) { // an Error too: a compaction thread that died silently would leave writers stalled
            halt();
            onFailure.accept(e);
            LOG.log(System.Logger.Level.ERROR, "background " + compaction + " failed; the database refuses writes", e);
        } finally {
            finish(compaction);
        }
        maybeSchedule();
    }

    /**
     * Runs the progress callback, then stops counting the compaction as running: whoever
     * {@link #awaitIdle() waits for idleness} also finds the work the callback queued (value-log GC
     * of the discards this compaction recorded), instead of returning in between.
     */
    private void finish(Compaction compaction) {
        try {
            onProgress.run();
        } finally {
            release(compaction);
        }
    }

    private synchronized void release(Compaction compaction) {
        for (TableHandle t : compaction.allTables()) {
            busy.remove(t.meta().fileNumber());
        }
        running--;
        compaction.version().unref();
        notifyAll();
    }

    /** Runs a picked compaction to the end: a metadata move, or a merge into new tables. */
    private void execute(Compaction compaction) throws IOException {
        VersionEdit edit;
        long written = 0;
        if (compaction.isTrivialMove()) {
            TableHandle table = compaction.inputs().get(0);
            edit = new VersionEdit().deleteTable(compaction.level(), table.meta().fileNumber())
                    .addTable(compaction.outputLevel(), table.meta());
        } else {
            long smallestSnapshot = snapshots.oldest();
            CompactionJob job = new CompactionJob(compaction, storage, versions, smallestSnapshot, clock.millis(),
                    settings.blockSize(), settings.bloomBitsPerKey(), settings.targetFileSize());
            edit = job.run();
            written = job.bytesWritten();
        }
        versions.logAndApply(edit);
        synchronized (this) {
            if (compaction.isTrivialMove()) {
                trivialMoves++;
            } else {
                completed++;
                readBytes += compaction.inputBytes();
                writeBytes += written;
            }
        }
    }

    /**
     * Compacts every table holding keys in {@code [from, to]} (null = unbounded) down to the
     * bottom level, level by level, on the calling thread. Automatic compaction waits meanwhile.
     *
     * @throws IOException on an I/O error (the caller decides what it means for writes)
     * @throws Error as thrown by the compaction, after stopping background work and reporting
     *         the failure (writes are refused from then on)
     */
    public void compactRange(byte[] from, byte[] to) throws IOException {
        synchronized (this) {
            while (manual > 0 && !stopped) {
                awaitQuietly();
            }
            if (stopped) {
                throw new IllegalStateException("database is closed");
            }
            manual++;
            while (running > 0) {
                awaitQuietly();
            }
        }
        try {
            Version first = versions.acquireCurrent();
            int levels = first.levelCount();
            first.unref();
            for (int level = 0; level < levels - 1; level++) {
                synchronized (this) {
                    if (stopped) {
                        throw new IllegalStateException("database is closed");
                    }
                }
                Version version = versions.acquireCurrent();
                Compaction compaction = picker.pickRange(version, level, from, to);
                if (compaction == null) {
                    version.unref();
                    continue;
                }
                synchronized (this) {
                    claim(compaction);
                }
                try {
                    execute(compaction);
                } catch (Error e) { // the caller's I/O errors are failed by the caller; an Error is failed here
                    halt();
                    onFailure.accept(e);
                    throw e;
                } finally {
                    finish(compaction);
                }
            }
        } finally {
            synchronized (this) {
                manual--;
                notifyAll();
            }
            maybeSchedule();
        }
    }

    public synchronized long readBytes() {
        return readBytes;
    }

    public synchronized long writeBytes() {
        return writeBytes;
    }

    /** Compactions finished since open that merged tables into new ones (trivial moves not included). */
    public synchronized long completed() {
        return completed;
    }

    /**
     * Trivial moves finished since open: a table moved to the next level by a manifest edit alone,
     * neither read nor rewritten (counted apart from {@link #completed()}, and in no byte counter).
     */
    public synchronized long trivialMoves() {
        return trivialMoves;
    }

    /** Waits until no compaction runs and none is needed (tests and benchmarks). */
    public synchronized void awaitIdle() {
        while (true) {
            maybeSchedule();
            if (running == 0) {
                return;
            }
            awaitQuietly();
        }
    }

    private void awaitQuietly() {
        try {
            wait();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for compaction", e);
        }
    }

    /** Stops scheduling, waits for running compactions to finish and stops the threads. */
    @Override
    public void close() {
        synchronized (this) {
            stopped = true;
            notifyAll();
            while (running > 0 || manual > 0) {
                awaitQuietly();
            }
        }
        executor.shutdown();
        try {
            if (!executor.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.log(System.Logger.Level.WARNING, "compaction threads did not stop within a minute");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
