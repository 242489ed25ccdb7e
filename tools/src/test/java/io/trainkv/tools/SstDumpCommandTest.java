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

    private static ToolRun run(String... args) {
        return ToolRun.of(args);
    }

    @Test
    void soundTablesPassEveryCommand() {
        Path dir = database();
        ToolRun check = run("sstdump", dir.toString());
        assertEquals(0, check.code(), check.err());
        assertTrue(check.out().contains("1001 entries (1 tombstones)"), check.out());
        assertTrue(check.out().contains("1 table(s), 0 with problems"), check.out());
        assertEquals(0, run("sstdump", "--command", "verify", dir.toString()).code());
        ToolRun scan = run("sstdump", "--command", "scan", "--prefix", "key-000", "--limit", "20", dir.toString());
        assertTrue(scan.out().contains("\"key-0000\" @1 = \"value-0\""), scan.out());
        assertTrue(scan.out().contains("\"key-0007\" @1001 = (deleted)"), scan.out());
        ToolRun json = run("sstdump", "--command", "properties", "--json", dir.toString());
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
        ToolRun verify = run("sstdump", "--command", "verify", table.toString());
        assertEquals(1, verify.code());
        assertTrue(verify.err().contains(table.getFileName().toString()) && verify.err().contains("offset 0"), verify.err());
    }

    @Test
    void usageAndMissingFilesExitWithTwo() {
        assertEquals(2, run("sstdump", "--command", "nonsense", tempDir.toString()).code());
        assertEquals(2, run("sstdump", tempDir.resolve("missing").toString()).code());
    }
}
