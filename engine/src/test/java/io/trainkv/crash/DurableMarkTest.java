package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.CapturedLogs;
import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalFormat;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The WAL's value-log durable marks: a value log cut short where a mark shows it was fsynced (after
 * a clean close, or a sync and a process kill) is damage, and the open fails naming the value-log
 * file and changes no byte; a value-log tail a power cut dropped past the last mark is still a
 * torn tail.
 */
class DurableMarkTest {

    /** Bytes of each value: above the value threshold of {@link CrashTest#small}, so in the value log. */
    private static final int BIG = 3000;
    private static final int WRITES = 8;

    private CapturedLogs logs;

    @BeforeEach
    void captureLogs() {
        logs = new CapturedLogs();
    }

    @AfterEach
    void restoreLogs() {
        logs.close();
    }

    private static Options options(Storage storage, boolean mmap) {
        return CrashTest.small(Options.inTempDirectory().storage(storage)).mmap(mmap);
    }

    private static byte[] big(int seed) {
        byte[] value = new byte[BIG];
        new Random(seed).nextBytes(value);
        return value;
    }

    private static byte[] key(int i) {
        return ("k" + i).getBytes(StandardCharsets.UTF_8);
    }

    /** {@link #WRITES} unsynced value-log writes; the caller then syncs, closes or kills. */
    private static void writeValues(TrainKV db) {
        for (int i = 0; i < WRITES; i++) {
            db.set(key(i), big(i));
        }
    }

    @ParameterizedTest(name = "mmap={0}")
    @ValueSource(booleans = {false, true})
    void aValueLogTruncatedAfterACleanCloseFailsTheOpenAndChangesNothing(boolean mmap) throws IOException {
        SimulatedDisk disk = new SimulatedDisk();
        try (TrainKV db = TrainKV.open(options(disk, mmap))) {
            writeValues(db);
        }
        assertTruncationsAreDamage(disk, mmap);
    }

    @ParameterizedTest(name = "mmap={0}")
    @ValueSource(booleans = {false, true})
    void aValueLogTruncatedAfterASyncAndAKillFailsTheOpenAndChangesNothing(boolean mmap) throws IOException {
        SimulatedDisk disk = new SimulatedDisk();
        SimulatedDisk killed;
        try (TrainKV db = TrainKV.open(options(disk, mmap))) {
            writeValues(db);
            db.sync();
            killed = disk.processKill();
        }
        assertTruncationsAreDamage(killed, mmap);
    }

