package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.wal.WalFormat;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** vlog-verify and vlog-dump: entries, discard estimates, torn tails and damage. */
class VlogCommandTest {

    @TempDir
    Path tempDir;

    private static String[] run(String... args) {
        return ToolRun.of(args).asArray();
    }

    @Test
    void onlyVlogDumpTakesHex() {
        assertFalse(ToolRun.of("vlog-verify", "--help").out().contains("--hex"), "vlog-verify prints no keys");
        assertTrue(ToolRun.of("vlog-dump", "--help").out().contains("--hex"));
        assertEquals(2, ToolRun.of("vlog-verify", "--hex", tempDir.toString()).code(), "a usage error");
    }

    @Test
    void zerosAfterTheLastEntryAreANoteNotATornTail() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(0))) {
            for (int i = 0; i < 10; i++) {
                db.set("key-" + i, "value-" + i);
            }
        }
        Path vlog;
        try (Stream<Path> files = Files.list(dir)) {
            vlog = files.filter(p -> p.toString().endsWith(".vlog")).filter(p -> p.toFile().length() > 0).sorted()
                    .reduce((a, b) -> b).orElseThrow();
        }
        long entries = Files.size(vlog);
        try (FileChannel channel = FileChannel.open(vlog, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1 << 20), entries); // what a killed mapped writer leaves
        }
        String[] verify = run("vlog-verify", dir.toString());
        assertEquals("0", verify[0], verify[1] + verify[2]);
        assertTrue(verify[1].contains("10 entries") && verify[1].contains("note: 1048576 bytes of zeros after the last"
                + " entry, from offset " + entries) && !verify[1].contains("warning"), verify[1]);
        String[] json = run("vlog-verify", "--json", dir.toString());
        assertTrue(json[1].contains("\"severity\":\"ok\"") && json[1].contains("\"tornTailOffset\":null")
                && json[1].contains("\"zeroTail\":{\"offset\":" + entries + ",\"bytes\":1048576}"), json[1]);
        String[] check = run("check", dir.toString());
        assertEquals("0", check[0], check[1] + check[2]);
        assertTrue(check[1].contains("check: no problems found") && !check[1].contains("warning"), check[1]);

        try (FileChannel channel = FileChannel.open(vlog, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3}), entries);
        }
        String[] torn = run("vlog-verify", dir.toString());
        assertEquals("0", torn[0], torn[1] + torn[2]);
        assertTrue(torn[1].contains("warning: torn tail at offset " + entries), torn[1]);
    }

    @Test
    void entriesDiscardAndDamageAreReported() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100).valueLogFileSize(64 * 1024)
                // no automatic GC: the discards it would collect are what this test reads
                .gcInterval(Duration.ZERO))) {
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 100; i++) {
                    db.set(("key-" + i).getBytes(), new byte[1000]);
                }
                db.flush();
            }
            db.flatten();
        }
        String[] verify = run("vlog-verify", dir.toString());
        assertEquals("0", verify[0], verify[1]);
        assertTrue(verify[1].contains("discarded") && verify[1].matches("(?s).*discarded [1-9][0-9]* bytes.*"), verify[1]);
        String[] dump = run("vlog-dump", dir.toString());
        assertTrue(dump[1].contains("\"key-0\" @1 offset 0, 1025 bytes"), dump[1]);

        List<Path> logs;
        try (Stream<Path> files = Files.list(dir)) {
            logs = files.filter(p -> p.toString().endsWith(".vlog")).filter(p -> p.toFile().length() > 0).sorted().toList();
        }
        try (FileChannel channel = FileChannel.open(logs.get(0), StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0x33}), 500);
        }
        String[] damaged = run("vlog-verify", dir.toString());
        assertEquals("1", damaged[0], damaged[1]);
        assertTrue(damaged[1].contains("damaged: value log " + logs.get(0).getFileName() + " at offset 0"), damaged[1]);
    }

    @Test
    void aTornTailInAnOlderFileIsToleratedAndAnUnreadableFileIsAnIoError() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100))) {
            for (int i = 0; i < 100; i++) {
                db.set(("key-" + i).getBytes(), new byte[1000]);
            }
        }
        Path first;
        try (Stream<Path> files = Files.list(dir)) {
            first = files.filter(p -> p.toString().endsWith(".vlog")).filter(p -> p.toFile().length() > 0).findFirst()
                    .orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(first, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 700);
        }
        Path wal; // a crash before close(): the WAL lacks the value-log durable mark close() appends last
        try (Stream<Path> files = Files.list(dir)) {
            wal = files.filter(p -> p.toString().endsWith(".wal")).sorted().reduce((a, b) -> b).orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(wal, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - WalFormat.DURABLE_MARK_RECORD_SIZE);
        }
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100))) {
            db.set("after-the-crash".getBytes(), new byte[1000]);
        }
        String[] verify = run("vlog-verify", dir.toString());
        assertEquals("0", verify[0], "a crash tears the tail of the file that was active, which is older after a reopen: "
                + verify[1]);
        assertTrue(verify[1].contains(first.getFileName() + ": 99 entries") && verify[1].contains("torn tail at offset"),
                verify[1]);

        Files.createDirectory(dir.resolve("000999.vlog"));
        ToolRun unreadable = ToolRun.of("vlog-verify", "--json", dir.toString());
        assertEquals(2, unreadable.code(), unreadable.out());
        assertTrue(unreadable.out().contains("{\"file\":\"000999.vlog\",\"ok\":false,\"exitCode\":2,\"severity\":\"unusable\","
                + "\"error\":\"cannot read"),
                unreadable.out());
    }

    /**
     * The same cut at the end of an older file, but a live table points into the cut entry: a value
     * reaches a table only once it is durable, so the bytes were lost after being written, not torn
     * by a crash. The open does not read them (no WAL points there), but a read of the key fails:
     * vlog-verify and check report damage naming the file and the offset.
     */
    @Test
    void aCutThatALiveTablePointsIntoIsDamageNotATornTail() throws Exception {
        Path dir = tempDir.resolve("db");
        Options options = Options.at(dir).valueThreshold(100).valueLogFileSize(64 * 1024);
        try (TrainKV db = TrainKV.open(options)) {
            for (int i = 0; i < 100; i++) {
                db.set(("key-" + i).getBytes(), new byte[1000]);
            }
            db.flush();
        }
        Path first;
        try (Stream<Path> files = Files.list(dir)) {
            first = files.filter(p -> p.toString().endsWith(".vlog")).sorted().findFirst().orElseThrow();
        }
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(first));
        int at = 0;
        while (at + 20 + bytes.getInt(at + 12) + bytes.getInt(at + 16) < bytes.capacity()) {
            at += 20 + bytes.getInt(at + 12) + bytes.getInt(at + 16);
        }
        int lastEntry = at;
        byte[] lastKey = new byte[bytes.getInt(lastEntry + 12)];
        bytes.get(lastEntry + 20, lastKey);
        try (FileChannel channel = FileChannel.open(first, StandardOpenOption.WRITE)) {
            channel.truncate(bytes.capacity() - 700);
        }
        String name = first.getFileName().toString();
        for (String target : new String[] {dir.toString(), first.toString()}) {
            String[] verify = run("vlog-verify", target);
            assertEquals("1", verify[0], verify[1]);
            assertTrue(verify[1].lines().anyMatch(line -> line.contains("damaged: value log " + name + " at offset "
                    + lastEntry) && line.contains(".sst")), verify[1]);
        }
        String[] check = run("check", dir.toString());
        assertEquals("1", check[0], check[1]);
        try (TrainKV db = TrainKV.open(options)) {
            assertThrows(CorruptionException.class, () -> db.get(lastKey), "the key whose value was cut cannot be read");
        }
    }
}
