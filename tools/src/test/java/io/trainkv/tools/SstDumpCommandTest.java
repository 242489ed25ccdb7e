package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.Transaction;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
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
            // a snapshot from before the delete keeps key-0007's older version in the flushed table
            try (Transaction before = db.snapshot()) {
                db.delete("key-0007");
                db.flush();
            }
        }
        return dir;
    }

    private static ToolRun run(String... args) {
        return ToolRun.of(args);
    }

    private static Path onlyTable(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            List<Path> tables = files.filter(p -> p.toString().endsWith(".sst")).toList();
            assertEquals(1, tables.size(), tables.toString());
            return tables.get(0);
        }
    }

    /** The raw layout of one table, from {@code --command raw --json}. */
    private static Map<String, Object> rawLayout(Path table) {
        ToolRun raw = run("sstdump", "--command", "raw", "--json", table.toString());
        assertEquals(0, raw.code(), raw.err());
        return JsonReader.object(raw.out().strip());
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> list(Object value) {
        return (List<Map<String, Object>>) value;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    private static long number(Map<String, Object> object, String name) {
        Object value = object.get(name);
        assertNotNull(value, name + " missing in " + object);
        return (Long) value;
    }

    private static ByteBuffer bytes(Path file) throws IOException {
        return ByteBuffer.wrap(Files.readAllBytes(file));
    }

    /** Whether the 4 bytes after {@code [offset, offset + size)} are the CRC32C of that range. */
    private static boolean crcMatches(ByteBuffer file, long offset, long size) {
        CRC32C crc = new CRC32C();
        crc.update(file.duplicate().position((int) offset).limit((int) (offset + size)));
        return (int) crc.getValue() == file.getInt((int) (offset + size));
    }

    /** The keys of the rows of a {@code scan --json} run over one table. */
    private static List<String> scannedKeys(String... args) {
        ToolRun scan = run(args);
        assertEquals(0, scan.code(), scan.err());
        List<String> keys = new ArrayList<>();
        for (Map<String, Object> row : list(JsonReader.object(scan.out().strip()).get("entries"))) {
            keys.add(row.get("key") + "@" + row.get("version"));
        }
        return keys;
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
        assertTrue(json.out().startsWith("{\"file\":\"") && json.out().contains("\"propertiesEntryCount\":1001"), json.out());
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

    @Test
    void rawLayoutTilesTheFileAndMatchesItsBytes() throws Exception {
        Path table = onlyTable(database());
        ByteBuffer file = bytes(table);
        long fileSize = Files.size(table);
        Map<String, Object> layout = rawLayout(table);
        assertEquals(table.getFileName().toString(), layout.get("file"));
        assertEquals(true, layout.get("ok"), layout.toString());
        assertEquals(fileSize, number(layout, "bytes"));

        List<Map<String, Object>> blocks = list(layout.get("dataBlocks"));
        assertTrue(blocks.size() > 1, "the test wants several data blocks: " + blocks.size());
        long next = 0;
        long entries = 0;
        for (int i = 0; i < blocks.size(); i++) {
            Map<String, Object> block = blocks.get(i);
            assertEquals(i, number(block, "block"));
            assertEquals(next, number(block, "offset"), "data block " + i + " follows the one before");
            assertTrue(crcMatches(file, next, number(block, "size")), "the CRC after data block " + i);
            assertEquals(true, block.get("crcOk"));
            entries += number(block, "entryCount");
            next = number(block, "offset") + number(block, "size") + 4;
        }
        assertEquals(1001, entries);
        assertEquals(1001, number(layout, "entryCount"));
        assertEquals("key-0000", blocks.get(0).get("firstKey"));
        assertEquals(1, number(blocks.get(0), "firstVersion"));
        assertEquals("key-0999", blocks.get(blocks.size() - 1).get("lastKey"));
        for (int i = 1; i < blocks.size(); i++) {
            assertTrue(((String) blocks.get(i - 1).get("lastKey")).compareTo((String) blocks.get(i).get("firstKey")) < 0);
        }

        for (String name : new String[] {"filterBlock", "propertiesBlock", "indexBlock"}) {
            Map<String, Object> block = map(layout.get(name));
            assertEquals(next, number(block, "offset"), name + " follows the block before");
            assertTrue(crcMatches(file, next, number(block, "size")), "the CRC after the " + name);
            next += number(block, "size") + 4;
        }
        assertEquals(blocks.size(), number(map(layout.get("indexBlock")), "entryCount"));

        Map<String, Object> footer = map(layout.get("footer"));
        assertEquals(next, number(footer, "offset"), "the footer follows the index block");
        assertEquals(fileSize - number(footer, "size"), number(footer, "offset"));
        int at = (int) number(footer, "offset");
        assertEquals(map(layout.get("filterBlock")), footer.get("filter"));
        assertEquals(map(layout.get("propertiesBlock")), footer.get("properties"));
        assertEquals(map(layout.get("indexBlock")).get("offset"), map(footer.get("index")).get("offset"));
        assertEquals(file.getLong(at), number(map(footer.get("filter")), "offset"));
        assertEquals(file.getInt(at + 8), number(map(footer.get("filter")), "size"));
        assertEquals(file.getLong(at + 12), number(map(footer.get("properties")), "offset"));
        assertEquals(file.getLong(at + 24), number(map(footer.get("index")), "offset"));
        assertEquals(file.getInt(at + 32), number(map(footer.get("index")), "size"));
        assertEquals(file.getInt(at + 36), number(footer, "formatVersion"));
        assertEquals(String.format("0x%08x", file.getInt(at + 40)), footer.get("checksum"));
        assertEquals(String.format("0x%016x", file.getLong(at + 44)), footer.get("magic"));
        CRC32C footerCrc = new CRC32C();
        footerCrc.update(file.duplicate().position(at).limit(at + 40));
        assertEquals(file.getInt(at + 40), (int) footerCrc.getValue());

        ToolRun text = run("sstdump", "--command", "raw", table.toString());
        assertEquals(0, text.code(), text.err());
        assertTrue(text.out().contains(fileSize + " bytes, " + blocks.size() + " data blocks, 1001 entries"), text.out());
        assertTrue(text.out().contains("data block #" + (blocks.size() - 1)), text.out());
        assertTrue(text.out().matches("(?s).*footer +offset +" + at + " +size +52\\n.*"), text.out());
        assertTrue(text.out().contains("layout ok"), text.out());
        assertEquals("", text.err());
    }

    @Test
    void rawNamesTheDataBlockWhoseChecksumFails() throws Exception {
        Path table = onlyTable(database());
        String name = table.getFileName().toString();
        List<Map<String, Object>> blocks = list(rawLayout(table).get("dataBlocks"));
        Map<String, Object> damaged = blocks.get(1);
        long offset = number(damaged, "offset");
        long flip = offset + number(damaged, "size") / 2;
        try (FileChannel channel = FileChannel.open(table, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, flip);
            channel.write(ByteBuffer.wrap(new byte[] {(byte) (one.get(0) ^ 0x5a)}), flip);
        }

        ToolRun raw = run("sstdump", "--command", "raw", table.toString());
        assertEquals(1, raw.code(), raw.out() + raw.err());
        assertTrue(raw.err().contains(name) && raw.err().contains("offset " + offset)
                && raw.err().contains("checksum mismatch"), raw.err());
        String line = raw.out().lines().filter(l -> l.contains("data block #1 ")).findFirst().orElseThrow();
        assertTrue(line.contains("CRC MISMATCH") && line.contains(Long.toString(offset)), line);
        assertTrue(raw.out().lines().filter(l -> l.contains("data block #0 ")).findFirst().orElseThrow().contains("crc ok"));
        assertTrue(raw.out().contains("1 table(s), 1 with problems"), raw.out());

        ToolRun json = run("sstdump", "--command", "raw", "--json", table.toString());
        assertEquals(1, json.code());
        Map<String, Object> layout = JsonReader.object(json.out().strip());
        assertEquals(false, layout.get("ok"));
        List<Map<String, Object>> after = list(layout.get("dataBlocks"));
        assertEquals(false, after.get(1).get("crcOk"));
        assertTrue(((String) after.get(1).get("error")).contains("offset " + offset), after.get(1).toString());
        assertEquals(true, after.get(0).get("crcOk"));
        assertEquals(1, list(layout.get("problems")).size());
    }

    @Test
    void fromAndToBoundScanToTheKeysFromFromUpToButExcludingToUnlessInclusive() {
        Path dir = database();
        List<String> expected = new ArrayList<>();
        for (int i = 100; i <= 110; i++) {
            expected.add(String.format("key-%04d@%d", i, i + 1));
        }
        assertEquals(expected.subList(0, 10), scannedKeys("sstdump", "--command", "scan", "--from", "key-0100",
                "--to", "key-0110", "--limit", "1000", "--json", dir.toString()));
        assertEquals(expected, scannedKeys("sstdump", "--command", "scan", "--from", "key-0100", "--to", "key-0110",
                "--inclusive", "--limit", "1000", "--json", dir.toString()));
        assertEquals(expected.subList(0, 10), scannedKeys("sstdump", "--command", "scan", "--from", "key-0100",
                "--to", "key-0110", "--inclusive", "--prefix", "key-010", "--json", dir.toString()));
        assertEquals(List.of("key-0007@1001", "key-0007@8"), scannedKeys("sstdump", "--command", "scan",
                "--from", "key-0007", "--to", "key-0007", "--inclusive", "--json", dir.toString()));
        assertEquals(List.of("key-0998@999", "key-0999@1000"), scannedKeys("sstdump", "--command", "scan",
                "--from", "key-0998", "--json", dir.toString()));
        assertEquals(List.of("key-0100@101", "key-0101@102"), scannedKeys("sstdump", "--command",
                "scan", "--from", "0x6b65792d30313030", "--to", "key-0102", "--json", dir.toString()));
        assertEquals(List.of(), scannedKeys("sstdump", "--command", "scan", "--from", "key-0100a", "--to", "key-0100z",
                "--json", dir.toString()));

        ToolRun text = run("sstdump", "--command", "scan", "--from", "key-0005", "--to", "key-0009", "--limit", "3",
                dir.toString());
        assertEquals(0, text.code(), text.err());
        List<String> rows = text.out().lines().filter(l -> l.startsWith("  ")).toList();
        assertEquals(List.of("  \"key-0005\" @6 = \"value-5\"", "  \"key-0006\" @7 = \"value-6\"",
                "  \"key-0007\" @1001 = (deleted)", "  ... 2 more matching entries (--limit 3)"), rows);
    }

    @Test
    void jsonScanPrintsOneObjectPerTableWithItsRows() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(64))) {
            db.set("a", "small");
            db.set("b", "x".repeat(100));
            db.flush();
            db.delete("a");
            db.set("c", "third");
            db.flush();
        }
        List<Path> tables;
        try (Stream<Path> files = Files.list(dir)) {
            tables = files.filter(p -> p.toString().endsWith(".sst")).sorted().toList();
        }
        assertEquals(2, tables.size());
        ToolRun scan = run("sstdump", "--command", "scan", "--json", dir.toString());
        assertEquals(0, scan.code(), scan.err());
        List<String> lines = scan.out().lines().toList();
        assertEquals(2, lines.size(), scan.out());
        Map<String, Object> first = JsonReader.object(lines.get(0));
        Map<String, Object> second = JsonReader.object(lines.get(1));
        assertEquals(tables.get(0).getFileName().toString(), first.get("file"));
        assertEquals(tables.get(1).getFileName().toString(), second.get("file"));
        assertEquals(true, first.get("ok"));

        List<Map<String, Object>> rows = list(first.get("entries"));
        assertEquals(2, rows.size());
        assertEquals(Map.of("key", "a", "version", 1L, "kind", "value", "value", "small", "expiresAtMillis", 0L,
                "movedByGc", false),
                rows.get(0));
        assertEquals("b", rows.get(1).get("key"));
        assertEquals("pointer", rows.get(1).get("kind"));
        Map<String, Object> pointer = map(rows.get(1).get("pointer"));
        assertEquals(20L + 1 + 100, pointer.get("length"));
        assertFalse(rows.get(1).containsKey("value"));

        List<Map<String, Object>> later = list(second.get("entries"));
        assertEquals(List.of("a", "c"), later.stream().map(r -> r.get("key")).toList());
        assertEquals("tombstone", later.get(0).get("kind"));
        assertFalse(later.get(0).containsKey("value"));
        assertEquals(2L, second.get("matchingCount"));

        Map<String, Object> hex = JsonReader.object(run("sstdump", "--command", "scan", "--json", "--hex",
                tables.get(0).toString()).out().strip());
        assertEquals("0x61", list(hex.get("entries")).get(0).get("key"));
        assertEquals("0x736d616c6c", list(hex.get("entries")).get(0).get("value"));
    }

    @Test
    void corruptionInJsonModeIsStillOneObjectNamingTheOffset() throws Exception {
        Path table = onlyTable(database());
        long size = Files.size(table);
        try (FileChannel channel = FileChannel.open(table, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0}), size - 1);
        }
        ToolRun json = run("sstdump", "--command", "check", "--json", table.toString());
        assertEquals(1, json.code());
        Map<String, Object> object = JsonReader.object(json.out().strip());
        assertEquals(false, object.get("ok"));
        assertEquals(size - 52, object.get("offset"));
        assertTrue(json.err().contains(table.getFileName().toString()), json.err());
    }

    @Test
    void badOptionsAreUsageErrors() {
        Path dir = database();
        for (String[] args : new String[][] {
            {"--command", "raw", "--prefix", "key", dir.toString()},
            {"--command", "check", "--from", "a", dir.toString()},
            {"--command", "scan", "--from", "b", "--to", "a", dir.toString()},
            {"--command", "scan", "--from", "b", "--to", "b", dir.toString()},
            {"--command", "scan", "--from", "b", "--inclusive", dir.toString()},
            {"--command", "check", "--inclusive", dir.toString()},
            {"--command", "scan", "--from", "0xzz", dir.toString()},
            {"--command", "scan", "--limit", "-1", dir.toString()},
            {"--bogus", dir.toString()}}) {
            String[] full = new String[args.length + 1];
            full[0] = "sstdump";
            System.arraycopy(args, 0, full, 1, args.length);
            ToolRun run = run(full);
            assertEquals(2, run.code(), String.join(" ", args) + ": " + run.out() + run.err());
            assertFalse(run.err().isEmpty(), String.join(" ", args));
        }
        ToolRun help = run("sstdump", "--help");
        assertEquals(0, help.code());
        assertTrue(help.out().contains("raw") && help.out().contains("--from") && help.out().contains("0x")
                && help.out().contains("[from, to)") && help.out().contains("--inclusive"), help.out());
    }
}