    /**
     * Cuts the newest value-log file of {@code disk} at several lengths inside its entries (on a
     * fresh copy each time) and checks that each open fails naming it, leaving every file as it was.
     */
    private void assertTruncationsAreDamage(SimulatedDisk disk, boolean mmap) throws IOException {
        String vlog = newestValueLog(disk);
        long size = disk.size(vlog);
        for (long cut : new long[] {0, 1, size / 3, size / 2, size - BIG, size - 1}) {
            SimulatedDisk copy = disk.processKill();
            try (WritableFile file = copy.openAppend(vlog)) {
                file.truncate(cut);
                file.sync();
            }
            Map<String, byte[]> before = contents(copy);
            CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(options(copy, mmap)).close(),
                    "a value log fsynced to " + size + " bytes and cut to " + cut + " is damage");
            assertEquals(vlog, e.fileName(), e.getMessage());
            assertTrue(e.getMessage().contains("durable to " + size + " bytes"), e.getMessage());
            Map<String, byte[]> after = contents(copy);
            assertEquals(before.keySet(), after.keySet(), "no file was created or deleted");
            before.forEach((name, bytes) -> assertArrayEquals(bytes, after.get(name), name + " is byte-identical"));
        }
    }

    @ParameterizedTest(name = "mmap={0}")
    @ValueSource(booleans = {false, true})
    void anUnsyncedValueAPowerCutDroppedIsStillATornTail(boolean mmap) throws IOException {
        SimulatedDisk disk = new SimulatedDisk();
        SimulatedDisk killed;
        String vlog;
        long synced;
        try (TrainKV db = TrainKV.open(options(disk, mmap))) {
            writeValues(db);
            db.sync();
            vlog = newestValueLog(disk);
            synced = disk.size(vlog);
            db.set("late".getBytes(StandardCharsets.UTF_8), big(99));
            killed = disk.processKill();
        }
        assertTrue(killed.size(vlog) > synced, "the late value went to the same value-log file");
        // the power cut kept the WAL's unsynced page and dropped the value log's
        try (WritableFile file = killed.openAppend(vlog)) {
            file.truncate(synced);
            file.sync();
        }
        try (TrainKV db = TrainKV.open(options(killed, mmap))) {
            for (int i = 0; i < WRITES; i++) {
                assertArrayEquals(big(i), db.get(key(i)), "synced write " + i);
            }
            assertNull(db.get("late".getBytes(StandardCharsets.UTF_8)), "the unsynced write is a torn tail");
        }
        assertTrue(logs.messages(Level.WARNING).stream().anyMatch(m -> m.contains("torn tail")), logs.toString());
    }

    @Test
    void aMarkIsWrittenOnlyWhenTheDurableLengthChanged() throws IOException {
        SimulatedDisk disk = new SimulatedDisk();
        TrainKV db = TrainKV.open(options(disk, false));
        String wal;
        List<Long> synced;
        try {
            db.set("small", "value");
            db.sync();
            wal = newestWal(disk);
            assertEquals(List.of(), marks(disk, wal), "no value-log bytes: no mark");
            db.set(key(0), big(0));
            db.sync();
            String vlog = newestValueLog(disk);
            synced = List.of(FileNames.parseNumber(vlog, FileNames.Kind.VALUE_LOG), disk.size(vlog));
            assertEquals(List.of(synced), marks(disk, wal), "a synced group marks what it made durable");
            long walSize = disk.size(wal);
            db.sync();
            assertEquals(walSize, disk.size(wal), "nothing new is durable: no mark");
            db.set(key(1), big(1));
        } finally {
            db.close();
        }
        String vlog = newestValueLog(disk);
        assertEquals(List.of(synced, List.of(synced.get(0), disk.size(vlog))), marks(disk, wal),
                "close marks the value log's final length");
    }

    @Test
    void aMarkDecodesDistinctlyAndAMalformedOneIsRefused() {
        ByteBuffer mark = ByteBuffer.allocate(WalFormat.DURABLE_MARK_PAYLOAD_SIZE)
                .putLong(WalFormat.DURABLE_MARK_VERSION).putInt(0).putLong(7).putLong(53771).flip();
        List<Long> seen = new ArrayList<>();
        long version = WalBatchDecoder.decode(mark, new WalBatchDecoder.Visitor() {
            @Override
            public void entry(long v, byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
                seen.add(-1L);
            }

            @Override
            public void durableMark(long fileId, long durableLength) {
                seen.add(fileId);
                seen.add(durableLength);
            }
        });
        assertEquals(WalFormat.DURABLE_MARK_VERSION, version);
        assertEquals(List.of(7L, 53771L), seen);
        ByteBuffer withEntries = ByteBuffer.allocate(WalFormat.DURABLE_MARK_PAYLOAD_SIZE)
                .putLong(WalFormat.DURABLE_MARK_VERSION).putInt(1).putLong(7).putLong(53771).flip();
        assertThrows(IllegalArgumentException.class, () -> WalBatchDecoder.decode(withEntries, (v, m, u, e, k, x) -> { }));
    }

    /** The marks of {@code wal} in order, each as [file id, durable length]. */
    private static List<List<Long>> marks(Storage storage, String wal) throws IOException {
        List<List<Long>> marks = new ArrayList<>();
        try (ReadableFile file = storage.openRead(wal)) {
            WalReader reader = new WalReader(file, wal, false);
            ByteBuffer payload;
            while ((payload = reader.next()) != null) {
                WalBatchDecoder.decode(payload, new WalBatchDecoder.Visitor() {
                    @Override
                    public void entry(long v, byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
                    }

                    @Override
                    public void durableMark(long fileId, long durableLength) {
                        marks.add(List.of(fileId, durableLength));
                    }
                });
            }
        }
        return marks;
    }

    private static String newestWal(Storage storage) throws IOException {
        return newest(storage, FileNames.Kind.WAL);
    }

    private static String newestValueLog(Storage storage) throws IOException {
        return newest(storage, FileNames.Kind.VALUE_LOG);
    }

    /** The highest-numbered non-empty file of {@code kind}. */
    private static String newest(Storage storage, FileNames.Kind kind) throws IOException {
        String newest = null;
        long highest = -1;
        for (String name : storage.list()) {
            long number = FileNames.parseNumber(name, kind);
            if (number > highest && storage.size(name) > 0) {
                highest = number;
                newest = name;
            }
        }
        return newest;
    }

    private static Map<String, byte[]> contents(Storage storage) throws IOException {
        Map<String, byte[]> contents = new TreeMap<>();
        for (String name : storage.list()) {
            try (ReadableFile file = storage.openRead(name)) {
                ByteBuffer bytes = ByteBuffer.allocate((int) file.size());
                file.read(0, bytes);
                contents.put(name, bytes.array());
            }
        }
        return contents;
    }
}
