package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.sstable.TableFormat;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalFormat;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A database written and closed by the build before the compact encodings (commit 9ef39ae), kept
 * as bytes in {@code src/test/resources/io/trainkv/legacy-format-1}: its table is format version 1
 * (a fixed 10-byte header on every value) and its WAL holds legacy batches. This build must open
 * it, replay the WAL, read the table, and compact it into version-2 tables with the same contents.
 *
 * <p>The fixture was made with valueThreshold 100, valueLogFileSize 64 KiB and automatic GC off, by
 * two rounds of the writes {@link #expectEveryKey} checks (round {@code t-} flushed into table
 * 000006.sst, round {@code w-} left in 000005.wal): a plain value, user meta 7, an expiry, both,
 * an empty value, a deleted key, value-log values of 200 to 300 bytes (one with user meta 9),
 * five 16 KiB fillers deleted again, one value-log value overwritten, then
 * {@code collectValueLogFiles} of the round's first value-log file, so that its live values were
 * rewritten by GC (the moved flag).
 */
class LegacyFormatTest {

    private static final Instant EXPIRY = Instant.ofEpochMilli(4_102_444_800_000L);

    @TempDir
    Path tempDir;

    private Path copyFixture() throws IOException, URISyntaxException {
        Path source = Path.of(LegacyFormatTest.class.getResource("legacy-format-1").toURI());
        Path dir = tempDir.resolve("db");
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(source)) {
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        return dir;
    }

    /** The deterministic value-log values of the fixture's writer. */
    private static byte[] big(String seed, int n) {
        byte[] b = new byte[n];
        Random r = new Random(seed.hashCode());
        for (int i = 0; i < n; i++) {
            b[i] = (byte) ('a' + r.nextInt(26));
        }
        return b;
    }

    private static void expectEveryKey(TrainKV db) {
        for (String p : new String[] {"t-", "w-"}) {
            assertEquals("value-" + p, db.get(p + "plain"));
            expect(db, p + "meta", "with user meta".getBytes(), 7, null);
            expect(db, p + "expiry", "expires in 2100".getBytes(), 0, EXPIRY);
            expect(db, p + "both", "meta and expiry".getBytes(), 0x42, EXPIRY);
            expect(db, p + "empty", new byte[0], 0, null);
            assertNull(db.get(p + "dead"));
            expect(db, p + "big-meta", big(p + "big-meta", 300), 9, null);
            expect(db, p + "big", big(p + "big-2", 200), 0, null);
            expect(db, p + "big-moved", big(p + "big-moved", 250), 0, null);
            for (int i = 0; i < 5; i++) {
                assertNull(db.get(p + "filler-" + i));
            }
        }
    }

    private static void expect(TrainKV db, String key, byte[] value, int userMeta, Instant expiresAt) {
        Entry entry = db.getEntry(key.getBytes());
        assertArrayEquals(value, entry.value(), key);
        assertEquals((byte) userMeta, entry.userMeta(), key);
        assertEquals(expiresAt, entry.expiresAt(), key);
    }

    @Test
    void theFixtureHoldsOldBytes() throws Exception {
        Path dir = copyFixture();
        NioStorage storage = NioStorage.open(dir);
        try (TableReader table = TableReader.open(storage.openRead("000006.sst"), "000006.sst", 6, false)) {
            assertEquals(1, table.layout().formatVersion());
        }
        Map<String, ValueStruct> wal = walEntries(storage, "000005.wal");
        assertEquals(ValueStruct.META_VALUE_POINTER | ValueStruct.META_MOVED, wal.get("w-big-moved").meta(),
                "the newest version of w-big-moved is GC's rewrite");
        byte[] bytes = Files.readAllBytes(dir.resolve("000005.wal"));
        assertTrue(bytes[WalFormat.HEADER_SIZE] >= 0 && bytes[WalFormat.HEADER_SIZE] != WalFormat.COMPACT_BATCH_TAG,
                "the first record is a legacy batch (its version's top byte)");
    }

