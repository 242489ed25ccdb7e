package io.trainkv;

import io.trainkv.manifest.VersionSet;
import io.trainkv.vlog.ValueLog;
import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Starts value-log GC as soon as discard statistics show that a sealed value-log file has
 * crossed the discard ratio, so that GC keeps pace with overwrites instead of waiting for the
 * next {@link Options#gcInterval(java.time.Duration)}. Flushes and compactions call
 * {@link #discardsRecorded()} after installing an edit; it compares each sealed file's recorded
 * discarded bytes with its size (a map lookup per file, on the background thread that recorded
 * them, never on the write path) and, if a file is due, hands one GC run of the due files to the
 * GC thread.
 *
 * <p>No storms: at most one triggered run waits or runs at a time, and GC runs one at a time on
 * the GC thread (with the interval's runs); a collected file leaves the sealed files and the
 * statistics, so it is collected once; and a file a run examined without collecting it (its
 * whole read found damage, or the run failed) is due again only once newer discards have been
 * recorded for it, so nothing is retried while nothing changes.
 */
final class ValueLogGcTrigger {

    private static final System.Logger LOG = System.getLogger(ValueLogGcTrigger.class.getName());

    private final ValueLogGc gc;
    private final ValueLog valueLog;
    private final VersionSet versions;
    private final double discardRatio;
    private final Executor gcThread;
    private final Consumer<Throwable> failBackground;
    /** Discarded bytes of each file when a triggered run last examined it without collecting it. */
    private final Map<Long, Long> examinedAt = new HashMap<>();
    private boolean queued;
    private boolean stopped;
    private long runs;

    /**
     * @param discardRatio the ratio (discarded bytes / file bytes) at which a file is due
     * @param gcThread the single thread that runs value-log GC
     * @param failBackground told of an {@link Error} in a run (GC may be half done: writes must stop)
     */
    ValueLogGcTrigger(ValueLogGc gc, ValueLog valueLog, VersionSet versions, double discardRatio, Executor gcThread,
                      Consumer<Throwable> failBackground) {
        this.failBackground = failBackground;
        this.gc = gc;
        this.valueLog = valueLog;
        this.versions = versions;
        this.discardRatio = discardRatio;
        this.gcThread = gcThread;
    }

    /** Called after discard statistics changed: queues a GC run if a file is due and none is queued. */
    void discardsRecorded() {
        synchronized (this) {
            if (queued || stopped || dueFiles().isEmpty()) {
                return;
            }
            queued = true;
        }
        submit();
    }

    /** Hands the queued run to the GC thread. */
    private void submit() {
        try {
            gcThread.execute(this::runDue);
        } catch (RejectedExecutionException closing) {
            synchronized (this) {
                queued = false;
                notifyAll();
            }
        }
    }

    /**
     * Sealed files whose recorded discarded bytes reach the ratio of their size and have grown
     * since a triggered run last left them in place.
     */
    private synchronized Set<Long> dueFiles() {
        Map<Long, Long> discard = versions.valueLogDiscard();
        Set<Long> due = new HashSet<>();
        for (long fileId : valueLog.sealedFileIds()) {
            long size = valueLog.size(fileId);
            long discarded = discard.getOrDefault(fileId, 0L);
            Long before = examinedAt.get(fileId);
            if (size > 0 && discarded >= discardRatio * size && (before == null || discarded > before)) {
                due.add(fileId);
            }
        }
        return due;
    }

    private void runDue() {
        Set<Long> due;
        synchronized (this) {
            due = stopped ? Set.of() : dueFiles();
        }
        Map<Long, Long> discard = versions.valueLogDiscard();
        try {
            if (!due.isEmpty()) {
                ValueLogGcReport report = gc.runAutomatic(discardRatio, due::contains);
                LOG.log(System.Logger.Level.DEBUG, () -> "triggered value-log GC collected " + report.collectedFiles()
                        + " of " + due.size() + " due files");
            }
        } catch (IOException | RuntimeException e) {
            if (!isStopped()) {
                LOG.log(System.Logger.Level.WARNING, "triggered value-log GC failed", e);
            }
        } catch (Error e) {
            stop();
            failBackground.accept(e);
            LOG.log(System.Logger.Level.ERROR, "triggered value-log GC failed; the database refuses writes", e);
            throw e;
        } finally {
            boolean again;
            synchronized (this) {
                for (long fileId : due) {
                    examinedAt.put(fileId, discard.getOrDefault(fileId, 0L));
                }
                examinedAt.keySet().retainAll(new HashSet<>(valueLog.sealedFileIds()));
                runs++;
                // discards recorded meanwhile, or a file the rewrites sealed, may have made more
                // files due: the next run stays queued, so that awaitIdle() waits for it too
                again = !stopped && !dueFiles().isEmpty();
                queued = again;
                notifyAll();
            }
            if (again) {
                submit();
            }
        }
    }

    /** Triggered runs finished since open. */
    synchronized long runs() {
        return runs;
    }

    /** Waits until no triggered run is queued or running (tests, benchmarks). */
    synchronized void awaitIdle() throws InterruptedException {
        while (queued) {
            wait();
        }
    }

    private synchronized boolean isStopped() {
        return stopped;
    }

    /** Queues no more runs; a queued one does nothing. */
    synchronized void stop() {
        stopped = true;
    }
}
