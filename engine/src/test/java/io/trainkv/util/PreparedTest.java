package io.trainkv.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Work made ahead on the shared background thread: it runs once, on the background thread or on
 * the taker when the background thread has not started it, and its result or exception reaches
 * the taker.
 */
class PreparedTest {

    @Test
    void workRunsOnceOnTheBackgroundThreadAndTakeReturnsItsResult() throws Exception {
        AtomicInteger runs = new AtomicInteger();
        AtomicReference<Thread> ranOn = new AtomicReference<>();
        Prepared<String> prepared = Prepared.start(() -> {
            runs.incrementAndGet();
            ranOn.set(Thread.currentThread());
            return "made";
        });
        while (!prepared.isDone()) {
            Thread.sleep(1);
        }
        assertEquals("made", prepared.take());
        assertEquals("made", prepared.take());
        assertEquals(1, runs.get());
        assertNotSame(Thread.currentThread(), ranOn.get());
        assertEquals("trainkv-prepare", ranOn.get().getName());
        assertTrue(ranOn.get().isDaemon());
    }

    /**
     * A background thread that cannot be started (no memory for a thread) leaves the work to
     * {@link Prepared#take()}: a chunk of the memtable arena asked for then still arrives.
     */
    @Test
    void workWhoseThreadCannotStartRunsOnTheTaker() throws Exception {
        Prepared<Thread> prepared = Prepared.start(Thread::currentThread, task -> {
            throw new OutOfMemoryError("unable to create native thread: injected");
        });
        assertSame(Thread.currentThread(), prepared.take());
        Prepared<String> rejected = Prepared.start(() -> "made", task -> {
            throw new RejectedExecutionException("injected");
        });
        assertEquals("made", rejected.take());
    }

    @Test
    void takeRunsTheWorkItselfWhileTheBackgroundThreadIsBusy() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocking = new CountDownLatch(1);
        Prepared<Void> blocker = Prepared.start(() -> {
            blocking.countDown();
            release.await();
            return null;
        });
        try {
            blocking.await();
            AtomicInteger runs = new AtomicInteger();
            AtomicReference<Thread> ranOn = new AtomicReference<>();
            Prepared<Integer> queued = Prepared.start(() -> {
                ranOn.set(Thread.currentThread());
                return runs.incrementAndGet();
            });
            assertEquals(1, queued.take(), "taken without waiting for the busy background thread");
            assertSame(Thread.currentThread(), ranOn.get());
            release.countDown();
            blocker.take();
            Prepared<Void> after = Prepared.start(() -> null);
            while (!after.isDone()) { // the background thread has then passed the work taken above
                Thread.sleep(1);
            }
            assertEquals(1, runs.get(), "the background thread does not run work already taken");
        } finally {
            release.countDown();
        }
    }

    @Test
    void theWorksExceptionReachesTheTaker() {
        Prepared<Void> failing = Prepared.start(() -> {
            throw new IOException("No space left on device");
        });
        ExecutionException thrown = assertThrows(ExecutionException.class, failing::take);
        assertInstanceOf(IOException.class, thrown.getCause());
        assertEquals("No space left on device", thrown.getCause().getMessage());
    }

    @Test
    void anInterruptedTakerGetsTheResultAndKeepsItsInterrupt() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(1);
        Prepared<String> running = Prepared.start(() -> {
            started.countDown();
            release.await();
            return "late";
        });
        started.await();
        Thread taker = Thread.currentThread();
        Thread releaser = new Thread(() -> {
            taker.interrupt();
            release.countDown();
        });
        releaser.start();
        try {
            assertEquals("late", running.take());
            assertTrue(Thread.interrupted(), "the interrupt is still set for the caller");
        } finally {
            releaser.join();
            Thread.interrupted();
        }
    }
}
