package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.WriteBatch;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The verdicts the log tools give, in text and {@code --json}, by the one severity model: a torn
 * tail only in the newest file of a log, reported with what an open drops (a warning, exit 0);
 * the same bytes anywhere else, and a file that is not a log at all, are damage (exit 1).
 */
class LogVerdictTest {

    @TempDir
    Path work;

    /**
     * The case: a flipped byte in the only record of the newest WAL. The open drops the
     * record and its 6 keys as a torn tail, so wal-verify and check must say so on a warning line
     * (offset, records, keys, bytes), exit 0, and JSON must call it tolerated.
     */
    @Test
    void aTornOnlyRecordOfTheNewestWalIsReportedWithWhatAnOpenDrops() throws Exception {
        Path dir = work.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            WriteBatch batch = new WriteBatch();
            for (int i = 0; i < 6; i++) {
                batch.set("key-" + i, "value-" + i);
            }
            db.write(batch);
        }
        Path wal = only(dir, ".wal");
        long size = Files.size(wal);
        flip(wal, 8 + 12 + 20); // a byte of the first entry: the checksum fails, the frame is intact
        String name = wal.getFileName().toString();

        ToolRun verify = ToolRun.of("wal-verify", dir.toString());
        assertEquals(0, verify.code(), verify.out() + verify.err());
        assertTrue(verify.out().lines().anyMatch(line -> line.strip().startsWith("warning: torn tail at offset 0")
                && line.contains("an open drops 1 record(s) holding 6 key(s), " + size + " bytes")), verify.out());
        ToolRun verifyJson = ToolRun.of("wal-verify", "--json", dir.toString());
        assertEquals(0, verifyJson.code());
        assertTrue(verifyJson.out().contains("\"ok\":true,\"exitCode\":0,\"severity\":\"tolerated\""), verifyJson.out());
        assertTrue(verifyJson.out().contains("\"tornTail\":{\"offset\":0,\"bytes\":" + size + ",\"recordCount\":1,\"entryCount\":6"),
                verifyJson.out());

        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(0, check.code(), check.out());
        assertTrue(check.out().contains("warning: an open would drop the tail of write-ahead log " + name
                + " from offset 0: 1 record(s), " + size + " bytes, holding 6 key(s)"), check.out());
        assertTrue(check.out().contains("check: no problems found (2 warning(s))"), check.out());
        ToolRun checkJson = ToolRun.of("check", "--json", dir.toString());
        assertTrue(checkJson.out().startsWith("{\"directory\":\"" + dir + "\",\"ok\":true,\"exitCode\":0,"
                + "\"severity\":\"tolerated\""), checkJson.out());

        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (int i = 0; i < 6; i++) {
                assertNull(db.get(("key-" + i).getBytes(StandardCharsets.UTF_8)), "the open dropped what check announced");
            }
        }
    }

    /**
     * The same torn record in a WAL that a newer WAL follows is damage: only the newest log can end
     * in a write a crash cut short (an older one is fsynced to its end before the next is made).
     */
    @Test
    void aBadTailOfAnOlderWalIsDamage() throws Exception {
        Path dir = work.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.set("b", "2");
        }
        Path wal = only(dir, ".wal");
        long number = Long.parseLong(wal.getFileName().toString().replace(".wal", ""));
        Path newer = dir.resolve(String.format("%06d.wal", number + 100));
        Files.copy(wal, newer);
        truncate(wal, Files.size(wal) - 3);

        ToolRun verify = ToolRun.of("wal-verify", dir.toString());
        assertEquals(1, verify.code(), verify.out() + verify.err());
        assertTrue(verify.err().contains("not the newest log: a bad record here is damage, not a torn tail"), verify.err());
        ToolRun json = ToolRun.of("wal-verify", "--json", dir.toString());
        assertTrue(json.out().lines().anyMatch(line -> line.startsWith("{\"file\":\"" + wal.getFileName()
                + "\",\"ok\":false,\"exitCode\":1,\"severity\":\"damaged\"")), json.out());
    }

    /**
     * A table renamed to a WAL reads as garbage from offset 0 to its end, which the torn-tail rule
     * alone would take for a torn first write of the newest log; but the manifest gives its number
     * to a live table, and the engine numbers every file once, so it is damage to wal-verify and
     * check. The open refuses a copy of a live table under a WAL name too, before changing a byte
     * (it used to cut the "torn tail" off, leaving an empty file it then deleted).
     */
    @Test
    void aTableUnderAWalNameIsDamageNotATornTail() throws Exception {
        Path dir = work.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (int i = 0; i < 50; i++) {
                db.set("key-" + i, "value-" + i);
            }
            db.flush();
        }
        Path table = only(dir, ".sst");
        Path asWal = dir.resolve(table.getFileName().toString().replace(".sst", ".wal"));
        Path copy = work.resolve("copy");
        copyDirectory(dir, copy);
        Files.move(table, asWal);

        ToolRun verify = ToolRun.of("wal-verify", dir.toString());
        assertEquals(1, verify.code(), verify.out() + verify.err());
        assertTrue(verify.err().contains("write-ahead log " + asWal.getFileName() + " has the number of live table "
                + table.getFileName()), verify.err());
        assertFalse(verify.out().contains("torn tail"), verify.out());
        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(1, check.code(), check.out());

        Path copiedWal = copy.resolve(asWal.getFileName());
        Files.copy(copy.resolve(table.getFileName()), copiedWal);
        byte[] before = Files.readAllBytes(copiedWal);
        CorruptionException refused = assertThrows(CorruptionException.class, () -> TrainKV.open(Options.at(copy)).close());
        assertEquals(asWal.getFileName().toString(), refused.fileName());
        assertArrayEquals(before, Files.readAllBytes(copiedWal), "the open changed nothing");
    }

    /**
     * The sealed value log cut from its size to a thirtieth: not the newest file, and live
     * tables point past the cut, so the bytes were durable and are lost: damage, never a tolerated
     * torn tail, in text and JSON.
     */
    @Test
    void aSealedValueLogCutShortIsDamage() throws Exception {
        Path dir = work.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100).valueLogFileSize(256 * 1024))) {
            for (int i = 0; i < 600; i++) {
                db.set(("key-" + i).getBytes(StandardCharsets.UTF_8), new byte[1000]);
            }
            db.flush();
        }
        List<Path> logs = files(dir, ".vlog");
        assertTrue(logs.size() >= 3, "several value-log files: " + logs);
        Path sealed = logs.get(0);
        long size = Files.size(sealed);
        truncate(sealed, size / 30);

        ToolRun verify = ToolRun.of("vlog-verify", dir.toString());
        assertEquals(1, verify.code(), verify.out());
        assertTrue(verify.out().contains("damaged: value log " + sealed.getFileName()), verify.out());
        assertFalse(verify.out().contains("tolerated"), verify.out());
        ToolRun json = ToolRun.of("vlog-verify", "--json", dir.toString());
        assertEquals(1, json.code());
        assertTrue(json.out().lines().anyMatch(line -> line.startsWith("{\"file\":\"" + sealed.getFileName()
                + "\",\"ok\":false,\"exitCode\":1,\"severity\":\"damaged\"")), json.out());
    }

    /**
     * The same file cut exactly between two entries reads back cleanly to its new end; the live
     * tables' pointers past that end are what show the loss: damage, not "no problems".
     */
    @Test
    void aSealedValueLogCutAtAnEntryBoundaryIsDamage() throws Exception {
        Path dir = work.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100).valueLogFileSize(256 * 1024))) {
            for (int i = 0; i < 600; i++) {
                db.set(("key-" + i).getBytes(StandardCharsets.UTF_8), new byte[1000]);
            }
            db.flush();
        }
        Path sealed = files(dir, ".vlog").get(0);
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(sealed));
        long boundary = 0;
        for (int entry = 0; entry < 10; entry++) {
            boundary += 20 + bytes.getInt((int) boundary + 12) + bytes.getInt((int) boundary + 16);
        }
        truncate(sealed, boundary);

        ToolRun verify = ToolRun.of("vlog-verify", dir.toString());
        assertEquals(1, verify.code(), verify.out());
        assertTrue(verify.out().contains("damaged: value log " + sealed.getFileName() + " at offset " + boundary
                + ": the file ends there"), verify.out());
        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(1, check.code(), check.out());
    }

    static Path only(Path dir, String suffix) throws IOException {
        List<Path> found = files(dir, suffix);
        assertEquals(1, found.size(), "one " + suffix + " file: " + found);
        return found.get(0);
    }

    static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(suffix)).filter(p -> p.toFile().length() > 0)
                    .sorted().toList();
        }
    }

    static void flip(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
            channel.write(one, offset);
        }
    }

    static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }

    static void copyDirectory(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
    }
}
