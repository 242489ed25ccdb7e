package io.trainkv.util;

import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;

/**
 * Something a writer will need soon (the memtable arena's next chunk, a log file's next mapped
 * region), made ahead of time on a background thread so that the writer does not pay for it:
 * allocating and zeroing memory and the page faults of its first touch cost as much as thousands
 * of memtable inserts, and the other core is often idle.
 *
 * <p>The work runs at most once, on whichever thread gets to it first: the background thread, or
 * the writer in {@link #take()} if the background thread has not started it yet (a busy or slow
 * background never makes the writer wait longer than doing the work itself, except for a run
 * already in progress). The work must touch nothing the writer uses until {@link #take()}
 * returns its result; {@link #take()} is the hand-off (everything the work wrote happens-before
 * it returns).
 *
 * <p>All databases of the JVM share one daemon thread ({@link OnDemandThread}): the tasks are
 * short (a 1 MiB allocation, a 1 MiB mapping), so it needs no closing.
 *
 * @param <T> what the work makes
 */
public final class Prepared<T> {

    private static final ThreadPoolExecutor BACKGROUND = OnDemandThread.named("trainkv-prepare");

    private final FutureTask<T> task;

    private Prepared(Callable<T> work) {
        this.task = new FutureTask<>(work);
    }

    /**
     * Starts {@code work} on the background thread; if that thread cannot be started (no memory
     * for a thread), the work is left to {@link #take()}, which runs it on the caller.
     */
    public static <T> Prepared<T> start(Callable<T> work) {
        return start(work, BACKGROUND);
    }

    /** As {@link #start(Callable)}, on {@code background}. */
    static <T> Prepared<T> start(Callable<T> work, Executor background) {
        Prepared<T> prepared = new Prepared<>(work);
        try {
            background.execute(prepared.task);
        } catch (OutOfMemoryError | RejectedExecutionException e) {
            // nothing lost: take() runs a task that has not started
        }
        return prepared;
    }

    /**
     * The work's result: runs the work on the calling thread if it has not started, waits for it
     * if it is running (ignoring interrupts, which it leaves set for the caller).
     *
     * @throws ExecutionException with the work's exception as its cause, if the work threw
     */
    public T take() throws ExecutionException {
        task.run(); // does nothing if the background thread ran it or runs it now
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return task.get();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Whether the work has run (on either thread); {@link #take()} then returns at once. */
    public boolean isDone() {
        return task.isDone();
    }
}
