package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/** The public API's promises: bad input, closed databases, TTL, user meta, batches, temp directories. */
class ApiContractTest {

    @TempDir
    Path tempDir;

    @Test
    void badKeysAndValuesAreRejectedBeforeAnythingIsWritten() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            byte[] ok = {1};
            assertBadInput("key must not be null", () -> db.set((byte[]) null, ok));
            assertBadInput("key must not be null", () -> db.set((String) null, "v"));
            assertBadInput("value must not be null", () -> db.set(ok, null));
            assertBadInput("key must not be empty", () -> db.set(new byte[0], ok));
            assertBadInput("key must not be empty", () -> db.delete(""));
            assertBadInput("the limit is 65536 bytes", () -> db.set(new byte[Options.MAX_KEY_SIZE + 1], ok));
            assertBadInput("the limit is 65536 bytes", () -> db.get(new byte[Options.MAX_KEY_SIZE + 1]));
            assertBadInput("the limit is 16777216 bytes", () -> db.set(ok, new byte[Options.MAX_VALUE_SIZE + 1]));
            assertBadInput("batch must not be null", () -> db.write(null));
            WriteBatch partial = new WriteBatch().set("good", "1");
            assertBadInput("key must not be empty", () -> partial.set("", "2"));
            assertEquals(0, db.stats().walBytes(), "nothing reached the WAL");
            assertEquals(0, db.stats().batchesWritten());

            db.set(new byte[Options.MAX_KEY_SIZE], ok);
            assertArrayEquals(ok, db.get(new byte[Options.MAX_KEY_SIZE]), "a key of exactly 64 KiB is fine");
        }
    }

    private static void assertBadInput(String messagePart, Executable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(messagePart), e.getMessage());
    }

    @Test
    void aClosedDatabaseThrowsIllegalStateException() {
        TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")));
        db.set("k", "v");
        db.close();
        db.close();
        List<Executable> calls = List.of(
                () -> db.set("k", "v"), () -> db.get("k"), () -> db.delete("k"),
                () -> db.write(new WriteBatch().set("a", "b")), () -> db.sync(), () -> db.stats(),
                () -> db.getEntry(new byte[] {1}));
        for (var call : calls) {
            IllegalStateException e = assertThrows(IllegalStateException.class, call);
            assertEquals("database is closed", e.getMessage());
        }
    }

    @Test
    void expiredEntriesAreInvisibleAndExpiryAndUserMetaSurviveReopen() {
        TestClock clock = new TestClock(1_700_000_000_000L);
        AtomicLong now = clock.millis;
        Options options = Options.at(tempDir.resolve("db")).clock(clock);
        try (TrainKV db = TrainKV.open(options)) {
            db.set(Entry.of("short", "lived").withTtl(Duration.ofSeconds(10)).withUserMeta((byte) 7));
            db.set(Entry.of("fixed", "deadline").withExpiresAt(Instant.ofEpochMilli(now.get() + 60_000)));
            db.set("forever", "v");
            Entry e = db.getEntry("short".getBytes());
            assertEquals((byte) 7, e.userMeta());
            assertEquals(Instant.ofEpochMilli(now.get() + 10_000), e.expiresAt());
            now.addAndGet(10_000);
            assertNull(db.get("short"), "expired exactly at its deadline");
            assertEquals("deadline", db.get("fixed"));
        }
        try (TrainKV db = TrainKV.open(options)) {
            assertNull(db.get("short"));
            assertEquals("deadline", db.get("fixed"));
            now.addAndGet(50_000);
            assertNull(db.get("fixed"));
            assertEquals("v", db.get("forever"));
            now.set(1_700_000_000_000L);
            Entry e = db.getEntry("short".getBytes());
            assertEquals((byte) 7, e.userMeta(), "user meta is stored with the entry");
        }
    }

    @Test
    void aBatchAppliesAtomicallyWithOneVersionAndTheLastOperationPerKeyWins() {
        try (TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")))) {
            db.set("x", "old");
            long before = db.stats().lastVersion();
            WriteBatch batch = new WriteBatch().set("a", "1").set("b", "2").delete("x").set("a", "3").delete("b");
            assertEquals(3, batch.size());
            db.write(batch);
            assertEquals(before + 1, db.stats().lastVersion(), "one version per batch");
            assertEquals("3", db.get("a"));
            assertNull(db.get("b"));
            assertNull(db.get("x"));
            db.write(new WriteBatch());
            assertEquals(before + 1, db.stats().lastVersion(), "an empty batch writes nothing");
        }
    }

    @Test
    void aBatchLargerThanTheMemtableIsRefused() {
        try (TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")).memtableSize(Options.MIN_MEMTABLE_SIZE)
                .valueThreshold(Integer.MAX_VALUE))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> db.set(new byte[] {1}, new byte[(int) Options.MIN_MEMTABLE_SIZE]));
            assertTrue(e.getMessage().contains("more than memtableSize"), e.getMessage());
            assertEquals(0, db.stats().walBytes());
        }
    }

    @Test
    void aTemporaryDatabaseIsDeletedOnClose() throws Exception {
        TrainKV db = TrainKV.open(Options.inTempDirectory());
        db.set("k", "v");
        Path dir = db.directory();
        assertTrue(Files.isDirectory(dir));
        db.close();
        assertFalse(Files.exists(dir), dir + " was removed");
    }

    @Test
    void filesAndTheDirectoryAreOwnerOnly() throws Exception {
        Path dir = tempDir.resolve("fresh");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k", "v");
        }
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> all = files.toList();
            assertTrue(all.stream().anyMatch(p -> p.getFileName().toString().equals(FileNames.LOCK)));
            for (Path file : all) {
                assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), file.toString());
            }
        }
    }
}
