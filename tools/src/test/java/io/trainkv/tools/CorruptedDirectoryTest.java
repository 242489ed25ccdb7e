package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.manifest.ManifestLog;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.sstable.BlockHandle;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every offline inspection tool against a real directory built by the engine, healthy and in
 * corrupted copies: a flipped byte in a table's data block, in a WAL record, in the manifest, in a
 * value-log entry; a missing table; an orphan table. The tools responsible for the damaged file
 * and {@code check} must exit 1 and name the file (and, for a flipped byte, the offset of the
 * damaged block, record or entry) on one output line; tools whose files are untouched must exit 0;
 * no tool may print a stack trace or change a byte of the directory it inspects.
 *
 * <p>The healthy directory is built once and never written after it is closed; each fault works on
 * a fresh copy of it. A clean {@code close()} rewrites the manifest as one snapshot edit and deletes
 * every flushed WAL, so the closed directory holds one manifest record and one WAL (the writes
 * made after the last flush, several records); the WAL fault damages the first of those records,
 * which valid records follow, so it cannot be a tolerated torn tail.
 */
class CorruptedDirectoryTest {

    private static final int MAX_LEVELS = 8;
    private static final Pattern STACK_FRAME = Pattern.compile("(?m)^\\s+at [\\w.$]+\\(.*\\)\\s*$");

    @TempDir
    static Path shared;

    /** The healthy directory; no test writes to it. */
    private static Path healthy;
    /** Its files (name to bytes) once built, before any tool ran. */
    private static SortedMap<String, byte[]> healthyFiles;
    /** Its live tables by manifest replay, in file-number order. */
    private static List<LiveTable> liveTables;

    @TempDir
    Path work;

    record LiveTable(String name, long number, int level) {
    }

    /** A framed record (WAL or manifest) or a value-log entry: where it starts and how it is laid out. */
    record Span(long offset, int headerLength, int keyLength, int bodyLength) {
        long end() {
            return offset + headerLength + keyLength + bodyLength;
        }
    }

