package io.trainkv.storage;

import io.trainkv.util.OnDemandThread;
import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes a log that is filling up (the active value-log file, the active WAL) back to disk
 * ({@link WritableFile#writeBack()}) on a background thread, so that the fsync at its rotation
 * has little left to write. Every log is fsynced in full when it is rotated, on the write
 * leader's thread (only the newest log may end torn, so the one left must be durable before
 * anything goes to the next); without this, that fsync wrote the whole log then: 50-76 ms per
 * value-log rotation in a 300,000 × 1 KiB fill, a sixth of its time, and 79-88 ms per memtable
 * rotation in a 1,000,000 × 100 B fill.
 *
 * <p>Two paces. The WAL, and a value-log file appended without the stage, are written back once,
 * at three quarters of the way to the rotation ({@link #start()}, {@link #due}), which leaves the
 * rotation's fsync the last quarter: for a log written through mappings, as the WAL is, earlier
 * or more often made the appender re-fault more pages (a writeback
 * write-protects the pages it writes, the zeros of the region prepared ahead among them) and had
 * the kernel's writeback compete with the appender's page faults: a writeback of every 1 MiB
 * region as the appender left it made the same fill 50% slower. A log appended with
 * {@code write(2)} (a value-log file written from its {@code ValueLogStage}) shares no page with a
 * mapping, so it is written back again and again, each writeback starting when the last one has
 * ended and {@link #REPEAT_BYTES} more were written ({@link #startAnother()}): its rotation's
 * fsync then writes about that much (measured in the 300,000 × 1 KiB fill: 5-10 ms per
 * value-log rotation instead of 15-21 ms with the one writeback at three quarters). Neither
 * runs for a log rotated below {@link #MIN_ROTATION_BYTES}.
 *
 * <p>Its own thread: the writeback waits for the disk, and neither the writer nor the
 * preparation of its next regions ({@code Prepared}) must wait behind it. All logs of the JVM
 * share the one daemon thread ({@link OnDemandThread}).
 */
public final class EarlyWriteBack {

    /** Smallest rotation point (bytes) for which it runs: below 8 MiB the rotation's fsync is short anyway. */
    public static final long MIN_ROTATION_BYTES = 8L << 20;

    /** Bytes a log appended with {@code write(2)} grows by between the starts of two of its writebacks. */
    public static final long REPEAT_BYTES = 4L << 20;

    private static final ThreadPoolExecutor BACKGROUND = OnDemandThread.named("trainkv-writeback");

    private final WritableFile file;
    /** The last writeback started; null before the first. Written by the log's writer only. */
    private Run last;
    /** Why a writeback failed, or null; written before its task completes, and never cleared. */
    private volatile IOException failure;

    /** The early writeback of {@code file}, not started. */
    public EarlyWriteBack(WritableFile file) {
        this.file = file;
    }

    /**
     * Whether a log {@code filledBytes} of the way to its rotation at {@code rotationBytes} (a
     * value-log file's bytes against its size limit, a memtable's bytes against its size) has
     * reached the point at which {@link #start()} is due.
     */
    public static boolean due(long filledBytes, long rotationBytes) {
        return rotationBytes >= MIN_ROTATION_BYTES && filledBytes >= rotationBytes - rotationBytes / 4;
    }

    /**
     * Whether a log appended with {@code write(2)}, {@code writtenSince} bytes past where its last
     * writeback started (or its last sync), with its rotation at {@code rotationBytes}, is due for
     * {@link #startAnother()}: {@link #REPEAT_BYTES} or more, in a log rotated at
     * {@link #MIN_ROTATION_BYTES} or more.
     */
    public static boolean dueAgain(long writtenSince, long rotationBytes) {
        return rotationBytes >= MIN_ROTATION_BYTES && writtenSince >= REPEAT_BYTES;
    }

    /**
     * Starts the writeback on the background thread, unless one was started before: a log written
     * through mappings is written back early at most once. Called by the log's writer only.
     */
    public void start() {
        if (last == null) {
            launch();
        }
    }

    /**
     * Starts another writeback on the background thread unless the last one has not ended, for a
     * log appended with {@code write(2)} only (see the class comment). Called by the log's writer only.
     *
     * @return whether it started one
     */
    public boolean startAnother() {
        if (last != null && !last.task.isDone()) {
            return false;
        }
        launch();
        return true;
    }

    private void launch() {
        AtomicBoolean claimed = new AtomicBoolean();
        FutureTask<Void> task = new FutureTask<>(() -> {
            if (!claimed.compareAndSet(false, true)) {
                return null; // called off before it started
            }
            try {
                file.writeBack();
            } catch (IOException e) {
                failure = e; // reported by settle(): a later fsync of the file may not see it again
            } catch (RuntimeException e) { // a storage's unchecked failure: kept too, or the next writeback would hide it
                failure = new IOException(e.toString(), e);
            }
            return null;
        });
        last = new Run(task, claimed);
        BACKGROUND.execute(task);
    }

    /**
     * Waits for the last writeback started to end, or calls it off if it has not begun (the file's
     * sync then does all of it); does nothing if none was started. Keeps the caller's interrupt.
     * The log's writer calls it before every sync of the file, and before closing it.
     *
     * @throws IOException if a writeback of the file failed, every time it is called: the caller's
     *         sync has failed. Linux reports a failed writeback to one fsync of the file only and
     *         may count the pages as clean afterwards, so the file's next fsync can succeed without them.
     */
    public void settle() throws IOException {
        Run run = last;
        if (run != null && !run.claimed.compareAndSet(false, true)) {
            awaitUninterruptibly(run.task);
        }
        IOException failed = failure;
        if (failed != null) {
            throw new IOException("the early writeback of the log failed, so its data may not be on disk: "
                    + failed.getMessage(), failed);
        }
    }

    private static void awaitUninterruptibly(FutureTask<Void> task) {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    task.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    throw new IllegalStateException("the writeback task catches what it throws", e);
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** One writeback of the file; {@code claimed} is taken by whichever comes first: its start, or {@link #settle()} calling it off. */
    private record Run(FutureTask<Void> task, AtomicBoolean claimed) {
    }
}
