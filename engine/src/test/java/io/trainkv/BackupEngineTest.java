package io.trainkv;

import static io.trainkv.CheckpointTest.busyOptions;
import static io.trainkv.CheckpointTest.key;
import static io.trainkv.CheckpointTest.value;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.backup.BackupManifest;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Backups: incremental by file, verified, restored exactly, purged without touching kept backups. */
class BackupEngineTest {

    @TempDir
    Path tempDir;

    /** Every live key and value of a database, read by iteration. */
    static Map<String, String> contents(TrainKV db) {
        Map<String, String> all = new TreeMap<>();
        try (DbIterator it = db.iterator()) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                all.put(new String(it.key()), java.util.HexFormat.of().formatHex(it.value()));
            }
        }
        return all;
    }

    private static Map<String, String> contentsOf(Path dir) {
        try (TrainKV db = TrainKV.open(busyOptions(dir))) {
            return contents(db);
        }
    }

    /** Writes keys {@code from} to {@code to} (exclusive) in round {@code round}, deleting every seventh. */
    private static void writeRound(Path dir, int from, int to, int round) {
        try (TrainKV db = TrainKV.open(busyOptions(dir))) {
            for (int i = from; i < to; i++) {
                db.set(key(i), value(round, i));
                if (i % 7 == 0) {
                    db.delete(key(i - 1 < 0 ? 0 : i - 1));
                }
            }
        }
    }

    @Test
    @Timeout(120)
    void backupsTakenUnderLoadRestoreToASnapshotAtTheirVersion() throws Exception {
        Path source = tempDir.resolve("db");
        List<BackupEngine.BackupInfo> backups = new ArrayList<>();
        List<Transaction> pins = new ArrayList<>();
        try (TrainKV db = TrainKV.open(busyOptions(source)); CheckpointTest.Load load = new CheckpointTest.Load(db);
             BackupEngine engine = BackupEngine.open(tempDir.resolve("backups"))) {
            for (int i = 0; i < 3; i++) {
                load.awaitProgress(150);
                pins.add(db.snapshot());
                backups.add(engine.create(db, null));
            }
            load.stop();
            assertEquals(List.of(1L, 2L, 3L), engine.list().stream().map(BackupEngine.BackupInfo::id).toList());
            for (BackupEngine.BackupInfo backup : backups) {
                assertEquals(List.of(), engine.verify(backup.id(), null));
                Path restored = tempDir.resolve("restored-" + backup.id());
                engine.restore(backup.id(), restored, null);
                try (TrainKV copy = TrainKV.open(busyOptions(restored))) {
                    CheckpointTest.assertSameAt(db, backup.version(), copy);
                }
            }
            for (Transaction pin : pins) {
                pin.close();
            }
        }
    }

    @Test
    void anIncrementalChainOfThreeRestoresToTheSourceAtTheLastBackup() throws Exception {
        Path source = tempDir.resolve("db");
        Path backups = tempDir.resolve("backups");
        List<Map<String, String>> states = new ArrayList<>();
        try (BackupEngine engine = BackupEngine.open(backups)) {
            for (int round = 1; round <= 3; round++) {
                writeRound(source, (round - 1) * 800, round * 800 + 200, round);
                states.add(contentsOf(source));
                BackupEngine.BackupInfo info = engine.create(source, null);
                assertEquals(round, info.id());
                if (round > 1) {
                    assertTrue(info.addedBytes() < info.bytes(), "backup " + round + " shares files: " + info);
                }
            }
            Path latest = tempDir.resolve("latest");
            engine.restore(engine.latest(), latest, null);
            assertEquals(states.get(2), contentsOf(latest));
            Path first = tempDir.resolve("first");
            engine.restore(1, first, null);
            try (TrainKV readOnly = TrainKV.open(busyOptions(first).readOnly(true))) { // the restore made its LOCK file
                assertEquals(states.get(0), contents(readOnly));
            }
        }
        assertEquals(states.get(2), contentsOf(source), "the source after its backups");
    }

    @Test
    void aFlippedByteInAnyBackupFileIsFoundAndRestoreRefusesIt() throws Exception {
        Path source = tempDir.resolve("db");
        Path backups = tempDir.resolve("backups");
        writeRound(source, 0, 1_500, 1);
        try (BackupEngine engine = BackupEngine.open(backups)) {
            engine.create(source, null);
            List<Path> files;
            try (Stream<Path> all = Files.walk(backups)) {
                files = all.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().equals("LOCK")).toList();
            }
            assertTrue(files.size() > 5, "files of the backup: " + files);
            for (Path file : files) {
                String relative = backups.relativize(file).toString().replace('\\', '/');
                flipByte(file, Files.size(file) / 2);
                List<BackupEngine.Problem> problems = engine.verify(1, null);
                assertEquals(1, problems.size(), relative + ": " + problems);
                assertEquals(relative, problems.get(0).file());
                Path target = tempDir.resolve("restore-" + file.getFileName());
                CorruptionException refused = assertThrows(CorruptionException.class,
                        () -> engine.restore(1, target, null));
                assertEquals(relative, refused.fileName());
                assertFalse(Files.exists(target), "nothing written for a damaged backup");
                flipByte(file, Files.size(file) / 2);
            }
            assertEquals(List.of(), engine.verify(1, null));
        }
    }

    @Test
    void purgeKeepsTheNewestAndDeletesOnlyFilesNoKeptBackupNames() throws Exception {
        Path source = tempDir.resolve("db");
        Path backups = tempDir.resolve("backups");
        try (BackupEngine engine = BackupEngine.open(backups)) {
            for (int round = 1; round <= 3; round++) {
                writeRound(source, 0, 1_000, round); // every key rewritten: later backups need new files
                engine.create(source, null);
            }
            Map<String, String> last = contentsOf(source);
            assertEquals(List.of(1L, 2L), engine.purge(1));
            assertEquals(List.of(3L), engine.list().stream().map(BackupEngine.BackupInfo::id).toList());
            assertEquals(List.of(), engine.verify(3, null));
            BackupManifest m = BackupManifest.decode(Files.readAllBytes(backups.resolve("meta/000003")));
            try (Stream<Path> shared = Files.list(backups.resolve("shared"))) {
                assertEquals(m.files().stream().filter(f -> f.storedPath().startsWith("shared/")).count(), shared.count());
            }
            try (Stream<Path> privateDirs = Files.list(backups.resolve("private"))) {
                assertEquals(List.of("000003"), privateDirs.map(p -> p.getFileName().toString()).toList());
            }
            Path restored = tempDir.resolve("restored");
            engine.restore(3, restored, null);
            assertEquals(last, contentsOf(restored));
        }
    }

    @Test
    void aBackupCutShortBeforeItsManifestIsNotListedAndIsCleanedUp() throws Exception {
        Path source = tempDir.resolve("db");
        Path backups = tempDir.resolve("backups");
        writeRound(source, 0, 500, 1);
        try (BackupEngine engine = BackupEngine.open(backups)) {
            engine.create(source, null);
        }
        // what a crash before the manifest leaves: private files, a shared file, a half checkpoint
        Files.createDirectories(backups.resolve("private/000002"));
        Files.writeString(backups.resolve("private/000002/000099.wal"), "partial");
        Files.writeString(backups.resolve("shared/000099.sst_7_00000000.tmp"), "partial");
        Files.createDirectories(backups.resolve("tmp/000002"));
        try (BackupEngine engine = BackupEngine.open(backups)) {
            assertFalse(Files.exists(backups.resolve("tmp/000002")), "a stale checkpoint is deleted at open");
            assertEquals(List.of(1L), engine.list().stream().map(BackupEngine.BackupInfo::id).toList());
            assertEquals(1, engine.latest());
            assertEquals(List.of(), engine.purge(5));
            assertFalse(Files.exists(backups.resolve("private/000002")));
            assertFalse(Files.exists(backups.resolve("shared/000099.sst_7_00000000.tmp")));
            assertEquals(2, engine.create(source, null).id(), "the purged leftovers free their id");
        }
    }

    @Test
    void refusesADirectoryThatIsNotABackupDirectoryAndATargetThatIsNotEmpty() throws Exception {
        Path other = Files.createDirectories(tempDir.resolve("other"));
        Files.writeString(other.resolve("x"), "x");
        assertThrows(IllegalArgumentException.class, () -> BackupEngine.open(other));
        writeRound(tempDir.resolve("db"), 0, 100, 1);
        try (BackupEngine engine = BackupEngine.open(tempDir.resolve("backups"))) {
            engine.create(tempDir.resolve("db"), null);
            assertThrows(IllegalArgumentException.class, () -> engine.restore(1, other, null));
            assertThrows(IllegalArgumentException.class, () -> engine.restore(7, tempDir.resolve("t"), null));
            assertEquals(List.of("x"), Files.list(other).map(p -> p.getFileName().toString()).toList());
            assertThrows(DatabaseLockedException.class, () -> BackupEngine.open(tempDir.resolve("backups")));
        }
    }

    static void flipByte(Path file, long position) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, position);
            one.flip();
            one.put(0, (byte) (one.get(0) ^ 0x40));
            channel.write(one, position);
        }
    }
}
