package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A caller whose interrupt status is set is served like any other and keeps its status; the files
 * its calls touch stay usable for everyone (file channels close when an interrupted thread uses them).
 */
class InterruptedCallerTest {

    @TempDir
    Path tempDir;

    @AfterEach
    void clearInterrupt() {
        Thread.interrupted();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void anInterruptedWriterIsServedAndTheLogsStayWritable() {
        byte[] large = new byte[600 << 10];
        Arrays.fill(large, (byte) 7);
        try (TrainKV db = TrainKV.open(Options.at(tempDir))) {
            Thread.currentThread().interrupt();
            db.write(new WriteBatch().set(bytes("synced"), bytes("1")), true);
            for (int i = 0; i < 4; i++) { // 2.4 MiB: new value-log and WAL regions, preallocated while interrupted
                db.write(new WriteBatch().set(bytes("large-" + i), large), false);
            }
            assertTrue(Thread.interrupted(), "the caller keeps its interrupt status");
            db.write(new WriteBatch().set(bytes("after"), bytes("2")), true);
            assertArrayEquals(bytes("1"), db.get(bytes("synced")));
            assertArrayEquals(bytes("2"), db.get(bytes("after")));
            assertArrayEquals(large, db.get(bytes("large-3")));
        }
        try (TrainKV db = TrainKV.open(Options.at(tempDir))) {
            assertArrayEquals(large, db.get(bytes("large-0")));
            assertArrayEquals(bytes("2"), db.get(bytes("after")));
        }
    }

    @Test
    void anInterruptedWriterRotatesTheWalAndFlushesWithoutBreakingAnything() {
        try (TrainKV db = TrainKV.open(Options.at(tempDir).memtableSize(64 * 1024))) {
            Thread.currentThread().interrupt();
            for (int i = 0; i < 3000; i++) { // many memtable rotations: new WALs, directory fsyncs
                db.write(new WriteBatch().set(bytes("key-" + i), bytes("value-" + i)), i % 100 == 0);
            }
            assertTrue(Thread.interrupted(), "the caller keeps its interrupt status");
            db.write(new WriteBatch().set(bytes("after"), bytes("2")), true);
        }
        try (TrainKV db = TrainKV.open(Options.at(tempDir).memtableSize(64 * 1024))) {
            for (int i = 0; i < 3000; i++) {
                assertArrayEquals(bytes("value-" + i), db.get(bytes("key-" + i)));
            }
            assertArrayEquals(bytes("2"), db.get(bytes("after")));
        }
    }

    @Test
    void anInterruptedReaderOfTheActiveValueLogLeavesItReadable() {
        byte[] big = new byte[64 << 10];
        Arrays.fill(big, (byte) 3);
        try (TrainKV db = TrainKV.open(Options.at(tempDir))) {
            db.write(new WriteBatch().set(bytes("k"), big), false);
            Thread.currentThread().interrupt();
            assertArrayEquals(big, db.get(bytes("k")));
            assertTrue(Thread.interrupted(), "the caller keeps its interrupt status");
            assertArrayEquals(big, db.get(bytes("k")));
        }
    }
}
