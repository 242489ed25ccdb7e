package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * A {@link HandOffWaiter} that has parked is woken by its waker, an interrupt neither ends the wait
 * nor is lost, and two threads handing a turn back and forth lose no wake-up. The timeouts only
 * guard against the hangs a lost wake-up causes; they measure nothing.
 */
class HandOffWaiterTest {

    private static final Duration HANG_GUARD = Duration.ofSeconds(30);

    @Test
    void aParkedWaiterReturnsOnceWokenAfterItsConditionTurnsTrue() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            AtomicBoolean ready = new AtomicBoolean();
            AtomicReference<HandOffWaiter> waiter = new AtomicReference<>();
            Thread thread = new Thread(() -> {
                HandOffWaiter w = new HandOffWaiter();
                waiter.set(w);
                w.await(ready::get);
            });
            thread.start();
            awaitParked(thread);
            ready.set(true);
            waiter.get().wake();
            thread.join();
        });
    }

    @Test
    void anInterruptedWaiterParksAgainAndKeepsItsInterruptStatus() {
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            AtomicBoolean ready = new AtomicBoolean();
            AtomicReference<HandOffWaiter> waiter = new AtomicReference<>();
            AtomicBoolean interruptedAfter = new AtomicBoolean();
            Thread thread = new Thread(() -> {
                HandOffWaiter w = new HandOffWaiter();
                waiter.set(w);
                w.await(ready::get);
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            });
            thread.start();
            awaitParked(thread);
            thread.interrupt();
            // the waiter clears the status while it waits and parks again; one that kept it set
            // could never park again (park returns at once) and would spin with the status set
            while (thread.isInterrupted() || thread.getState() != Thread.State.WAITING) {
                Thread.sleep(1);
            }
            assertTrue(thread.isAlive(), "the interrupt did not end the wait");
            ready.set(true);
            waiter.get().wake();
            thread.join();
            assertTrue(interruptedAfter.get(), "the waiter's caller still sees the interrupt");
        });
    }

    @Test
    void twoThreadsHandingATurnBackAndForthLoseNoWakeUp() {
        int rounds = 20_000;
        assertTimeoutPreemptively(HANG_GUARD, () -> {
            Turns turns = new Turns();
            Thread odd = new Thread(() -> turns.play(1, rounds));
            odd.start();
            turns.play(0, rounds);
            odd.join();
            assertEquals(2 * rounds, turns.turn);
        });
    }

    /** A turn counter two players advance in turn, each waiting for the other through its waiter. */
    private static final class Turns {
        volatile int turn;
        final HandOffWaiter[] waiters = new HandOffWaiter[2];

        void play(int player, int rounds) {
            synchronized (this) {
                waiters[player] = new HandOffWaiter();
                notifyAll();
                while (waiters[1 - player] == null) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        throw new AssertionError(e);
                    }
                }
            }
            for (int i = 0; i < rounds; i++) {
                int mine = 2 * i + player;
                waiters[player].await(() -> turn == mine);
                // every few turns, hold on long enough that the other player gets past spinning and parks
                if (i % 64 == 0) {
                    LockSupport.parkNanos(200_000);
                }
                turn = mine + 1;
                waiters[1 - player].wake();
            }
        }
    }

    /** Waits until {@code thread} is parked: spinning and yielding are over. */
    private static void awaitParked(Thread thread) throws InterruptedException {
        while (thread.getState() != Thread.State.WAITING) {
            Thread.sleep(1);
        }
    }
}
