package io.trainkv;

import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * One thread's wait for a condition other threads make true, for the write path's hand-offs (a
 * writer waiting for its turn to lead, for the leader to append its batch to the WAL, for its
 * group's publication). Those waits last a few microseconds; parking at once costs each of them
 * a futex wake-up and a reschedule, about as long as the wait itself, and the waker pays for the
 * wake-up too. So the waiter spins first, then yields, and parks only when the wait turns out
 * long, or as soon as yielding shows that every core is busy (RocksDB's
 * {@code WriteThread::AwaitState} does the same). A waker makes the condition
 * true with a volatile write and then calls {@link #wake()}, which unparks the thread only if it
 * is parked or about to park: a spinning waiter costs its waker nothing.
 */
final class HandOffWaiter {

    /**
     * Rounds of {@link Thread#onSpinWait()} before yielding: on x86 a few microseconds, the length
     * of a WAL append or a memtable insert of a small batch.
     */
    static final int SPIN_ROUNDS = 256;

    /** How long the waiter yields its core before it parks (ns). */
    static final long YIELD_NANOS = 50_000;

    /**
     * A yield that returns after this long (ns) gave the core to another thread: the cores are
     * all busy, and a waiter that keeps yielding takes turns with the thread it waits for.
     */
    static final long SLOW_YIELD_NANOS = 3_000;

    /** After this many slow yields the waiter parks at once (RocksDB's slow-yield rule). */
    static final int MAX_SLOW_YIELDS = 3;

    private final Thread thread;
    /** Set before the waiter parks and re-checks its condition; read by {@link #wake()}. */
    private volatile boolean parking;

    /** A waiter for the calling thread: only that thread may call {@link #await}. */
    HandOffWaiter() {
        this.thread = Thread.currentThread();
    }

    /**
     * Returns once {@code ready} is true: spins, then yields, then parks until a {@link #wake()}.
     * {@code ready} must read state that wakers write before they call {@link #wake()} (volatile
     * fields). Not interruptible: the wait goes on, and the interrupt status is kept.
     */
    void await(BooleanSupplier ready) {
        for (int i = 0; i < SPIN_ROUNDS; i++) {
            if (ready.getAsBoolean()) {
                return;
            }
            Thread.onSpinWait();
        }
        long now = System.nanoTime();
        long yieldUntil = now + YIELD_NANOS;
        int slowYields = 0;
        while (now - yieldUntil < 0 && slowYields < MAX_SLOW_YIELDS) {
            if (ready.getAsBoolean()) {
                return;
            }
            Thread.yield();
            long before = now;
            now = System.nanoTime();
            if (now - before > SLOW_YIELD_NANOS) {
                slowYields++;
            }
        }
        // The waker writes the condition, then reads parking; this thread writes parking, then
        // reads the condition: one of the two sees the other's write, so no wake-up is lost.
        parking = true;
        boolean interrupted = false;
        try {
            while (!ready.getAsBoolean()) {
                LockSupport.park(this);
                // park returns at once while the interrupt status is set: clear it, restore it after
                interrupted |= Thread.interrupted();
            }
        } finally {
            parking = false;
            if (interrupted) {
                thread.interrupt();
            }
        }
    }

    /**
     * Unparks the waiting thread if it parked (or is about to); call after making its condition
     * true. A spurious unpark is harmless: every park re-checks its condition.
     */
    void wake() {
        if (parking) {
            LockSupport.unpark(thread);
        }
    }
}
