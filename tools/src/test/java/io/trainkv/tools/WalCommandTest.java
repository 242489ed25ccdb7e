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
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** wal-verify and wal-dump: records, torn tails and damage, by exit code. */
class WalCommandTest {

    @TempDir
    Path tempDir;

    private static String[] run(String... args) {
        return ToolRun.of(args).asArray();
    }

    private Path wal(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> wals = files.filter(p -> p.toString().endsWith(".wal")).sorted().toList();
            return wals.get(wals.size() - 1);
        }
    }

    @Test
    void verifyAndDumpReadTheLogAndJudgeItsTail() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.delete("b");
            db.set("c", "3");
        }
        String[] verify = run("wal-verify", dir.toString());
        assertEquals("0", verify[0], verify[2]);
        assertTrue(verify[1].contains("3 records, 3 entries") && verify[1].contains("clean end"), verify[1]);
        String[] dump = run("wal-dump", dir.toString());
        assertTrue(dump[1].contains("@2 offset") && dump[1].contains("\"b\" (deleted)"), dump[1]);

        Path log = wal(dir);
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 3);
        }
        String[] torn = run("wal-verify", "--json", dir.toString());
        assertEquals("0", torn[0], torn[2]);
        assertTrue(torn[1].contains("\"recordCount\":2") && !torn[1].contains("\"tornTailOffset\":-1"), torn[1]);

        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0x11}), 10);
        }
        String[] damaged = run("wal-verify", dir.toString());
        assertEquals("1", damaged[0]);
        assertTrue(damaged[2].contains(log.getFileName().toString()) && damaged[2].contains("offset 0"), damaged[2]);
        assertEquals("2", run("wal-verify", tempDir.resolve("nowhere").toString())[0]);
    }

    @Test
    void zerosAfterTheLastRecordAreANoteNotALossButAHalfWrittenRecordStaysAWarning() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.set("b", "2");
        }
        Path log = wal(dir);
        long records = Files.size(log);
        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1 << 20), records); // what a killed mapped writer leaves
        }
        String[] verify = run("wal-verify", dir.toString());
        assertEquals("0", verify[0], verify[2]);
        assertTrue(verify[1].contains("2 records, 2 entries") && verify[1].contains("clean end, then zeros")
                && verify[1].contains("note: 1048576 bytes of zeros after the last record, from offset " + records)
                && !verify[1].contains("warning") && !verify[1].contains("drops"), verify[1]);
        String[] json = run("wal-verify", "--json", dir.toString());
        assertTrue(json[1].contains("\"severity\":\"ok\"") && json[1].contains("\"tornTailOffset\":null")
                && json[1].contains("\"zeroTail\":{\"offset\":" + records + ",\"bytes\":1048576}"), json[1]);
        String[] check = run("check", dir.toString());
        assertEquals("0", check[0], check[2]);
        assertTrue(check[1].contains("check: no problems found") && !check[1].contains("warning"), check[1]);

        try (FileChannel channel = FileChannel.open(log, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 0, 0, 0, 0, 40}), records); // a header, its payload unwritten
        }
        String[] torn = run("wal-verify", dir.toString());
        assertEquals("0", torn[0], torn[2]);
        assertTrue(torn[1].contains("ends in a torn tail") && torn[1].contains("warning: torn tail at offset " + records)
                && torn[1].contains("an open drops 1 record(s)"), torn[1]);
        String[] tornCheck = run("check", dir.toString());
        assertTrue(tornCheck[1].contains("warning"), tornCheck[1]);
    }

    @Test
    void dumpShowsValueLogDurableMarks() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("big".getBytes(), new byte[4000]);
        }
        Path vlog;
        try (Stream<Path> files = Files.list(dir)) {
            vlog = files.filter(p -> p.toString().endsWith(".vlog") && p.toFile().length() > 0).findFirst().orElseThrow();
        }
        String mark = "value-log durable mark: " + vlog.getFileName() + " to " + Files.size(vlog) + " bytes";
        String[] dump = run("wal-dump", dir.toString());
        assertEquals("0", dump[0], dump[2]);
        assertTrue(dump[1].contains(mark) && dump[1].contains("2 records, 1 entries"), dump[1]);
        String[] json = run("wal-dump", "--json", dir.toString());
        assertEquals("0", json[0], json[2]);
        assertTrue(json[1].contains("\"durableMark\":{") && json[1].contains("\"bytes\":" + Files.size(vlog)), json[1]);
        String[] verify = run("wal-verify", dir.toString());
        assertEquals("0", verify[0], verify[2]);
    }
}
