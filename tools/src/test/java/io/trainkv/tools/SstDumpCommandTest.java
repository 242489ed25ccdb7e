package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sstdump reads tables without opening the database and reports damage by exit code. */
class SstDumpCommandTest {

    @TempDir
    Path tempDir;

    private Path database() {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (int i = 0; i < 1_000; i++) {
                db.set(String.format("key-%04d", i), "value-" + i);
            }
            db.delete("key-0007");
            db.flush();
        }
        return dir;
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = TrainKvCommand.execute(args);
            return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    @Test
    void soundTablesPassEveryCommand() {
        Path dir = database();
        Run check = run("sstdump", dir.toString());
        assertEquals(0, check.code(), check.err());
        assertTrue(check.out().contains("1001 entries (1 tombstones)"), check.out());
        assertTrue(check.out().contains("1 table(s), 0 with problems"), check.out());
        assertEquals(0, run("sstdump", "--command", "verify", dir.toString()).code());
        Run scan = run("sstdump", "--command", "scan", "--prefix", "key-000", "--limit", "20", dir.toString());
        assertTrue(scan.out().contains("\"key-0000\" @1 = \"value-0\""), scan.out());
        assertTrue(scan.out().contains("\"key-0007\" @1001 = (deleted)"), scan.out());
        Run json = run("sstdump", "--command", "properties", "--json", dir.toString());
        assertTrue(json.out().startsWith("{\"file\":\"") && json.out().contains("\"propertiesEntries\":1001"), json.out());
    }

    @Test
    void aDamagedBlockIsAProblemNamedWithFileAndOffset() throws Exception {
        Path dir = database();
        Path table;
        try (Stream<Path> files = Files.list(dir)) {
            table = files.filter(p -> p.toString().endsWith(".sst")).findFirst().orElseThrow();
        }
        try (FileChannel channel = FileChannel.open(table, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0x7f}), 100);
        }
        Run verify = run("sstdump", "--command", "verify", table.toString());
        assertEquals(1, verify.code());
        assertTrue(verify.err().contains(table.getFileName().toString()) && verify.err().contains("offset 0"), verify.err());
    }

    @Test
    void usageAndMissingFilesExitWithTwo() {
        assertEquals(2, run("sstdump", "--command", "nonsense", tempDir.toString()).code());
        assertEquals(2, run("sstdump", tempDir.resolve("missing").toString()).code());
    }
}
