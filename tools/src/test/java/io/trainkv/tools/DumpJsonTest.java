package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dump tools' output is uniform: a WAL entry is the same JSON object as a table's scan row,
 * and a value pointer prints one way (file, offset, length) in every tool, text and JSON.
 */
class DumpJsonTest {

    @TempDir
    Path tempDir;

    /** A closed database whose WAL holds a small value, a value-log pointer and a tombstone. */
    private Path database() {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("small", "v");
            db.set("big".getBytes(), new byte[4000]);
            db.delete("gone");
        }
        return dir;
    }

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> walEntries(String jsonLines) {
        List<Map<String, Object>> entries = new ArrayList<>();
        for (String line : jsonLines.strip().split("\n")) {
            for (Object batch : (List<Object>) JsonReader.object(line).get("batches")) {
                Object batchEntries = ((Map<String, Object>) batch).get("entries");
                if (batchEntries != null) {
                    for (Object entry : (List<Object>) batchEntries) {
                        assertTrue(entry instanceof Map, "an entry is an object, not a string: " + entry);
                        entries.add((Map<String, Object>) entry);
                    }
                }
            }
        }
        return entries;
    }

    private static Map<String, Object> byKey(List<Map<String, Object>> entries, String key) {
        return entries.stream().filter(e -> key.equals(e.get("key"))).findFirst().orElseThrow(() ->
                new AssertionError("no entry for " + key + " in " + entries));
    }

    @Test
    @SuppressWarnings("unchecked")
    void walDumpJsonEntriesAreObjectsAsSstdumpScanRowsAre() throws Exception {
        Path dir = database();
        ToolRun wal = ToolRun.of("wal-dump", "--json", dir.toString());
        assertEquals(0, wal.code(), wal.err());
        List<Map<String, Object>> entries = walEntries(wal.out());

        Map<String, Object> small = byKey(entries, "small");
        assertEquals("value", small.get("kind"));
        assertEquals("v", small.get("value"));
        assertEquals("tombstone", byKey(entries, "gone").get("kind"));
        Map<String, Object> big = byKey(entries, "big");
        assertEquals("pointer", big.get("kind"));
        Map<String, Object> pointer = (Map<String, Object>) big.get("pointer");
        assertEquals(List.of("file", "offset", "length"), List.copyOf(pointer.keySet()));
        assertTrue(Files.exists(dir.resolve(String.format(Locale.ROOT, "%06d.vlog", (Long) pointer.get("file")))), pointer.toString());
        assertTrue((Long) pointer.get("length") > 4000, "the entry holds the 4000-byte value: " + pointer);

        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.flush();
        }
        ToolRun scan = ToolRun.of("sstdump", "--command", "scan", "--json", dir.toString());
        assertEquals(0, scan.code(), scan.err());
        List<Map<String, Object>> rows = new ArrayList<>();
        for (String line : scan.out().strip().split("\n")) {
            rows.addAll((List<Map<String, Object>>) JsonReader.object(line).get("entries"));
        }
        assertEquals(big, byKey(rows, "big"), "the table's row for the key is the WAL's entry, member for member");
        assertEquals(small, byKey(rows, "small"));
    }

    /**
     * One vocabulary in every dump tool's JSON: a list of entry objects is {@code entries} (in
     * {@code wal-dump} per batch), and a number of things is a member whose name ends in
     * {@code Count}, never {@code entries}, {@code rows}, {@code records} or {@code entryList}.
     */
    @Test
    void everyDumpToolNamesItsEntryListEntriesAndItsCountsCount() throws Exception {
        Path dir = database();
        List<Object> objects = new ArrayList<>();
        for (String line : ToolRun.of("wal-dump", "--json", dir.toString()).out().strip().split("\n")) {
            objects.add(JsonReader.object(line));
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.flush();
        }
        for (String[] args : new String[][] {{"vlog-dump", "--json", dir.toString()},
            {"sstdump", "--command", "scan", "--json", dir.toString()},
            {"sstdump", "--command", "properties", "--json", dir.toString()},
            {"sstdump", "--command", "raw", "--json", dir.toString()},
            {"wal-verify", "--json", dir.toString()}, {"vlog-verify", "--json", dir.toString()},
            {"manifest-dump", "--json", dir.toString()}}) {
            ToolRun run = ToolRun.of(args);
            assertEquals(0, run.code(), String.join(" ", args) + ": " + run.err());
            for (String line : run.out().strip().split("\n")) {
                objects.add(JsonReader.object(line));
            }
        }
        List<String> entryLists = new ArrayList<>();
        for (Object object : objects) {
            checkNames(object, "", entryLists);
        }
        assertTrue(entryLists.contains("batches[].entries") && entryLists.contains("entries"), entryLists.toString());
    }

    @SuppressWarnings("unchecked")
    private static void checkNames(Object json, String path, List<String> entryLists) {
        if (json instanceof List<?> list) {
            list.forEach(item -> checkNames(item, path + "[]", entryLists));
        } else if (json instanceof Map<?, ?> map) {
            for (Map.Entry<String, Object> member : ((Map<String, Object>) map).entrySet()) {
                String name = member.getKey();
                String where = path.isEmpty() ? name : path + "." + name;
                assertFalse(List.of("rows", "records", "entryList", "matching", "tombstones", "liveTables").contains(name),
                        where + " is not a name the dump tools use");
                if (name.equals("entries")) {
                    assertTrue(member.getValue() instanceof List, where + " is a list of entries, not a count");
                    entryLists.add(where);
                }
                if (name.endsWith("Count")) {
                    assertTrue(member.getValue() == null || member.getValue() instanceof Long, where);
                }
                checkNames(member.getValue(), where, entryLists);
            }
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aValuePointerPrintsAsTheFileOffsetAndLengthInEveryTool() throws Exception {
        Path dir = database();
        Map<String, Object> pointer = (Map<String, Object>) byKey(walEntries(ToolRun.of("wal-dump", "--json",
                dir.toString()).out()), "big").get("pointer");
        String shown = String.format(Locale.ROOT, "%06d.vlog @ %d (+%d bytes)", pointer.get("file"),
                pointer.get("offset"), pointer.get("length"));

        ToolRun wal = ToolRun.of("wal-dump", dir.toString());
        assertEquals(0, wal.code(), wal.err());
        assertTrue(wal.out().contains("\"big\" -> " + shown), wal.out());
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.flush();
        }
        ToolRun scan = ToolRun.of("sstdump", "--command", "scan", dir.toString());
        assertEquals(0, scan.code(), scan.err());
        assertTrue(scan.out().contains("\"big\" @2 = -> " + shown), scan.out());
        for (ToolRun run : List.of(wal, scan)) {
            assertFalse(run.out().contains("ValuePointer"), "never the record's toString: " + run.out());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void manifestDumpNamesATablesKeysAsSstdumpDoes() throws Exception {
        Path dir = database();
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.flush();
        }
        Map<String, Object> table = JsonReader.object(ToolRun.of("sstdump", "--json", dir.toString()).out().strip());
        Map<String, Object> added = null;
        for (Object edit : (List<Object>) JsonReader.object(ToolRun.of("manifest-dump", "--json", dir.toString()).out()
                .strip()).get("edits")) {
            for (Object a : (List<Object>) ((Map<String, Object>) edit).get("added")) {
                added = (Map<String, Object>) a;
            }
        }
        assertTrue(added != null, "the flush added a table");
        assertEquals(table.get("smallestKey"), added.get("smallestKey"));
        assertEquals(table.get("largestKey"), added.get("largestKey"));
        assertEquals("big", added.get("smallestKey"), "key text, without quotes or a version: " + added);
        assertEquals(2L, added.get("smallestVersion"));
    }
}
