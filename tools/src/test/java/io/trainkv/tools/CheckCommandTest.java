package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
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

/** check runs every verification and resolves every value pointer of the live tables. */
class CheckCommandTest {

    @TempDir
    Path tempDir;

    private static String[] run(String... args) {
        return ToolRun.of(args).asArray();
    }

    @Test
    void everyOfflineToolRefusesADirectoryThatIsOpenWithExitTwo() {
        Path dir = tempDir.resolve("open");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k", "v");
            db.flush();
            for (String tool : new String[] {"check", "manifest-verify", "manifest-dump", "wal-verify", "wal-dump",
                "vlog-verify", "vlog-dump", "sstdump", "compact", "vlog-gc"}) {
                String[] result = run(tool, dir.toString());
                assertEquals("2", result[0], tool + ": " + result[1]);
            }
        }
        assertEquals("0", run("check", dir.toString())[0], "once closed it is checked");
    }

    @Test
    void aSoundDirectoryPassesAndADamagedValueIsFound() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100))) {
            for (int i = 0; i < 50; i++) {
                db.set(("key-" + i).getBytes(), new byte[300]);
                db.set(("small-" + i).getBytes(), new byte[10]);
            }
            db.flush();
        }
        String[] sound = run("check", dir.toString());
        assertEquals("0", sound[0], sound[1]);
        assertTrue(sound[1].contains("50 value pointers in live tables and the WAL batches an open replays, 0 broken"), sound[1]);
        assertTrue(sound[1].contains("check: no problems found"), sound[1]);

        Path log;
        try (Stream<Path> files = Files.list(dir)) {
            log = files.filter(p -> p.toString().endsWith(".vlog")).filter(p -> p.toFile().length() > 0).findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0x21}), 100);
        }
        String[] damaged = run("check", dir.toString());
        assertEquals("1", damaged[0], damaged[1]);
        assertTrue(damaged[1].contains("broken pointer in") && damaged[1].contains("checksum mismatch"), damaged[1]);
        assertTrue(damaged[1].contains("check: problems found"), damaged[1]);
    }

    @Test
    void valuePointersStillOnlyInTheWalAreResolvedToo() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100))) {
            for (int i = 0; i < 20; i++) {
                db.set(("key-" + i).getBytes(), new byte[300]);
            }
        }
        String[] sound = run("check", dir.toString());
        assertEquals("0", sound[0], sound[1]);
        assertTrue(sound[1].contains("20 value pointers in live tables and the WAL batches an open replays, 0 broken"), sound[1]);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path log : files.filter(p -> p.toString().endsWith(".vlog")).toList()) {
                Files.delete(log);
            }
        }
        // value-log files are created durably before anything points into them: recovery refuses the directory
        String[] lost = run("check", dir.toString());
        assertEquals("1", lost[0], lost[1]);
        assertTrue(lost[1].lines().anyMatch(line -> line.contains(".vlog at offset 0: the file is missing")
                && line.contains(".wal at offset 0") && line.contains("an open would fail")), lost[1]);
    }

    @Test
    void inspectingACopyWithoutALockFileCreatesNone() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k", "v");
        }
        Files.delete(dir.resolve("LOCK"));
        for (String tool : new String[] {"check", "wal-verify", "sstdump", "manifest-dump", "vlog-dump"}) {
            assertEquals("0", run(tool, dir.toString())[0], tool);
            assertTrue(!Files.exists(dir.resolve("LOCK")), tool + " created a lock file");
        }
    }
}