    @BeforeAll
    static void buildHealthyDirectory() throws Exception {
        healthy = shared.resolve("healthy");
        Options options = Options.at(healthy).valueThreshold(200).valueLogFileSize(64 * 1024)
                .targetFileSize(16 * 1024).level0Triggers(100, 200, 300).gcInterval(Duration.ZERO);
        try (TrainKV db = TrainKV.open(options)) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 150; i++) {
                    db.set(bytes("key-" + round + "-" + i), filled(i % 3 == 0 ? 20 : 500, round + i));
                    db.set(bytes("big-" + i), filled(400 + round, i));
                }
                for (int i = 0; i < 150; i += 10) {
                    db.delete(bytes("key-" + round + "-" + i));
                }
                db.flush();
            }
            db.compactRange(null, null);
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < 100; i++) {
                    db.set(bytes("late-" + round + "-" + i), filled(300, i));
                }
                db.flush();
            }
            for (int i = 0; i < 12; i++) {
                if (i % 3 == 0) {
                    db.set(bytes("tail-" + i), filled(600, i));
                } else {
                    db.set("tail-" + i, "v" + i);
                }
            }
            db.delete("late-0-5");
        }

        liveTables = readLiveTables(healthy);
        // The directory must have the shape the faults below rely on, or they would prove nothing.
        assertTrue(liveTables.size() >= 4, "live tables: " + liveTables);
        assertTrue(liveTables.stream().map(LiveTable::level).distinct().count() >= 2,
                "tables in more than one level: " + liveTables);
        assertEquals(new TreeSet<>(liveTables.stream().map(LiveTable::name).toList()), new TreeSet<>(names(healthy, ".sst")),
                "every table file is live and every live table exists");
        boolean pointsIntoValueLog = false;
        for (LiveTable table : liveTables) {
            try (TableReader reader = openTable(healthy, table)) {
                pointsIntoValueLog |= !reader.properties().valueLogBytes().isEmpty();
            }
        }
        assertTrue(pointsIntoValueLog, "some live table holds value pointers");
        List<String> valueLogs = names(healthy, ".vlog");
        assertTrue(valueLogs.size() >= 4, "value-log files: " + valueLogs);
        for (String log : valueLogs) {
            assertTrue(vlogEntries(healthy.resolve(log)).size() >= 2, log + " holds entries");
        }
        List<String> wals = names(healthy, ".wal");
        assertEquals(1, wals.size(), "a clean close leaves the one WAL holding the writes after the last flush: " + wals);
        assertTrue(records(healthy.resolve(wals.get(0))).size() >= 10, "the WAL holds several records");
        assertTrue(records(healthy.resolve(manifestName(healthy))).size() >= 1, "the manifest holds an edit");

        healthyFiles = snapshot(healthy);
    }

    // ---------------------------------------------------------------------------------------------
    // The healthy directory

    @Test
    void aHealthyDirectoryPassesEveryInspectionToolAndIsLeftUntouched() throws Exception {
        String dir = healthy.toString();
        List<Executable> checks = new ArrayList<>();
        for (String[] args : inspectionTools(dir)) {
            checks.add(clean(args));
        }
        checks.add(clean("sstdump", "--command", "properties", dir));
        checks.add(clean("sstdump", "--command", "scan", dir));
        for (String table : names(healthy, ".sst")) {
            checks.add(clean("sstdump", "--command", "verify", healthy.resolve(table).toString()));
            checks.add(clean("sstdump", "--command", "raw", healthy.resolve(table).toString()));
        }
        for (String wal : names(healthy, ".wal")) {
            checks.add(clean("wal-verify", healthy.resolve(wal).toString()));
        }
        for (String log : names(healthy, ".vlog")) {
            checks.add(clean("vlog-verify", healthy.resolve(log).toString()));
        }
        checks.add(() -> assertSameFiles(healthyFiles, healthy, "after every inspection tool ran on the healthy directory"));
        assertAll("healthy directory", checks.stream());
    }

    // ---------------------------------------------------------------------------------------------
    // Flipped bytes

    @Test
    void aFlippedByteInATableDataBlockIsFoundWithTheBlockOffset() throws Exception {
        LiveTable table = liveTables.stream().max(Comparator.comparingInt(LiveTable::level)).orElseThrow();
        BlockHandle first;
        try (TableReader reader = openTable(healthy, table)) {
            first = reader.layout().dataBlocks().get(0).handle();
        }
        assertTrue(first.size() > 100, "the first data block is longer than 100 bytes: " + first.size());
        Path copy = copyOfHealthy();
        flip(copy.resolve(table.name()), first.offset() + 100);
        SortedMap<String, byte[]> damaged = snapshot(copy);

        String dir = copy.toString();
        String file = copy.resolve(table.name()).toString();
        assertAll("flipped byte at offset " + (first.offset() + 100) + " of " + table.name() + " (L" + table.level() + ")",
                finds(table.name(), first.offset(), "sstdump", "--command", "check", dir),
                finds(table.name(), first.offset(), "sstdump", "--command", "verify", dir),
                finds(table.name(), first.offset(), "sstdump", "--command", "raw", dir),
                finds(table.name(), first.offset(), "sstdump", "--command", "verify", file),
                finds(table.name(), first.offset(), "check", dir),
                clean("wal-verify", dir),
                clean("vlog-verify", dir),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    @Test
    void aFlippedByteInTheFirstRecordOfAWalWithSeveralIsFoundWithTheRecordOffset() throws Exception {
        String wal = names(healthy, ".wal").get(0);
        List<Span> records = records(healthy.resolve(wal));
        assertTrue(records.size() >= 2, "valid records follow the damaged one: " + records.size());
        Span record = records.get(0);
        Path copy = copyOfHealthy();
        flip(copy.resolve(wal), record.offset() + record.headerLength() + 4); // a byte of the batch's version
        SortedMap<String, byte[]> damaged = snapshot(copy);

        String dir = copy.toString();
        assertAll("flipped byte in the first of " + records.size() + " records of " + wal,
                finds(wal, record.offset(), "wal-verify", dir),
                finds(wal, record.offset(), "wal-dump", dir),
                finds(wal, record.offset(), "wal-verify", copy.resolve(wal).toString()),
                finds(wal, record.offset(), "check", dir),
                clean("sstdump", "--command", "check", dir),
                clean("sstdump", "--command", "verify", dir),
                clean("manifest-verify", dir),
                clean("vlog-verify", dir),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    /**
     * The middle record of the manifest. After a clean close the manifest is one snapshot edit, so
     * that record is also the last: a complete record with a bad checksum must still be reported
     * (and were it taken as a torn tail, the manifest would hold no complete edit, reported at the
     * same offset).
     */
    @Test
    void aFlippedByteInTheManifestIsFoundWithTheRecordOffset() throws Exception {
        String manifest = manifestName(healthy);
        List<Span> records = records(healthy.resolve(manifest));
        Span record = records.get(records.size() / 2);
        Path copy = copyOfHealthy();
        flip(copy.resolve(manifest), record.offset() + record.headerLength() + record.bodyLength() / 2);
        SortedMap<String, byte[]> damaged = snapshot(copy);

        String dir = copy.toString();
        assertAll("flipped byte in the middle of record " + (records.size() / 2) + " (of " + records.size() + ") of "
                        + manifest,
                finds(manifest, record.offset(), "manifest-verify", dir),
                finds(manifest, record.offset(), "manifest-dump", dir),
                finds(manifest, record.offset(), "check", dir),
                clean("sstdump", "--command", "check", dir),
                clean("sstdump", "--command", "verify", dir),
                clean("wal-verify", dir),
                clean("vlog-verify", dir),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    @Test
    void aFlippedByteInASealedValueLogEntryIsFoundWithTheEntryOffset() throws Exception {
        List<String> logs = names(healthy, ".vlog");
        String log = logs.get(1); // sealed: neither the newest file nor the oldest
        List<Span> entries = vlogEntries(healthy.resolve(log));
        Span entry = entries.get(entries.size() / 2);
        assertTrue(entry.offset() > 0 && entry.end() < Files.size(healthy.resolve(log)), "an entry in the middle");
        Path copy = copyOfHealthy();
        flip(copy.resolve(log), entry.offset() + entry.headerLength() + entry.keyLength() + entry.bodyLength() / 2);
        SortedMap<String, byte[]> damaged = snapshot(copy);

        String dir = copy.toString();
        assertAll("flipped byte in the value of entry " + (entries.size() / 2) + " (of " + entries.size() + ") of " + log,
                finds(log, entry.offset(), "vlog-verify", dir),
                finds(log, entry.offset(), "vlog-dump", dir),
                finds(log, entry.offset(), "check", dir),
                clean("sstdump", "--command", "check", dir),
                clean("sstdump", "--command", "verify", dir),
                clean("manifest-verify", dir),
                clean("wal-verify", dir),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    /**
     * vlog-verify given the one file: it cannot know which file is the newest, but damage followed
     * by valid entries is damage in any file, never a torn tail.
     */
    @Test
    void aFlippedByteInASealedValueLogEntryIsFoundWhenTheFileIsNamed() throws Exception {
        String log = names(healthy, ".vlog").get(1);
        List<Span> entries = vlogEntries(healthy.resolve(log));
        Span entry = entries.get(entries.size() / 2);
        Path copy = copyOfHealthy();
        flip(copy.resolve(log), entry.offset() + entry.headerLength() + entry.keyLength() + entry.bodyLength() / 2);
        SortedMap<String, byte[]> damaged = snapshot(copy);

        assertAll("vlog-verify " + log + " with a flipped byte in entry " + (entries.size() / 2) + " of " + entries.size(),
                finds(log, entry.offset(), "vlog-verify", copy.resolve(log).toString()),
                finds(log, entry.offset(), "vlog-dump", copy.resolve(log).toString()),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    /**
     * The newest value-log file may end in a torn write, but a damaged first entry followed by
     * valid ones is not a tail: the entry is lost data (the next open seals this file, and reads of
     * the pointers into it fail).
     */
    @Test
    void aFlippedByteInTheFirstEntryOfTheNewestValueLogIsFound() throws Exception {
        List<String> logs = names(healthy, ".vlog");
        String log = logs.get(logs.size() - 1);
        List<Span> entries = vlogEntries(healthy.resolve(log));
        assertTrue(entries.size() >= 2, "valid entries follow the damaged one: " + entries.size());
        Span entry = entries.get(0);
        Path copy = copyOfHealthy();
        flip(copy.resolve(log), entry.offset() + entry.headerLength() + entry.keyLength() + entry.bodyLength() / 2);
        SortedMap<String, byte[]> damaged = snapshot(copy);

        String dir = copy.toString();
        assertAll("flipped byte in the first of " + entries.size() + " entries of the newest value log " + log,
                finds(log, entry.offset(), "vlog-verify", dir),
                finds(log, entry.offset(), "check", dir),
                clean("sstdump", "--command", "verify", dir),
                clean("manifest-verify", dir),
                clean("wal-verify", dir),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    // ---------------------------------------------------------------------------------------------
    // Missing and orphan tables

    @Test
    void aMissingLiveTableIsNamed() throws Exception {
        LiveTable table = liveTables.stream().filter(t -> t.level() == 0).findFirst().orElseThrow();
        Path copy = copyOfHealthy();
        Files.delete(copy.resolve(table.name()));
        SortedMap<String, byte[]> damaged = snapshot(copy);

        String dir = copy.toString();
        assertAll("live table " + table.name() + " (L" + table.level() + ") deleted",
                finds(table.name(), null, "manifest-verify", dir),
                finds(table.name(), null, "manifest-dump", dir),
                finds(table.name(), null, "check", dir),
                clean("wal-verify", dir),
                clean("vlog-verify", dir),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    @Test
    void anOrphanTableIsNamed() throws Exception {
        String orphan = FileNames.name(999_999, FileNames.Kind.TABLE);
        assertEquals("999999.sst", orphan);
        Path copy = copyOfHealthy();
        Files.copy(copy.resolve(liveTables.get(0).name()), copy.resolve(orphan));
        SortedMap<String, byte[]> damaged = snapshot(copy);

        String dir = copy.toString();
        assertAll("orphan table " + orphan + " (a copy of " + liveTables.get(0).name() + ")",
                finds(orphan, null, "manifest-verify", dir),
                finds(orphan, null, "manifest-dump", dir),
                finds(orphan, null, "check", dir),
                clean("sstdump", "--command", "verify", copy.resolve(orphan).toString()),
                clean("wal-verify", dir),
                clean("vlog-verify", dir),
                () -> assertSameFiles(damaged, copy, "after the tools ran on the damaged copy"));
    }

    // ---------------------------------------------------------------------------------------------
    // Expectations

    /** The read-only inspection tools, each over the whole directory. */
    private static List<String[]> inspectionTools(String dir) {
        return List.of(new String[] {"sstdump", "--command", "check", dir},
                new String[] {"sstdump", "--command", "verify", dir},
                new String[] {"sstdump", "--command", "raw", dir},
                new String[] {"manifest-verify", dir},
                new String[] {"manifest-dump", dir},
                new String[] {"wal-verify", dir},
                new String[] {"wal-dump", dir},
                new String[] {"vlog-verify", dir},
                new String[] {"vlog-dump", dir},
                new String[] {"check", dir});
    }

    /** The tool exits 0 without a stack trace. */
    private static Executable clean(String... args) {
        return () -> {
            ToolRun run = ToolRun.of(args);
            String output = run.out() + run.err();
            assertFalse(STACK_FRAME.matcher(output).find(), () -> describe(args, run, "printed a stack trace"));
            assertEquals(0, run.code(), () -> describe(args, run, "expected exit 0 (nothing wrong in its files)"));
        };
    }

    /**
     * The tool exits 1 without a stack trace, and one line of its output names {@code file} and,
     * unless {@code offset} is null, {@code offset N}.
     */
    private static Executable finds(String file, Long offset, String... args) {
        return () -> {
            ToolRun run = ToolRun.of(args);
            String output = run.out() + "\n" + run.err();
            assertFalse(STACK_FRAME.matcher(output).find(), () -> describe(args, run, "printed a stack trace"));
            assertEquals(1, run.code(), () -> describe(args, run, "expected exit 1 (problems found)"));
            Pattern offsetPattern = offset == null ? null : Pattern.compile("\\boffset " + offset + "\\b");
            boolean named = output.lines().anyMatch(line -> line.contains(file)
                    && (offsetPattern == null || offsetPattern.matcher(line).find()));
            assertTrue(named, () -> describe(args, run, "expected a line naming " + file
                    + (offset == null ? "" : " and \"offset " + offset + "\"")));
        };
    }

    private static String describe(String[] args, ToolRun run, String expectation) {
        return "trainkv " + String.join(" ", args).replace(shared.toString(), "$TMP") + " -> exit " + run.code() + ": "
                + expectation + "\n--- stdout:\n" + run.out() + "--- stderr:\n" + run.err();
    }

    // ---------------------------------------------------------------------------------------------
    // Directory helpers

    /** A fresh copy of the healthy directory, which must still be exactly as built. */
    private Path copyOfHealthy() throws IOException {
        assertSameFiles(healthyFiles, healthy, "before copying the healthy directory");
        Path copy = work.resolve("db");
        Files.createDirectories(copy);
        for (String name : healthyFiles.keySet()) {
            Files.copy(healthy.resolve(name), copy.resolve(name));
        }
        return copy;
    }

    private static SortedMap<String, byte[]> snapshot(Path dir) throws IOException {
        SortedMap<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.toList()) {
                files.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }

    private static void assertSameFiles(SortedMap<String, byte[]> expected, Path dir, String when) throws IOException {
        SortedMap<String, byte[]> actual = snapshot(dir);
        assertEquals(expected.keySet(), actual.keySet(), "file names " + when);
        for (Map.Entry<String, byte[]> file : expected.entrySet()) {
            byte[] now = actual.get(file.getKey());
            assertEquals(file.getValue().length, now.length, "size of " + file.getKey() + " " + when);
            assertArrayEquals(file.getValue(), now, "bytes of " + file.getKey() + " " + when);
        }
    }

    /** The directory's files ending in {@code suffix} that are numbered database files, in name (= number) order. */
    private static List<String> names(Path dir, String suffix) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(suffix)).sorted().toList();
        }
    }

    private static String manifestName(Path dir) throws IOException {
        String current = Files.readString(dir.resolve(FileNames.CURRENT), StandardCharsets.UTF_8);
        assertTrue(current.endsWith("\n") && FileNames.parseManifest(current.strip()) >= 0, "CURRENT: " + current);
        return current.strip();
    }

    private static void flip(Path file, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        assertTrue(offset >= 0 && offset < bytes.length, "offset " + offset + " inside " + file.getFileName());
        bytes[(int) offset] ^= (byte) 0xff;
        Files.write(file, bytes);
    }

    private static List<LiveTable> readLiveTables(Path dir) throws IOException {
        ManifestLog.Replayed replayed = ManifestLog.replay(NioStorage.open(dir), MAX_LEVELS);
        Map<Long, VersionEdit.Added> live = new LinkedHashMap<>();
        for (VersionEdit edit : replayed.edits()) {
            edit.deleted().forEach(d -> live.remove(d.fileNumber()));
            edit.added().forEach(a -> live.put(a.table().fileNumber(), a));
        }
        return live.values().stream()
                .map(a -> new LiveTable(FileNames.name(a.table().fileNumber(), FileNames.Kind.TABLE), a.table().fileNumber(),
                        a.level()))
                .sorted(Comparator.comparingLong(LiveTable::number)).toList();
    }

    private static TableReader openTable(Path dir, LiveTable table) throws IOException {
        return TableReader.open(NioStorage.open(dir).openRead(table.name()), table.name(), table.number(), false);
    }

    /** The records of a WAL or manifest: {@code crc32c (4) ‖ length (4) ‖ payload}, tiling the file. */
    private static List<Span> records(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        List<Span> records = new ArrayList<>();
        int at = 0;
        while (at < bytes.capacity()) {
            int length = bytes.getInt(at + 4);
            records.add(new Span(at, 8, 0, length));
            at += 8 + length;
        }
        assertEquals(bytes.capacity(), at, file.getFileName() + " is a whole number of records");
        return records;
    }

    /** The entries of a value-log file: {@code crc32c (4) ‖ version (8) ‖ keyLength (4) ‖ valueLength (4) ‖ key ‖ value}. */
    private static List<Span> vlogEntries(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        List<Span> entries = new ArrayList<>();
        long at = 0;
        while (at < bytes.capacity()) {
            Span entry = new Span(at, 20, bytes.getInt((int) at + 12), bytes.getInt((int) at + 16));
            entries.add(entry);
            at = entry.end();
        }
        assertEquals(bytes.capacity(), at, file.getFileName() + " is a whole number of entries");
        return entries;
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code length} bytes that differ from value to value, so no two entries are alike. */
    private static byte[] filled(int length, int seed) {
        byte[] value = new byte[length];
        Arrays.fill(value, (byte) ('a' + seed % 26));
        value[0] = (byte) seed;
        return value;
    }
}
