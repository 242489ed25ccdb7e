package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Table files in a running database: pinned by iterators, deleted when obsolete, checked on read. */
class TableLifecycleTest {

    @TempDir
    Path tempDir;

    private static List<String> tables(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString())
                    .filter(n -> FileNames.parseNumber(n, FileNames.Kind.TABLE) >= 0).sorted().toList();
        }
    }

    @Test
    void anOpenIteratorKeepsCompactedTablesUntilItCloses() throws Exception {
        Path dir = tempDir.resolve("db");
        List<String> before;
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(dir).level0Triggers(100, 200, 300))) {
            for (int i = 0; i < 3_000; i++) {
                db.set(String.format("k%05d", i), "v".repeat(50));
            }
            db.flush();
            before = tables(dir);
            assertTrue(before.size() > 1, before.toString());
            DbIterator pinned = db.iterator();
            db.flatten();
            List<String> during = tables(dir);
            assertTrue(during.containsAll(before), "tables an iterator reads stay on disk: " + during);
            pinned.seekToFirst();
            int count = 0;
            for (; pinned.valid(); pinned.next()) {
                count++;
            }
            assertEquals(3_000, count, "the pinned, mapped tables still read fine");
            pinned.close();
            assertEquals("v".repeat(50), db.get("k00000"));
        }
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(dir))) {
            List<String> after = tables(dir);
            for (String old : before) {
                assertFalse(after.contains(old), old + " is deleted once nothing reads it and a newer manifest is durable");
            }
            assertEquals("v".repeat(50), db.get("k00000"));
        }
    }

    @Test
    void aFlippedByteInADataBlockFailsTheReadWithFileAndBlockOffset() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (int i = 0; i < 500; i++) {
                db.set(String.format("k%05d", i), "value-" + i);
            }
            db.flush();
        }
        String table = tables(dir).get(0);
        try (FileChannel channel = FileChannel.open(dir.resolve(table), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, 10);
            one.put(0, (byte) (one.get(0) ^ 0x01)).rewind();
            channel.write(one, 10);
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            CorruptionException e = assertThrows(CorruptionException.class, () -> db.get("k00000"));
            assertEquals(table, e.fileName());
            assertEquals(0, e.offset(), "the first data block starts at offset 0");
            assertTrue(e.getMessage().contains(table) && e.getMessage().contains("checksum"), e.getMessage());
            try (DbIterator it = db.iterator()) {
                CorruptionException scan = assertThrows(CorruptionException.class, it::seekToFirst);
                assertEquals(table, scan.fileName());
            }
            assertEquals("value-499", db.get("k00499"), "blocks that are intact still read");
        }
    }

    @Test
    void tablesCanBeReadWithoutMemoryMapping() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).mmap(false))) {
            for (int i = 0; i < 2_000; i++) {
                db.set(String.format("k%05d", i), "value-" + i);
            }
            db.flatten();
            assertEquals("value-1234", db.get("k01234"));
        }
    }
}
