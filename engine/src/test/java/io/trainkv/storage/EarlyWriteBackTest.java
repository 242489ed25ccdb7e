package io.trainkv.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link EarlyWriteBack} starts at three quarters of the way to a rotation of at least
 * {@link EarlyWriteBack#MIN_ROTATION_BYTES}, runs at most once per log through {@code start()},
 * again through {@code startAnother()} only once the last one has ended, and
 * {@link EarlyWriteBack#settle()} calls off a writeback that has not begun and waits for one that
 * has.
 */
class EarlyWriteBackTest {

    @Test
    void dueAtThreeQuartersAndAgainEveryRepeatBytesOfARotationOfAtLeastTheMinimum() {
        long rotation = 2 * EarlyWriteBack.MIN_ROTATION_BYTES;
        assertFalse(EarlyWriteBack.due(rotation - rotation / 4 - 1, rotation));
        assertTrue(EarlyWriteBack.due(rotation - rotation / 4, rotation));
        assertTrue(EarlyWriteBack.due(rotation + 1, rotation));
        long small = EarlyWriteBack.MIN_ROTATION_BYTES - 1;
        assertFalse(EarlyWriteBack.due(small, small), "a full log under the minimum rotation size");
        long repeat = EarlyWriteBack.REPEAT_BYTES;
        assertFalse(EarlyWriteBack.dueAgain(repeat - 1, rotation));
        assertTrue(EarlyWriteBack.dueAgain(repeat, rotation));
        assertFalse(EarlyWriteBack.dueAgain(small, small), "again: not under the minimum rotation size");
    }

    @Test
    void startsOnceAndSettlesToNothingBeforeItStarts() throws Exception {
        Blocking file = new Blocking();
        file.release.countDown();
        EarlyWriteBack writeBack = new EarlyWriteBack(file);
        writeBack.settle(); // never started: nothing to wait for, nothing called off
        writeBack.start();
        assertTrue(file.entered.await(1, TimeUnit.MINUTES), "the writeback ran");
        writeBack.settle();
        writeBack.start();
        writeBack.settle();
        assertEquals(1, file.calls.get(), "started once per log");
    }

    @Test
    void startsAnotherOnlyOnceTheLastHasEnded() throws Exception {
        Blocking file = new Blocking();
        EarlyWriteBack writeBack = new EarlyWriteBack(file);
        assertTrue(writeBack.startAnother(), "the first");
        assertTrue(file.entered.await(1, TimeUnit.MINUTES), "the writeback ran");
        assertFalse(writeBack.startAnother(), "not while the last one runs");
        file.release.countDown();
        writeBack.settle();
        assertTrue(writeBack.startAnother(), "again once it ended");
        awaitCalls(file, 2);
        writeBack.settle();
        assertEquals(2, file.calls.get());
    }

    /** A writeback's unchecked failure fails every later settle, also after another writeback succeeded. */
    @Test
    void anUncheckedFailureOfAWriteBackIsKeptPastLaterWriteBacks() throws Exception {
        Blocking file = new Blocking();
        file.release.countDown();
        file.failFirst = true;
        EarlyWriteBack writeBack = new EarlyWriteBack(file);
        writeBack.startAnother();
        awaitCalls(file, 1);
        IOException first = assertThrows(IOException.class, writeBack::settle);
        assertTrue(first.getMessage().contains("injected unchecked"), first.getMessage());
        assertTrue(writeBack.startAnother());
        awaitCalls(file, 2);
        assertThrows(IOException.class, writeBack::settle, "the second writeback succeeded, the first did not");
    }

    /** A writeback not started yet when awaited is called off: it never runs, and await returns at once. */
    @Test
    void awaitCallsOffAWriteBackThatHasNotStarted() throws Exception {
        Blocking busy = new Blocking();
        EarlyWriteBack running = new EarlyWriteBack(busy);
        running.start(); // occupies the one background thread
        assertTrue(busy.entered.await(1, TimeUnit.MINUTES), "the background thread took the first writeback");
        Blocking queued = new Blocking();
        EarlyWriteBack calledOff = new EarlyWriteBack(queued);
        calledOff.start();
        calledOff.settle();
        busy.release.countDown();
        running.settle();
        Blocking after = new Blocking();
        after.release.countDown();
        EarlyWriteBack last = new EarlyWriteBack(after);
        last.start(); // queued behind the called-off one
        assertTrue(after.entered.await(1, TimeUnit.MINUTES), "the thread reached the writeback queued last");
        last.settle();
        assertEquals(0, queued.calls.get(), "the called-off writeback, queued before it, never ran");
    }

    /** A writeback already running when awaited is waited for: await returns only after it ends. */
    @Test
    void awaitWaitsForAWriteBackThatIsRunning() throws Exception {
        Blocking file = new Blocking();
        EarlyWriteBack writeBack = new EarlyWriteBack(file);
        writeBack.start();
        assertTrue(file.entered.await(1, TimeUnit.MINUTES), "the writeback started");
        List<String> order = Collections.synchronizedList(new ArrayList<>());
        AtomicReference<Throwable> failed = new AtomicReference<>();
        Thread waiter = new Thread(() -> {
            try {
                writeBack.settle();
                order.add("returned");
            } catch (Throwable e) {
                failed.set(e);
            }
        });
        waiter.start();
        awaitWaiting(waiter);
        order.add("released");
        file.release.countDown();
        waiter.join();
        assertNull(failed.get());
        assertEquals(List.of("released", "returned"), order);
    }

    /**
     * Waits until {@code file} has been written back {@code calls} times, so that a settle does not
     * call off a writeback before it starts; a minute without it fails the test.
     */
    private static void awaitCalls(Blocking file, int calls) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (file.calls.get() < calls) {
            if (System.nanoTime() > deadline) {
                fail("writeback " + calls + " never ran");
            }
            Thread.sleep(1);
        }
    }

    /** Waits until {@code thread} waits (or ended); a minute without it fails the test. */
    private static void awaitWaiting(Thread thread) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (thread.getState() != Thread.State.WAITING && thread.isAlive()) {
            if (System.nanoTime() > deadline) {
                fail(thread + " never waited");
            }
            Thread.sleep(1);
        }
    }

    /** A file whose writeback announces itself and then waits to be released; nothing else is used. */
    private static final class Blocking implements WritableFile {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final AtomicInteger calls = new AtomicInteger();
        /** Whether the first writeback throws an unchecked exception, as a storage's own file might. */
        volatile boolean failFirst;

        @Override
        public void writeBack() throws IOException {
            if (calls.incrementAndGet() == 1 && failFirst) {
                throw new UncheckedIOException(new IOException("injected unchecked writeback failure"));
            }
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException(e);
            }
        }

        @Override
        public void append(ByteBuffer data) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void sync() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void truncate(long size) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long size() {
            return 0;
        }

        @Override
        public void close() {
        }
    }

}
