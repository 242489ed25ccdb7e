package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.util.AllocationCounter;
import io.trainkv.vlog.VlogFormat;
import java.lang.ref.WeakReference;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Each thread's writes go through one reused write request (its per-entry arrays, the arrays its
 * value pointers are encoded into, the batch of a single set): no bytes of one write may reach
 * another, and nothing of a write may stay reachable through the request once it returned.
 */
class WriteRequestReuseTest {

    private static final int THRESHOLD = 64;

    @TempDir
    Path tempDir;

    private Options options() {
        return Options.at(tempDir).valueThreshold(THRESHOLD).gcInterval(Duration.ZERO);
    }

    /** A value of {@code length} bytes whose every byte depends on {@code seed} and its position. */
    private static byte[] value(int seed, int length) {
        byte[] value = new byte[length];
        for (int j = 0; j < length; j++) {
            value[j] = (byte) (seed * 131 + j * 7 + (j >>> 8));
        }
        return value;
    }

    private static byte[] key(int i) {
        return ("key-" + i).getBytes();
    }

    @Test
    void valuesOfEveryLengthInSequenceReachTheValueLogAndReadBackIntact() throws Exception {
        // long, short, separated and inline values in turn, single sets and batches of several
        // separated values, so that every reused array is written over by shorter data too
        int[][] writes = {{5000}, {THRESHOLD}, {1}, {3000, 70, 20, 4000}, {THRESHOLD - 1}, {200}, {0},
                          {100, 9000}, {65}, {7000, 7000, 64}, {64}};
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        try (TrainKV db = TrainKV.open(options())) {
            for (int[] lengths : writes) {
                if (lengths.length == 1) {
                    keys.add(key(keys.size()));
                    values.add(value(values.size(), lengths[0]));
                    db.set(keys.get(keys.size() - 1), values.get(values.size() - 1));
                } else {
                    WriteBatch batch = new WriteBatch();
                    for (int length : lengths) {
                        keys.add(key(keys.size()));
                        values.add(value(values.size(), length));
                        batch.set(keys.get(keys.size() - 1), values.get(values.size() - 1));
                    }
                    db.write(batch);
                }
            }
            checkReads(db, keys, values, "from the memtable");
        }
        List<byte[]> separatedKeys = new ArrayList<>();
        List<byte[]> separatedValues = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) {
            if (values.get(i).length >= THRESHOLD) {
                separatedKeys.add(keys.get(i));
                separatedValues.add(values.get(i));
            }
        }
        checkValueLogHoldsExactly(separatedKeys, separatedValues);
        try (TrainKV db = TrainKV.open(options())) {
            checkReads(db, keys, values, "after a reopen, through the WAL's pointers");
        }
    }

    private static void checkReads(TrainKV db, List<byte[]> keys, List<byte[]> values, String when) {
        for (int i = 0; i < keys.size(); i++) {
            assertArrayEquals(values.get(i), db.get(keys.get(i)), "value " + i + " (" + values.get(i).length
                    + " bytes) " + when);
        }
    }

    /** The value-log files, in file order, hold exactly these entries, in this order, and nothing after them. */
    private void checkValueLogHoldsExactly(List<byte[]> keys, List<byte[]> values) throws Exception {
        List<Path> files;
        try (var list = Files.list(tempDir)) {
            files = list.filter(p -> FileNames.parseNumber(p.getFileName().toString(), FileNames.Kind.VALUE_LOG) >= 0)
                    .sorted().toList();
        }
        int next = 0;
        for (Path file : files) {
            ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
            while (bytes.hasRemaining()) {
                int at = bytes.position();
                int crc = bytes.getInt();
                bytes.getLong(); // version
                byte[] key = new byte[bytes.getInt()];
                byte[] value = new byte[bytes.getInt()];
                bytes.get(key).get(value);
                CRC32C check = new CRC32C();
                check.update(bytes.array(), at + 4, VlogFormat.entryLength(key.length, value.length) - 4);
                assertEquals((int) check.getValue(), crc, "checksum of the entry at " + at + " of " + file);
                assertArrayEquals(keys.get(next), key, "key of value-log entry " + next);
                assertArrayEquals(values.get(next), value, "value-log entry " + next);
                next++;
            }
        }
        assertEquals(keys.size(), next, "every separated value is in the value log, once");
    }

    @Test
    void writesBeforeAndAfterABatchTooLargeForTheReusedArraysReadBack() throws Exception {
        List<byte[]> keys = new ArrayList<>();
        List<byte[]> values = new ArrayList<>();
        try (TrainKV db = TrainKV.open(options())) {
            for (int round = 0; round < 2; round++) {
                WriteBatch large = new WriteBatch();
                for (int i = 0; i < 1500; i++) { // past the 1,024 entries a reused request keeps arrays for
                    keys.add(key(keys.size()));
                    values.add(value(values.size(), i % 3 == 0 ? 100 + i : i % 50));
                    large.set(keys.get(keys.size() - 1), values.get(values.size() - 1));
                }
                db.write(large);
                for (int length : new int[] {300, 5, 64}) {
                    keys.add(key(keys.size()));
                    values.add(value(values.size(), length));
                    db.set(keys.get(keys.size() - 1), values.get(values.size() - 1));
                }
            }
            checkReads(db, keys, values, "from the memtable");
        }
        try (TrainKV db = TrainKV.open(options())) {
            checkReads(db, keys, values, "after a reopen");
        }
    }

    @Test
    void aWriteKeepsNoReferenceToItsValuesOnceItReturns() throws Exception {
        try (TrainKV db = TrainKV.open(options())) {
            byte[] separated = value(1, 10_000);
            byte[] inline = value(2, 10);
            WeakReference<byte[]> separatedRef = new WeakReference<>(separated);
            WeakReference<byte[]> inlineRef = new WeakReference<>(inline);
            db.set(key(1), separated);
            WriteBatch batch = new WriteBatch().set(key(2), inline);
            db.write(batch); // the thread's last write: nothing after it writes over what its request held
            separated = null;
            inline = null;
            batch = null;
            for (int i = 0; i < 50 && (separatedRef.get() != null || inlineRef.get() != null); i++) {
                System.gc();
            }
            assertTrue(separatedRef.get() == null, "the value of a returned set is unreachable");
            assertTrue(inlineRef.get() == null, "the value of a returned batch is unreachable");
            assertArrayEquals(value(1, 10_000), db.get(key(1)));
            assertArrayEquals(value(2, 10), db.get(key(2)));
        }
    }

    /**
     * Once a thread has written, its puts allocate nothing (no entry, group, array or queue
     * iterator per put: 160 bytes a put before): values that stay in the memtable and values that
     * go to the value log, measured with the JVM's per-thread allocation counter. It checks the
     * least of ten runs of 2,000 puts, because a put now and then does allocate on the writer
     * (a memtable chunk whose allocation ahead had not started yet, a file prepared ahead).
     */
    @Test
    void aThreadsPutsAllocateNothingOnceItHasWritten() throws Exception {
        AllocationCounter allocations = AllocationCounter.orSkip();
        int runs = 10;
        int perRun = 2_000;
        byte[][] keys = new byte[runs * perRun][];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = key(i);
        }
        try (TrainKV db = TrainKV.open(options())) {
            for (int length : new int[] {THRESHOLD / 2, 4 * THRESHOLD}) {
                byte[] value = value(length, length);
                db.set(keys[0], value); // the thread's request and its group are made
                long least = allocations.leastOver(runs, run -> {
                    for (int i = run * perRun; i < (run + 1) * perRun; i++) {
                        db.set(keys[i], value);
                    }
                });
                assertTrue(least < perRun, "a run of " + perRun + " puts of " + length + "-byte values allocated "
                        + least + " bytes");
            }
            assertArrayEquals(value(4 * THRESHOLD, 4 * THRESHOLD), db.get(keys[keys.length - 1]));
        }
    }

    /**
     * A thread that wrote to a database alone keeps nothing of it once it is closed: the group its
     * request reuses names its pipeline by number, and drops the memtable when the write returns.
     */
    @Test
    void aClosedDatabaseIsNotKeptAliveByAThreadThatWroteToIt() throws Exception {
        TrainKV db = TrainKV.open(options());
        for (int i = 0; i < 1_000; i++) {
            db.set(key(i), value(i, 30));
        }
        WeakReference<WritePipeline> pipeline = new WeakReference<>(db.pipeline());
        WeakReference<Object> memtable = new WeakReference<>(db.pipeline().memtables().get(0));
        db.close();
        db = null;
        for (int i = 0; i < 50 && (pipeline.get() != null || memtable.get() != null); i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertTrue(memtable.get() == null, "the closed database's memtable is unreachable");
        assertTrue(pipeline.get() == null, "the closed database's write pipeline is unreachable");
    }
}
