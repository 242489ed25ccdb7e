package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** trainkv backup / restore / backup-list / backup-verify: outputs and exit codes. */
class BackupCommandTest {

    @TempDir
    Path tempDir;

    private static void write(Path db, int from, int to) {
        try (TrainKV kv = TrainKV.open(Options.at(db).valueThreshold(64).memtableSize(64 * 1024))) {
            for (int i = from; i < to; i++) {
                kv.set("key" + i, "value-" + i + "-".repeat(100));
            }
        }
    }

    @Test
    void backsUpListsVerifiesAndRestores() throws Exception {
        Path db = tempDir.resolve("db");
        Path backups = tempDir.resolve("backups");
        write(db, 0, 2_000);
        ToolRun first = ToolRun.of("backup", db.toString(), backups.toString());
        assertEquals(0, first.code(), first.err());
        assertTrue(first.out().startsWith("backup 1: version 2000, "), first.out());
        write(db, 2_000, 2_500);
        ToolRun second = ToolRun.of("backup", db.toString(), backups.toString(), "--keep", "5");
        assertEquals(0, second.code(), second.err());
        assertTrue(second.out().startsWith("backup 2: version 2500, "), second.out());
        assertTrue(second.out().contains("kept every backup"), second.out());

        ToolRun list = ToolRun.of("backup-list", backups.toString());
        assertEquals(0, list.code(), list.err());
        assertEquals(3, list.out().lines().count(), list.out());
        ToolRun verify = ToolRun.of("backup-verify", backups.toString());
        assertEquals(0, verify.code(), verify.err());
        assertEquals("backup 1: ok\nbackup 2: ok\n", verify.out());

        Path restored = tempDir.resolve("restored");
        ToolRun restore = ToolRun.of("restore", backups.toString(), restored.toString(), "--backup", "1");
        assertEquals(0, restore.code(), restore.err());
        try (TrainKV kv = TrainKV.open(Options.at(restored))) {
            assertEquals("value-1999" + "-".repeat(100), kv.get("key1999"));
            assertEquals(null, kv.get("key2000"));
        }
        ToolRun notEmpty = ToolRun.of("restore", backups.toString(), restored.toString());
        assertEquals(2, notEmpty.code());
        assertTrue(notEmpty.err().contains("is not empty"), notEmpty.err());
    }

    @Test
    void aFlippedByteIsNamedByVerifyAndRefusedByRestore() throws Exception {
        Path db = tempDir.resolve("db");
        Path backups = tempDir.resolve("backups");
        write(db, 0, 2_000);
        assertEquals(0, ToolRun.of("backup", db.toString(), backups.toString()).code());
        Path table;
        try (Stream<Path> shared = Files.list(backups.resolve("shared"))) {
            table = shared.filter(p -> p.getFileName().toString().contains(".sst_")).findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(table, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0x5a}), 100);
        }
        String named = "shared/" + table.getFileName();
        ToolRun verify = ToolRun.of("backup-verify", backups.toString());
        assertEquals(1, verify.code(), verify.out() + verify.err());
        assertTrue(verify.out().startsWith("backup 1: damaged\n  " + named + ": crc32c "), verify.out());
        Path target = tempDir.resolve("target");
        ToolRun restore = ToolRun.of("restore", backups.toString(), target.toString());
        assertEquals(1, restore.code());
        assertTrue(restore.err().contains(named), restore.err());
        assertFalse(Files.exists(target));
    }

    @Test
    void aDirectoryThatIsNotABackupDirectoryIsUnusable() throws Exception {
        Path plain = Files.createDirectories(tempDir.resolve("plain"));
        ToolRun list = ToolRun.of("backup-list", plain.toString());
        assertEquals(2, list.code());
        assertEquals("error: " + plain + " is not a backup directory (no meta/ directory in it)\n", list.err());
        ToolRun backup = ToolRun.of("backup", plain.toString(), tempDir.resolve("b").toString());
        assertEquals(2, backup.code(), backup.err());
        assertEquals(2, ToolRun.of("backup", tempDir.toString(), tempDir.resolve("b").toString(), "--keep", "0").code());
    }
}
