package io.trainkv.vlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.trainkv.FaultInjectingStorage;
import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.EarlyWriteBack;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.Storage;
import io.trainkv.util.ValuePointer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A value-log file of a size limit of at least {@link EarlyWriteBack#MIN_ROTATION_BYTES} is
 * written back on another thread before the rotation syncs it: appended directly, once, when three
 * quarters full; through the value-log stage ({@code write(2)}), again every
 * {@link EarlyWriteBack#REPEAT_BYTES}. If a writeback failed, every later sync of the file fails;
 * with the stage and without. (That a rotation waits for a writeback that runs, or calls off one
 * not started, is {@code EarlyWriteBackTest}'s.)
 */
class ValueLogEarlyWriteBackTest {

    private static final int VALUE_BYTES = 256 << 10;

    @TempDir
    Path tempDir;

    @Test
    void aFileAppendedDirectlyIsWrittenBackOnceWhenThreeQuartersFullAndBeforeItsRotationSyncs() throws Exception {
        long limit = EarlyWriteBack.MIN_ROTATION_BYTES;
        Events events = new Events(false);
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        try (ValueLog log = open(events.storage(tempDir), limit, false)) {
            long written = 0;
            while (written < limit - limit / 4) {
                assertFalse(events.any("WRITE_BACK"), "not before three quarters: " + events);
                written += add(log, values, pointers);
            }
            String first = events.files().get(0);
            events.await("WRITE_BACK " + first); // after the add that reached three quarters, with no add since
            while (events.files().size() < 3) { // two rotations
                add(log, values, pointers);
            }
            assertReadsBack(log, values, pointers);
            assertEquals(List.of("CREATE", "WRITE_BACK", "WRITE_BACK_ENDED", "SYNC"), events.of(first));
            List<String> second = events.of(events.files().get(1)); // its writeback may have been called off
            assertTrue(second.equals(List.of("CREATE", "WRITE_BACK", "WRITE_BACK_ENDED", "SYNC"))
                    || second.equals(List.of("CREATE", "SYNC")), second.toString());
        }
    }

    /**
     * Written from the stage, a file is written back again once {@link EarlyWriteBack#REPEAT_BYTES}
     * more were written and the last writeback ended. The test waits for each writeback to end
     * before the next add, so that the adds do not outrun the disk (then the rotation would come
     * first, as it may in a real run).
     */
    @Test
    void aStagedFileIsWrittenBackEveryRepeatBytesAndBeforeItsRotationSyncs() throws Exception {
        long limit = 4 * EarlyWriteBack.REPEAT_BYTES;
        Events events = new Events(false);
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        try (ValueLog log = open(events.storage(tempDir), limit, true)) {
            long firstId = log.activeFileId();
            String first = events.files().get(0);
            long step = EarlyWriteBack.REPEAT_BYTES;
            int started = 0;
            while (events.files().size() < 2) {
                assertEquals(started, events.count("WRITE_BACK " + first), "no writeback before " + (started + 1) * step);
                add(log, values, pointers);
                ValuePointer last = pointers.get(pointers.size() - 1);
                if (last.fileId() == firstId && last.offset() + last.length() >= (started + 1) * step) {
                    started++;
                    events.await("WRITE_BACK " + first, started); // the last one ended: this add started another
                    events.await("WRITE_BACK_ENDED " + first, started);
                }
            }
            assertReadsBack(log, values, pointers);
            assertEquals(3, started, "at 4, 8 and 12 MiB of a 16 MiB file");
            List<String> ops = events.of(first);
            assertEquals("SYNC", ops.get(ops.size() - 1), "the rotation's sync after every writeback: " + ops);
            assertEquals(3, events.count("WRITE_BACK " + first), ops.toString());
        }
    }

    /** A sync writes the file, so no writeback runs for bytes a sync covered: none if every add is synced. */
    @Test
    void aStagedFileSyncedAfterEveryAddIsNeverWrittenBack() throws Exception {
        long limit = 4 * EarlyWriteBack.REPEAT_BYTES;
        Events events = new Events(false);
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        try (ValueLog log = open(events.storage(tempDir), limit, true)) {
            while (events.files().size() < 2) {
                add(log, values, pointers);
                log.sync();
            }
            assertReadsBack(log, values, pointers);
        }
        assertFalse(events.any("WRITE_BACK"), events.toString());
    }

    private static void assertReadsBack(ValueLog log, List<byte[]> values, List<ValuePointer> pointers) throws IOException {
        log.publishAppended();
        for (int i = 0; i < values.size(); i++) {
            assertArrayEquals(values.get(i), log.read(pointers.get(i)), "value " + i);
        }
    }

    @ParameterizedTest(name = "staged {0}")
    @ValueSource(booleans = {false, true})
    void smallFilesAreNotWrittenBackEarly(boolean staged) throws Exception {
        long limit = EarlyWriteBack.MIN_ROTATION_BYTES - (1 << 20); // past REPEAT_BYTES and three quarters, below the minimum
        Events events = new Events(false);
        try (ValueLog log = open(events.storage(tempDir), limit, staged)) {
            while (events.files().size() < 3) {
                add(log, new ArrayList<>(), new ArrayList<>());
            }
        }
        assertFalse(events.any("WRITE_BACK"), events.toString());
    }

    @ParameterizedTest(name = "staged {0}")
    @ValueSource(booleans = {false, true})
    void aFailedWriteBackFailsEveryLaterSyncOfTheFile(boolean staged) throws Exception {
        long limit = EarlyWriteBack.MIN_ROTATION_BYTES;
        Events events = new Events(true);
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        ValueLog log = open(events.storage(tempDir), limit, staged);
        long written = 0;
        while (written < limit - limit / 4) {
            written += add(log, values, pointers);
        }
        events.await("WRITE_BACK " + events.files().get(0));
        IOException sync = assertThrows(IOException.class, log::sync);
        assertTrue(sync.getMessage().contains("injected writeback failure"), sync.getMessage());
        assertThrows(IOException.class, log::sync, "and at every later sync: an fsync may not see the failure again");
        IOException rotation = assertThrows(IOException.class, () -> {
            while (events.files().size() < 2) {
                add(log, values, pointers);
            }
        });
        assertTrue(rotation.getMessage().contains("early writeback"), rotation.getMessage());
        assertEquals(1, events.files().size(), "no entry went to a next file");
        assertThrows(IOException.class, log::close);
    }

    /** A value log appending directly to its files, or through the value-log stage if {@code staged}. */
    private static ValueLog open(Storage storage, long fileSizeLimit, boolean staged) throws IOException {
        AtomicLong fileNumbers = new AtomicLong(1);
        return ValueLog.open(storage, List.of(), Set.of(), fileSizeLimit, false, fileNumbers::getAndIncrement,
                (name, size) -> { }, false, staged ? ValueLogStage.open(storage, true) : null);
    }

    /** Adds an entry of {@link #VALUE_BYTES} whose value is its ordinal; returns the entry's length in the file. */
    private static long add(ValueLog log, List<byte[]> values, List<ValuePointer> pointers) throws IOException {
        int i = values.size();
        byte[] value = new byte[VALUE_BYTES];
        Arrays.fill(value, (byte) i);
        byte[] pointer = new byte[ValuePointer.SIZE];
        log.add(("key" + i).getBytes(StandardCharsets.UTF_8), i + 1, value, pointer);
        values.add(value);
        ValuePointer decoded = ValuePointer.decode(pointer);
        pointers.add(decoded);
        return decoded.length();
    }

    /** The creates, writebacks (on their thread) and syncs of value-log files, in order; writebacks fail if asked. */
    private static final class Events {
        private final List<String> events = Collections.synchronizedList(new ArrayList<>());
        private final boolean failWriteBacks;

        Events(boolean failWriteBacks) {
            this.failWriteBacks = failWriteBacks;
        }

        FaultInjectingStorage storage(Path dir) throws IOException {
            return new FaultInjectingStorage(NioStorage.open(dir), (op, name) -> {
                if (name.endsWith(".vlog")
                        && (op == Op.CREATE || op == Op.WRITE_BACK || op == Op.WRITE_BACK_ENDED || op == Op.SYNC)) {
                    events.add(op + " " + name);
                    if (op == Op.WRITE_BACK && failWriteBacks) {
                        throw new IOException("injected writeback failure");
                    }
                }
            });
        }

        boolean any(String op) {
            synchronized (events) {
                return events.stream().anyMatch(e -> e.startsWith(op + " "));
            }
        }

        List<String> files() {
            synchronized (events) {
                return events.stream().filter(e -> e.startsWith("CREATE ")).map(e -> e.substring("CREATE ".length()))
                        .toList();
            }
        }

        /** The operations on {@code file}, in order. */
        List<String> of(String file) {
            synchronized (events) {
                return events.stream().filter(e -> e.endsWith(" " + file)).map(e -> e.substring(0, e.indexOf(' ')))
                        .toList();
            }
        }

        /** How many times {@code event} happened. */
        long count(String event) {
            synchronized (events) {
                return events.stream().filter(event::equals).count();
            }
        }

        /** Waits for {@code event}; a minute without it fails the test instead of hanging it. */
        void await(String event) throws InterruptedException {
            await(event, 1);
        }

        /** Waits until {@code event} happened {@code times} times; a minute without it fails the test. */
        void await(String event, long times) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (count(event) < times) {
                if (System.nanoTime() > deadline) {
                    fail(event + " never happened: " + this);
                }
                Thread.sleep(1);
            }
        }

        @Override
        public String toString() {
            synchronized (events) {
                return events.toString();
            }
        }
    }
}