    @Test
    void aDatabaseOfTheOldFormatsOpensReadsAndCompactsIntoTheNewOnes() throws Exception {
        Path dir = copyFixture();
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            expectEveryKey(db);
            try (DbIterator it = db.iterator()) {
                int live = 0;
                for (it.seekToFirst(); it.valid(); it.next()) {
                    live++;
                    assertFalse(it.keyAsString().contains("dead") || it.keyAsString().contains("filler"), it.keyAsString());
                    if (it.keyAsString().endsWith("both")) {
                        assertEquals((byte) 0x42, it.entry().userMeta());
                        assertEquals(EXPIRY, it.entry().expiresAt());
                    }
                }
                assertEquals(16, live);
            }
            db.set("after", "written by this build");
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            expectEveryKey(db);
            assertEquals("written by this build", db.get("after"));
            db.flatten();
            expectEveryKey(db);
        }
        NioStorage storage = NioStorage.open(dir);
        int tables = 0;
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.filter(f -> f.toString().endsWith(".sst")).toList()) {
                String name = file.getFileName().toString();
                try (TableReader table = TableReader.open(storage.openRead(name), name, 0, false)) {
                    assertEquals(TableFormat.FORMAT_VERSION, table.layout().formatVersion(), name);
                }
                tables++;
            }
        }
        assertTrue(tables > 0);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            expectEveryKey(db);
            assertEquals("written by this build", db.get("after"));
        }
    }

    @Test
    void aVersionOneTableReadsEntryByEntryWithItsFlags() throws Exception {
        Path dir = copyFixture();
        NioStorage storage = NioStorage.open(dir);
        Map<String, ValueStruct> newest = new HashMap<>();
        try (TableReader table = TableReader.open(storage.openRead("000006.sst"), "000006.sst", 6, true);
             var it = table.iterator(false)) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                String key = new String(KeyFormat.userKey(Arrays.copyOf(it.keyBuffer(), it.keyLength())), StandardCharsets.UTF_8);
                ValueStruct value = it.value();
                ByteBuffer view = it.valueBuffer();
                int at = it.valueOffset();
                assertEquals(value.userMeta(), ValueStruct.userMeta(view, at), key);
                assertEquals(value.expiresAtMillis(), ValueStruct.expiresAtMillis(view, at), key);
                assertEquals(ValueStruct.MAX_HEADER_SIZE + value.value().length, it.valueSize(),
                        "a version-1 value keeps its fixed header: " + key);
                newest.putIfAbsent(key, value);
            }
        }
        assertEquals((byte) 7, newest.get("t-meta").userMeta());
        assertEquals(EXPIRY.toEpochMilli(), newest.get("t-both").expiresAtMillis());
        assertTrue(newest.get("t-dead").isTombstone());
        assertEquals(0, newest.get("t-empty").value().length);
        assertTrue(newest.get("t-big-meta").isMoved() && newest.get("t-big-meta").isValuePointer());
        assertEquals((byte) 9, newest.get("t-big-meta").userMeta());
        assertTrue(newest.get("t-big-moved").isMoved());
        assertFalse(newest.get("t-big").isMoved());
    }

    /** The newest entry of each key in a WAL, by key. */
    private static Map<String, ValueStruct> walEntries(NioStorage storage, String name) throws IOException {
        Map<String, ValueStruct> entries = new HashMap<>();
        try (var file = storage.openRead(name)) {
            WalReader reader = new WalReader(file, name, false);
            ByteBuffer payload;
            while ((payload = reader.next()) != null) {
                WalBatchDecoder.decode(payload, (v, meta, userMeta, expiresAt, key, value) ->
                        entries.put(new String(key, StandardCharsets.UTF_8), new ValueStruct(v, meta, userMeta, expiresAt, value)));
            }
        }
        return entries;
    }
}
