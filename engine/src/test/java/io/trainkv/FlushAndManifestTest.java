package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Flushing memtables to level-0 tables, the manifest that records them, and recovery from both. */
class FlushAndManifestTest {

    @TempDir
    Path tempDir;

    private static List<String> files(Path dir, FileNames.Kind kind) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> FileNames.parseNumber(n, kind) >= 0).sorted().toList();
        }
    }

    private static List<String> manifests(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).filter(n -> FileNames.parseManifest(n) >= 0).toList();
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void flushMovesDataIntoTablesRetiresTheWalsAndSurvivesReopen(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        Options options = Options.at(dir).memtableSize(64 * 1024).level0Triggers(100, 200, 300);
        long lastVersion;
        try (TrainKV db = TrainKV.open(options)) {
            for (int i = 0; i < 3000; i++) {
                db.set("key-" + i, "value-" + i);
            }
            db.delete("key-7");
            db.flush();
            Stats stats = db.stats();
            assertEquals(1, stats.memtables(), "only the empty active memtable is left");
            assertTrue(stats.levels().get(0).tables() >= 3, "several L0 tables: " + stats.levels().get(0));
            assertEquals(stats.levels().get(0).tables(), files(dir, FileNames.Kind.TABLE).size());
            assertEquals("value-2999", db.get("key-2999"));
            assertNull(db.get("key-7"), "the tombstone went into a table too");
            lastVersion = stats.lastVersion();
        }
        assertEquals(1, files(dir, FileNames.Kind.WAL).size(),
                "close writes a manifest snapshot, so the flushed WALs waiting for one are gone");
        try (TrainKV db = TrainKV.open(options)) {
            assertEquals(1, files(dir, FileNames.Kind.WAL).size(), "flushed WALs are gone once a newer manifest holds them");
            assertEquals(lastVersion, db.stats().lastVersion(), "the clock resumes from the manifest");
            for (int i = 0; i < 3000; i++) {
                assertEquals(i == 7 ? null : "value-" + i, db.get("key-" + i));
            }
            db.set("key-5", "newer");
            assertEquals("newer", db.get("key-5"), "a new write beats the flushed one");
        }
        try (TrainKV db = TrainKV.open(options)) {
            assertEquals("newer", db.get("key-5"));
        }
        assertEquals(1, manifests(dir).size(), "old manifests are deleted");
        String current = Files.readString(dir.resolve(FileNames.CURRENT), StandardCharsets.UTF_8);
        assertEquals(manifests(dir).get(0) + "\n", current);
    }

    @Test
    void aTableNamedInTheManifestButMissingIsCorruptionNamingIt() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.flush();
        }
        String table = files(dir, FileNames.Kind.TABLE).get(0);
        Files.delete(dir.resolve(table));
        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
        assertEquals(table, e.fileName());
        assertTrue(e.getMessage().contains(table) && e.getMessage().contains("missing"), e.getMessage());
        assertTrue(Files.exists(dir.resolve(FileNames.CURRENT)), "a failed open changes nothing");
    }

    @Test
    void aTableWithADamagedFooterIsCorruptionNamingItAndTheOffset() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.flush();
        }
        String table = files(dir, FileNames.Kind.TABLE).get(0);
        Path path = dir.resolve(table);
        long size = Files.size(path);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0x55}), size - 3);
        }
        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(dir)));
        assertEquals(table, e.fileName());
        assertEquals(size - 52, e.offset(), e.getMessage());
    }

    @Test
    void orphanFilesLeftByACrashAreDeletedOnOpen() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.flush();
            db.set("b", "2");
        }
        Files.write(dir.resolve(FileNames.name(999, FileNames.Kind.TABLE)), new byte[] {1, 2, 3});
        Files.write(dir.resolve(FileNames.CURRENT_TEMP), new byte[] {1});
        Files.write(dir.resolve(FileNames.manifest(998)), new byte[] {1});
        Files.write(dir.resolve("notes.txt"), new byte[] {1});
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("1", db.get("a"));
            assertEquals("2", db.get("b"));
        }
        assertFalse(Files.exists(dir.resolve(FileNames.name(999, FileNames.Kind.TABLE))));
        assertFalse(Files.exists(dir.resolve(FileNames.CURRENT_TEMP)));
        assertFalse(Files.exists(dir.resolve(FileNames.manifest(998))));
        assertTrue(Files.exists(dir.resolve("notes.txt")), "files that are not the database's are left alone");
    }

    @Test
    void theManifestIsRewrittenWhenItGrowsAndStaysReadable() throws Exception {
        Path dir = tempDir.resolve("db");
        Options options = Options.at(dir).manifestRewriteSize(4096).level0Triggers(100, 200, 300);
        String firstManifest;
        try (TrainKV db = TrainKV.open(options)) {
            firstManifest = manifests(dir).get(0);
            for (int i = 0; i < 60; i++) {
                db.set("key-" + i, "x".repeat(40));
                db.flush();
            }
        }
        assertEquals(1, manifests(dir).size());
        assertTrue(FileNames.parseManifest(manifests(dir).get(0)) > FileNames.parseManifest(firstManifest));
        try (TrainKV db = TrainKV.open(options)) {
            assertEquals(60, db.stats().levels().get(0).tables());
            for (int i = 0; i < 60; i++) {
                assertEquals("x".repeat(40), db.get("key-" + i));
            }
        }
    }

    @Test
    void writersStallWhenFlushingFallsBehindAndMemoryStaysBounded() throws Exception {
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(tempDir.resolve("db")));
        CountDownLatch flushEntered = new CountDownLatch(1);
        CountDownLatch releaseFlush = new CountDownLatch(1);
        storage.hook = (op, name) -> {
            if (op == FaultInjectingStorage.Op.APPEND && name.endsWith(".sst")) {
                flushEntered.countDown();
                try {
                    releaseFlush.await(1, TimeUnit.MINUTES);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        Options options = Options.inTempDirectory().storage(storage).memtableSize(64 * 1024).maxImmutableMemtables(1);
        try (TrainKV db = TrainKV.open(options)) {
            Thread writer = new Thread(() -> {
                for (int i = 0; i < 5000; i++) {
                    db.set("key-" + i, "v".repeat(50));
                }
            });
            writer.start();
            assertTrue(flushEntered.await(1, TimeUnit.MINUTES));
            while (writer.getState() != Thread.State.WAITING && writer.isAlive()) {
                Thread.onSpinWait();
            }
            assertTrue(writer.isAlive(), "the writer waits for the flush instead of filling memory");
            assertEquals(2, db.stats().memtables(), "one active and one frozen memtable at most");
            releaseFlush.countDown();
            writer.join();
            assertTrue(db.stats().writeStalls() >= 1);
            for (int i = 0; i < 5000; i += 97) {
                assertEquals("v".repeat(50), db.get("key-" + i));
            }
        }
    }

    @Test
    void aFailedFlushStopsWritesButLosesNothing() throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        storage.hook = (op, name) -> {
            if (op == FaultInjectingStorage.Op.APPEND && name.endsWith(".sst")) {
                throw new IOException("injected: disk full while writing " + name);
            }
        };
        try (TrainKV db = TrainKV.open(Options.inTempDirectory().storage(storage))) {
            db.set("a", "1");
            StorageException e = assertThrows(StorageException.class, db::flush);
            assertTrue(e.getMessage().contains("injected"), e.getMessage());
            assertThrows(StorageException.class, () -> db.set("b", "2"));
            assertEquals("1", db.get("a"), "reads keep working");
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("1", db.get("a"), "the WAL still holds the write");
            db.flush();
            assertEquals("1", db.get("a"));
        }
    }
}
