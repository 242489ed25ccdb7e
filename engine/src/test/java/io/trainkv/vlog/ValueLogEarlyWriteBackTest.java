package io.trainkv.vlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.EarlyWriteBack;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.ValuePointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A value-log file of a size limit of at least {@link EarlyWriteBack#MIN_ROTATION_BYTES} is written back once,
 * on another thread, when three quarters full; that writeback has ended (or was called off before
 * it started) before the file is synced, and if it failed, every later sync of the file fails.
 */
class ValueLogEarlyWriteBackTest {

    private static final int VALUE_BYTES = 256 << 10;

    @TempDir
    Path tempDir;

    @Test
    void aFileIsWrittenBackWhenThreeQuartersFullAndBeforeItsRotationSyncs() throws Exception {
        long limit = EarlyWriteBack.MIN_ROTATION_BYTES;
        Recording storage = new Recording(NioStorage.open(tempDir), false);
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        try (ValueLog log = open(storage, limit)) {
            long written = 0;
            while (written < limit - limit / 4) {
                assertFalse(storage.events().stream().anyMatch(e -> e.contains("writeBack")),
                        "not before three quarters: " + storage.events());
                written += add(log, values, pointers);
            }
            String first = storage.files().get(0);
            awaitEvent(storage, first, "writeBack end"); // nothing calls it off: it runs, however late
            assertEquals("writeBack start " + written, storage.eventsOf(first).get(0),
                    "started by the add that reached three quarters");
            while (storage.files().size() < 3) { // two rotations
                add(log, values, pointers);
            }
            log.publishAppended();
            for (int i = 0; i < values.size(); i++) {
                assertArrayEquals(values.get(i), log.read(pointers.get(i)), "value " + i);
            }
            assertEquals(List.of("writeBack start " + written, "writeBack end", "sync", "close"), storage.eventsOf(first));
            List<String> second = storage.eventsOf(storage.files().get(1));
            int end = second.indexOf("writeBack end"); // the rotation may have called it off before it started
            assertTrue(end < second.indexOf("sync") && second.indexOf("sync") < second.indexOf("close"), second.toString());
            assertTrue(second.stream().filter(e -> e.startsWith("writeBack start")).count() <= 1, second.toString());
        }
    }

    @Test
    void smallFilesAreNotWrittenBackEarly() throws Exception {
        long limit = EarlyWriteBack.MIN_ROTATION_BYTES / 2;
        Recording storage = new Recording(NioStorage.open(tempDir), false);
        try (ValueLog log = open(storage, limit)) {
            while (storage.files().size() < 3) {
                add(log, new ArrayList<>(), new ArrayList<>());
            }
        }
        assertFalse(storage.events().stream().anyMatch(e -> e.contains("writeBack")), storage.events().toString());
        assertFalse(EarlyWriteBack.due(limit, limit), "a full file under the minimum size limit");
        assertTrue(EarlyWriteBack.due(3 * (2 * limit) / 4, 2 * limit));
        assertFalse(EarlyWriteBack.due(3 * (2 * limit) / 4 - 1, 2 * limit));
    }

    @Test
    void aFailedWriteBackFailsEveryLaterSyncOfTheFile() throws Exception {
        long limit = EarlyWriteBack.MIN_ROTATION_BYTES;
        Recording storage = new Recording(NioStorage.open(tempDir), true);
        List<byte[]> values = new ArrayList<>();
        List<ValuePointer> pointers = new ArrayList<>();
        ValueLog log = open(storage, limit);
        long written = 0;
        while (written < limit - limit / 4) {
            written += add(log, values, pointers);
        }
        String first = storage.files().get(0);
        awaitEvent(storage, first, "writeBack failed");
        IOException sync = assertThrows(IOException.class, log::sync);
        assertTrue(sync.getMessage().contains("injected writeback failure"), sync.getMessage());
        assertThrows(IOException.class, log::sync, "and at every later sync: an fsync may not see the failure again");
        IOException rotation = assertThrows(IOException.class, () -> {
            while (storage.files().size() < 2) {
                add(log, values, pointers);
            }
        });
        assertTrue(rotation.getMessage().contains("early writeback"), rotation.getMessage());
        assertEquals(1, storage.files().size(), "no entry went to a next file");
        assertThrows(IOException.class, log::close);
        assertEquals("close", storage.eventsOf(first).get(storage.eventsOf(first).size() - 1), "closed all the same");
    }

    /** Waits for a background event; a minute without it fails the test instead of hanging it. */
    private static void awaitEvent(Recording storage, String file, String event) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (!storage.eventsOf(file).contains(event)) {
            if (System.nanoTime() > deadline) {
                fail(event + " never happened: " + storage.events());
            }
            Thread.sleep(1);
        }
    }

    private static ValueLog open(Storage storage, long fileSizeLimit) throws IOException {
        AtomicLong fileNumbers = new AtomicLong(1);
        return ValueLog.open(storage, List.of(), Set.of(), fileSizeLimit, false, fileNumbers::getAndIncrement,
                (name, size) -> { }, false);
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

    /** Records, per log file, its writebacks (with the file's size when one starts), syncs and close. */
    private static final class Recording implements Storage {
        private final Storage delegate;
        private final boolean failWriteBacks;
        private final List<String> events = new ArrayList<>();
        private final List<String> files = new ArrayList<>();

        Recording(Storage delegate, boolean failWriteBacks) {
            this.delegate = delegate;
            this.failWriteBacks = failWriteBacks;
        }

        synchronized List<String> events() {
            return List.copyOf(events);
        }

        synchronized List<String> files() {
            return List.copyOf(files);
        }

        /** The events of {@code file}, without the file name. */
        synchronized List<String> eventsOf(String file) {
            return events.stream().filter(e -> e.startsWith(file + ": ")).map(e -> e.substring(file.length() + 2)).toList();
        }

        private synchronized void record(String file, String event) {
            events.add(file + ": " + event);
        }

        @Override
        public WritableFile createLog(String name) throws IOException {
            WritableFile file = delegate.createLog(name);
            synchronized (this) {
                files.add(name);
            }
            return new WritableFile() {
                @Override
                public void append(ByteBuffer data) throws IOException {
                    file.append(data);
                }

                @Override
                public void append(byte[] array, int offset, int length) throws IOException {
                    file.append(array, offset, length);
                }

                @Override
                public void sync() throws IOException {
                    record(name, "sync");
                    file.sync();
                }

                @Override
                public void writeBack() throws IOException {
                    record(name, "writeBack start " + file.size());
                    if (failWriteBacks) {
                        record(name, "writeBack failed");
                        throw new IOException("injected writeback failure");
                    }
                    file.writeBack();
                    record(name, "writeBack end");
                }

                @Override
                public void truncate(long size) throws IOException {
                    file.truncate(size);
                }

                @Override
                public long size() throws IOException {
                    return file.size();
                }

                @Override
                public void close() throws IOException {
                    record(name, "close");
                    file.close();
                }
            };
        }

        @Override
        public WritableFile create(String name) throws IOException {
            return delegate.create(name);
        }

        @Override
        public WritableFile openAppend(String name) throws IOException {
            return delegate.openAppend(name);
        }

        @Override
        public ReadableFile openRead(String name) throws IOException {
            return delegate.openRead(name);
        }

        @Override
        public void rename(String source, String target) throws IOException {
            delegate.rename(source, target);
        }

        @Override
        public void delete(String name) throws IOException {
            delegate.delete(name);
        }

        @Override
        public void syncDirectory() throws IOException {
            delegate.syncDirectory();
        }

        @Override
        public List<String> list() throws IOException {
            return delegate.list();
        }

        @Override
        public boolean exists(String name) throws IOException {
            return delegate.exists(name);
        }

        @Override
        public long size(String name) throws IOException {
            return delegate.size(name);
        }

        @Override
        public DirectoryLock lock(String name) throws IOException {
            return delegate.lock(name);
        }

        @Override
        public String describe() {
            return "recording " + delegate.describe();
        }
    }
}
