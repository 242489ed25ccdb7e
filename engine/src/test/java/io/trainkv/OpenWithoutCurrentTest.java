package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A directory that holds a database's files but no usable {@code CURRENT} is refused, and the
 * refusal changes no byte: open used to take it for a new database and delete its tables and
 * manifest as orphans. A directory without database files still becomes a new database.
 */
class OpenWithoutCurrentTest {

    private static final int KEYS = 300;

    @TempDir
    Path tempDir;

    private CapturedLogs logs;

    @BeforeEach
    void captureLogs() {
        logs = new CapturedLogs();
    }

    @AfterEach
    void restoreLogs() {
        logs.close();
    }

    private static Options options(Path dir) {
        return Options.at(dir).memtableSize(64 * 1024).valueThreshold(512);
    }

    private static byte[] value(int i) {
        byte[] value = new byte[i % 3 == 0 ? 700 : 40];
        value[0] = (byte) i;
        value[value.length - 1] = (byte) (i >> 8);
        return value;
    }

    /** A database with tables at several levels, a manifest of many edits, value logs and a WAL. */
    private static void fill(Path dir) {
        try (TrainKV db = TrainKV.open(options(dir))) {
            for (int i = 0; i < KEYS; i++) {
                db.set(("key-" + i).getBytes(), value(i));
                if (i % 100 == 99) {
                    db.flush();
                }
            }
            db.flatten();
            db.set("unflushed", "in the WAL");
        }
    }

    private static void assertAllThere(Path dir) {
        try (TrainKV db = TrainKV.open(options(dir))) {
            for (int i = 0; i < KEYS; i++) {
                assertArrayEquals(value(i), db.get(("key-" + i).getBytes()), "key-" + i);
            }
            assertEquals("in the WAL", db.get("unflushed"));
        }
    }

    private static Map<String, byte[]> contents(Path dir) throws IOException {
        Map<String, byte[]> contents = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                contents.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return contents;
    }

    private static void assertRefusedAndUnchanged(Path dir) throws IOException {
        Map<String, byte[]> before = contents(dir);
        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(options(dir)));
        assertEquals(FileNames.CURRENT, e.fileName(), e.getMessage());
        Map<String, byte[]> after = contents(dir);
        assertEquals(before.keySet(), after.keySet(), "no file was created or deleted");
        for (Map.Entry<String, byte[]> file : before.entrySet()) {
            assertArrayEquals(file.getValue(), after.get(file.getKey()), file.getKey() + " is byte-identical");
        }
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aDatabaseWhoseCurrentIsMissingIsRefusedAndLosesNothing(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        fill(dir);
        Path current = dir.resolve(FileNames.CURRENT);
        byte[] saved = Files.readAllBytes(current);
        Files.delete(current);

        assertRefusedAndUnchanged(dir);
        CorruptionException e = assertThrows(CorruptionException.class, () -> TrainKV.open(options(dir)));
        assertTrue(e.getMessage().contains("not a TrainKV database"), e.getMessage());
        assertTrue(e.getMessage().contains(".sst"), "names the files that make it a database: " + e.getMessage());

        Files.write(current, saved);
        assertAllThere(dir);
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void anEmptyCurrentOrOneNamingAMissingManifestIsRefusedAndLosesNothing(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        fill(dir);
        Path current = dir.resolve(FileNames.CURRENT);
        byte[] saved = Files.readAllBytes(current);

        Files.write(current, new byte[0]);
        assertRefusedAndUnchanged(dir);
        Files.write(current, (FileNames.manifest(999_999) + "\n").getBytes());
        assertRefusedAndUnchanged(dir);

        Files.write(current, saved);
        assertAllThere(dir);
    }

    /** A manifest that names tables is a database's, even when the tables themselves are gone. */
    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aManifestNamingTablesWithoutCurrentIsRefused(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        fill(dir);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.toList()) {
                String name = p.getFileName().toString();
                if (FileNames.parseManifest(name) < 0 && !name.equals(FileNames.LOCK)) {
                    Files.delete(p);
                }
            }
        }
        assertRefusedAndUnchanged(dir);
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void anEmptyDirectoryOrOneHoldingOnlyALockFileBecomesANewDatabase(FileSystemKind fs) throws Exception {
        Path empty = fs.newDirectory(tempDir);
        Files.createDirectories(empty);
        Path lockOnly = fs.newDirectory(tempDir).resolveSibling("lock-only");
        Files.createDirectories(lockOnly);
        Files.createFile(lockOnly.resolve(FileNames.LOCK));
        for (Path dir : new Path[] {empty, lockOnly}) {
            try (TrainKV db = TrainKV.open(options(dir))) {
                db.set("k", "v");
            }
            try (TrainKV db = TrainKV.open(options(dir))) {
                assertEquals("v", db.get("k"));
            }
        }
    }
}
