package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.EarlyWriteBack;
import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The active WAL is written back early once its memtable is three quarters full, before the
 * memtable's rotation fsyncs it; a failed early writeback fails that fsync, and the database
 * then refuses writes.
 */
class WalEarlyWriteBackTest {

    private static final long MEMTABLE = EarlyWriteBack.MIN_ROTATION_BYTES;

    @TempDir
    Path tempDir;

    @Test
    void theWalIsWrittenBackAtThreeQuartersOfItsMemtableAndBeforeTheRotationSyncsIt() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(tempDir), (op, name) -> {
            if (name.endsWith(".wal") && (op == Op.WRITE_BACK || op == Op.SYNC || op == Op.CREATE)) {
                events.add(op + " " + name);
            }
        });
        try (TrainKV db = TrainKV.open(Options.at(tempDir).storage(storage).memtableSize(MEMTABLE))) {
            int written = fillToThreeQuarters(db, 0);
            String firstWal = events.get(0).substring("CREATE ".length());
            awaitEvent(events, "WRITE_BACK " + firstWal);
            while (events.stream().filter(e -> e.startsWith("CREATE ")).count() < 2) { // the memtable's rotation
                db.set(key(written), value(written));
                written++;
            }
            List<String> first = events.stream().filter(e -> e.endsWith(firstWal)).toList();
            assertEquals(List.of("CREATE " + firstWal, "WRITE_BACK " + firstWal, "SYNC " + firstWal), first);
            assertArrayEquals(value(7), db.get(key(7)));
        }
    }

    @Test
    void aFailedEarlyWriteBackOfTheWalFailsTheRotationAndTheDatabaseRefusesWrites() throws Exception {
        List<String> events = Collections.synchronizedList(new ArrayList<>());
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(tempDir), (op, name) -> {
            if (op == Op.WRITE_BACK && name.endsWith(".wal")) {
                events.add("WRITE_BACK " + name);
                throw new IOException("injected writeback failure");
            }
        });
        TrainKV db = TrainKV.open(Options.at(tempDir).storage(storage).memtableSize(MEMTABLE));
        int written = fillToThreeQuarters(db, 0);
        awaitEvent(events, null);
        int[] acknowledged = {written};
        StorageException failed = assertThrows(StorageException.class, () -> {
            for (int i = 0; i < 1_000_000; i++) {
                db.set(key(acknowledged[0]), value(acknowledged[0]));
                acknowledged[0]++;
            }
        });
        assertTrue(failed.getMessage().contains("injected writeback failure"), failed.getMessage());
        StorageException refused = assertThrows(StorageException.class, () -> db.set(key(0), value(0)));
        assertTrue(refused.getMessage().contains("refuses writes"), refused.getMessage());
        assertThrows(StorageException.class, db::close, "closing reports the failure again");
        try (TrainKV reopened = TrainKV.open(Options.at(tempDir).memtableSize(MEMTABLE))) {
            for (int i = 0; i < acknowledged[0]; i++) {
                assertArrayEquals(value(i), reopened.get(key(i)), "acknowledged put " + i);
            }
        }
    }

    /**
     * Puts 100 B values until the memtables hold three quarters of {@link #MEMTABLE}, and one more,
     * whose leader finds them so and starts the WAL's writeback; returns the puts made.
     */
    private static int fillToThreeQuarters(TrainKV db, int from) {
        int i = from;
        while (db.stats().memtableBytes() < MEMTABLE - MEMTABLE / 4) {
            for (int j = 0; j < 100; j++, i++) {
                db.set(key(i), value(i));
            }
        }
        db.set(key(i), value(i));
        return i + 1;
    }

    /** Waits for {@code event} (or any, if null); a minute without it fails the test instead of hanging it. */
    private static void awaitEvent(List<String> events, String event) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (event == null ? events.isEmpty() : !events.contains(event)) {
            if (System.nanoTime() > deadline) {
                fail((event == null ? "an early writeback" : event) + " never happened: " + events);
            }
            Thread.sleep(1);
        }
    }

    private static byte[] key(int i) {
        return String.format("key%09d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        byte[] value = new byte[100];
        Arrays.fill(value, (byte) i);
        return value;
    }
}
