package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.wal.WalFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check} and {@code vlog-verify} give the verdict {@link TrainKV#open} gives on a damaged
 * value log: every case runs the tools on a damaged directory and opens a copy of it, and
 * {@link #agree} asserts that the open fails exactly when {@code check} says it would (naming
 * the same file and offset) and {@code vlog-verify} reports damage, and that the tail of the WAL
 * the open drops is the one {@code check} announces, record for record and byte for byte.
 */
class OpenVerdictTest {

    /** check's announcement of a WAL tail an open drops. */
    private static final Pattern TOOL_DROP = Pattern.compile("an open would drop the tail of write-ahead log (\\S+) "
            + "from offset (\\d+): (\\d+) record\\(s\\), (\\d+) bytes");
    /** The engine's warning when it drops a WAL tail (WalReplay). */
    private static final Pattern ENGINE_DROP = Pattern.compile("write-ahead log (\\S+) ends in a torn tail at offset "
            + "(\\d+) .*dropping the (\\d+) bytes from there on", Pattern.DOTALL);

    @TempDir
    Path work;

    private final AtomicInteger copies = new AtomicInteger();

    /** One {@code set}, in the order written: each is one WAL record. */
    record Write(String key, byte[] value) {
    }

    /**
     * What an open of a copy did: the failure, or the keys it lost (a suffix of the writes) and
     * the engine's warnings.
     */
    record Opened(CorruptionException failure, List<String> lost, String warnings) {
    }

    /** The tools' runs and the open's outcome, once they agree. */
    record Verdicts(ToolRun check, ToolRun vlogVerify, Opened open) {
    }

    // ---------------------------------------------------------------------------------------------
    // The issue's recipe and the genuine torn tail

    /**
     * Issue 14's recipe: with default options, {@code set k1} (4 KiB, to the value log) and
     * {@code set k2 "small"}, close, XOR one byte inside k1's entry. The entry is whole and its
     * header records k1's version, so it was written in full: the open refuses the directory, and
     * so must the tools (they used to call it a torn tail and find no problem).
     */
    @Test
    void theIssueRecipeIsDamageToTheToolsAsToTheOpen() throws Exception {
        Path dir = work.resolve("db");
        List<Write> writes = List.of(new Write("k1", filled(4096, 1)), new Write("k2", bytes("small")));
        build(dir, Options.at(dir), writes);
        Path log = onlyValueLog(dir);
        xor(log, 20 + 2 + 1000); // a byte of k1's value

        Verdicts verdicts = agree(dir, Options.at(dir), writes);
        String name = log.getFileName().toString();
        assertEquals(1, verdicts.check().code(), verdicts.check().out());
        assertTrue(verdicts.check().out().lines().anyMatch(line -> line.contains("value log " + name + " at offset 0")
                && line.contains("an open would fail")), verdicts.check().out());
        assertTrue(verdicts.check().out().contains("check: problems found"), verdicts.check().out());
        assertEquals(1, verdicts.vlogVerify().code(), verdicts.vlogVerify().out());
        assertTrue(verdicts.vlogVerify().out().contains("damaged: value log " + name + " at offset 0"),
                verdicts.vlogVerify().out());
        ToolRun namedFile = ToolRun.of("vlog-verify", log.toString());
        assertEquals(1, namedFile.code(), "the file's directory holds the evidence: " + namedFile.out());
        assertNotNull(verdicts.open().failure(), "the engine refuses the directory");
        assertEquals(name, verdicts.open().failure().fileName());
        assertEquals(0, verdicts.open().failure().offset());
    }

    /**
     * A crash during the last write: its value-log entry is cut short at the end of the newest
     * value-log file, and its batch is the last record of the newest WAL. The open drops exactly
     * that batch; check warns that it would (WAL, offset, one record, its bytes) and exits 0, and
     * vlog-verify tolerates the torn tail with a warning.
     */
    @Test
    void aGenuineTornTailIsToleratedAndTheOpenDropsExactlyItsBatch() throws Exception {
        Path dir = work.resolve("db");
        List<Write> writes = List.of(new Write("a", filled(4096, 1)), new Write("b", bytes("small")),
                new Write("c", filled(4096, 2)));
        build(dir, Options.at(dir), writes);
        Path log = onlyValueLog(dir);
        List<long[]> entries = vlogEntries(log);
        assertEquals(2, entries.size(), "a's and c's values are in the value log");
        long cut = entries.get(1)[0] + 3000;
        truncate(log, cut);
        Path wal = onlyFile(dir, ".wal");
        List<Long> records = walRecords(wal);
        assertEquals(3, records.size(), "one record per set");

        Verdicts verdicts = agree(dir, Options.at(dir), writes);
        String walName = wal.getFileName().toString();
        long walSize = Files.size(wal);
        assertEquals(0, verdicts.check().code(), verdicts.check().out());
        assertTrue(verdicts.check().out().contains("warning: an open would drop the tail of write-ahead log " + walName
                + " from offset " + records.get(2) + ": 1 record(s), " + (walSize - records.get(2)) + " bytes"),
                verdicts.check().out());
        assertTrue(verdicts.check().out().contains("check: no problems found (2 warning(s))"), verdicts.check().out());
        assertEquals(0, verdicts.vlogVerify().code(), verdicts.vlogVerify().out());
        assertTrue(verdicts.vlogVerify().out().contains("warning: torn tail at offset " + entries.get(1)[0] + " ("
                + (cut - entries.get(1)[0]) + " bytes"), verdicts.vlogVerify().out());
        assertNull(verdicts.open().failure(), "the engine opens the directory");
        assertEquals(List.of("c"), verdicts.open().lost());
    }

    // ---------------------------------------------------------------------------------------------
    // Every damage position

    /**
     * Six 20,000-byte values in two value-log files of three entries (64 KiB files), each followed
     * by a small inline write, all still in the one WAL. Every case damages a copy (a flipped byte in
     * the header, key or value of the first, middle or last entry, a zeroed tail, a cut at several
     * lengths, a deleted file, zeros or garbage after the last entry; in the older and in the newest
     * file) and {@link #agree} compares the tools with the open. The open must fail in some cases,
     * drop a tail in others and keep everything in others, or the loop would prove little.
     */
    @Test
    void theToolsAgreeWithTheOpenWhereverTheValueLogIsDamaged() throws Exception {
        Path healthy = work.resolve("healthy");
        Options options = Options.at(healthy).valueLogFileSize(64 * 1024);
        List<Write> writes = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            writes.add(new Write("big-" + i, filled(20_000, i)));
            writes.add(new Write("small-" + i, bytes("v" + i)));
        }
        build(healthy, options, writes);
        List<Path> logs = files(healthy, ".vlog").stream().filter(p -> p.toFile().length() > 0).toList();
        assertEquals(2, logs.size(), "two value-log files: " + logs);
        Map<String, Function<Path, Path>> files = Map.of("older", d -> d.resolve(logs.get(0).getFileName()),
                "newest", d -> d.resolve(logs.get(1).getFileName()));

        Map<String, Damage> cases = new TreeMap<>();
        for (Map.Entry<String, Function<Path, Path>> file : files.entrySet()) {
            List<long[]> entries = vlogEntries(file.getValue().apply(healthy));
            assertEquals(3, entries.size(), file.getKey() + " holds three entries");
            String[] positions = {"first", "middle", "last"};
            for (int e = 0; e < 3; e++) {
                long start = entries.get(e)[0];
                long length = entries.get(e)[1];
                String entry = file.getKey() + " file, " + positions[e] + " entry at " + start + ": ";
                Function<Path, Path> at = file.getValue();
                cases.put(entry + "checksum byte", d -> xor(at.apply(d), start + 1));
                cases.put(entry + "version byte", d -> xor(at.apply(d), start + 11));
                cases.put(entry + "key length, low byte", d -> xor(at.apply(d), start + 15));
                cases.put(entry + "value length, high byte", d -> xor(at.apply(d), start + 16));
                cases.put(entry + "value length, low byte", d -> xor(at.apply(d), start + 19));
                cases.put(entry + "key byte", d -> xor(at.apply(d), start + 21));
                cases.put(entry + "value byte", d -> xor(at.apply(d), start + length / 2));
                cases.put(entry + "last byte", d -> xor(at.apply(d), start + length - 1));
            }
            long lastStart = entries.get(2)[0];
            long lastLength = entries.get(2)[1];
            for (long keep : new long[] {0, 1, 19, 21, 4096, lastLength - 1}) {
                cases.put(file.getKey() + " file cut " + keep + " bytes into its last entry",
                        d -> truncate(file.getValue().apply(d), lastStart + keep));
            }
            cases.put(file.getKey() + " file cut in its middle entry",
                    d -> truncate(file.getValue().apply(d), entries.get(1)[0] + 700));
            cases.put(file.getKey() + " file cut to nothing", d -> truncate(file.getValue().apply(d), 0));
            cases.put(file.getKey() + " file: its last 8,000 bytes zeroed, its size kept",
                    d -> zero(file.getValue().apply(d), lastStart + lastLength - 8000, 8000));
            cases.put(file.getKey() + " file deleted", d -> Files.delete(file.getValue().apply(d)));
            cases.put(file.getKey() + " file: 4,096 zeros appended", d -> append(file.getValue().apply(d), new byte[4096]));
            cases.put(file.getKey() + " file: 25 bytes of garbage appended",
                    d -> append(file.getValue().apply(d), filled(25, 99)));
        }

        List<String> outcomes = new ArrayList<>();
        List<Executable> checks = new ArrayList<>();
        for (Map.Entry<String, Damage> damage : cases.entrySet()) {
            checks.add(() -> {
                Path copy = copy(healthy);
                damage.getValue().apply(copy);
                Verdicts verdicts = agree(copy, Options.at(copy).valueLogFileSize(64 * 1024), writes);
                String context = damage.getKey() + "\n" + describe(verdicts);
                int expected = verdicts.open().failure() != null ? 1 : 0;
                assertEquals(expected, verdicts.check().code(), "check's exit code: " + context);
                assertEquals(expected, verdicts.vlogVerify().code(), "vlog-verify's exit code: " + context);
                outcomes.add(verdicts.open().failure() != null ? "fails" : verdicts.open().lost().isEmpty() ? "keeps all"
                        : "drops");
            });
        }
        assertAll("value-log damage", checks.stream());
        assertTrue(outcomes.containsAll(List.of("fails", "drops", "keeps all")), "every outcome occurs: " + outcomes);
    }

    // ---------------------------------------------------------------------------------------------
    // Damage in a dead value

    /**
     * k1's value-log entry is damaged, but a later write of k1 (inline) replaced it: the open
     * tolerates it and loses nothing, and check reports it as tolerated, not as a reason an open
     * fails. The value-log file still holds damage (its entry was written in full), which
     * vlog-verify and so check report.
     */
    @Test
    void aDamagedDeadValueIsToleratedByTheOpenAndReportedByTheTools() throws Exception {
        Path dir = work.resolve("db");
        List<Write> writes = List.of(new Write("k1", filled(4096, 1)), new Write("k1", bytes("small")));
        build(dir, Options.at(dir), writes);
        Path log = onlyValueLog(dir);
        xor(log, 20 + 2 + 1000);
        String name = log.getFileName().toString();

        Verdicts verdicts = agree(dir, Options.at(dir), writes);
        assertNull(verdicts.open().failure());
        assertEquals(List.of(), verdicts.open().lost());
        assertTrue(verdicts.open().warnings().contains("a later write of the key"), verdicts.open().warnings());
        String check = verdicts.check().out();
        assertTrue(check.lines().anyMatch(line -> line.startsWith("tolerated: value log " + name + " at offset 0")
                && line.contains("an open tolerates it")), check);
        assertTrue(check.contains("0 broken, 1 damaged but dead (tolerated)"), check);
        assertEquals(1, verdicts.vlogVerify().code(), verdicts.vlogVerify().out());
        assertTrue(verdicts.vlogVerify().out().contains("damaged: value log " + name + " at offset 0"),
                verdicts.vlogVerify().out());
        assertEquals(1, verdicts.check().code(), "vlog-verify's damage is check's problem: " + check);
    }

    // ---------------------------------------------------------------------------------------------
    // The comparison

    /** A change made to a copy of a directory. */
    @FunctionalInterface
    interface Damage {
        void apply(Path dir) throws IOException;
    }

    /**
     * Runs check and vlog-verify on {@code dir} (which they must leave as it is) and opens a copy
     * of it, and asserts that they agree: the open fails exactly when check says an open would
     * fail, naming the file and offset the open's {@link CorruptionException} names, and then
     * vlog-verify reports damage too; the open drops a WAL tail exactly when check announces one,
     * the same WAL from the same offset with the same bytes, and the records it names are the
     * writes the open lost; every write the open kept reads back as written.
     */
    private Verdicts agree(Path dir, Options options, List<Write> writes) throws IOException {
        SortedMap<String, byte[]> before = snapshot(dir);
        ToolRun check = ToolRun.of("check", dir.toString());
        ToolRun vlogVerify = ToolRun.of("vlog-verify", dir.toString());
        assertSameFiles(before, dir);
        Path copy = copy(dir);
        Opened open = open(Options.at(copy).valueLogFileSize(options.valueLogFileSize()), writes);
        Verdicts verdicts = new Verdicts(check, vlogVerify, open);
        String context = describe(verdicts);

        List<String> failLines = check.out().lines().filter(line -> line.contains("an open would fail")).toList();
        if (open.failure() != null) {
            CorruptionException failure = open.failure();
            assertTrue(failLines.stream().anyMatch(line -> line.contains(failure.fileName())
                    && line.contains("offset " + failure.offset())), "check names the open's failure: " + context);
            assertEquals(1, check.code(), context);
            assertEquals(1, vlogVerify.code(), context);
            return verdicts;
        }
        assertEquals(List.of(), failLines, "the open succeeded: " + context);
        Matcher toolDrop = TOOL_DROP.matcher(check.out());
        Matcher engineDrop = ENGINE_DROP.matcher(open.warnings());
        boolean drops = engineDrop.find();
        assertEquals(drops, toolDrop.find(), "check announces the tail the open drops, and only that: " + context);
        if (drops) {
            assertEquals(engineDrop.group(1), toolDrop.group(1), "the WAL: " + context);
            assertEquals(engineDrop.group(2), toolDrop.group(2), "the offset: " + context);
            assertEquals(engineDrop.group(3), toolDrop.group(4), "the bytes: " + context);
            assertEquals(open.lost().size(), Integer.parseInt(toolDrop.group(3)), "the records: " + context);
        } else {
            assertEquals(List.of(), open.lost(), "nothing dropped, nothing lost: " + context);
        }
        return verdicts;
    }

    /**
     * Opens {@code options}' directory and reads back every key: each must hold its last written
     * value, or, for a suffix of the writes, nothing at all (what the open dropped).
     */
    private static Opened open(Options options, List<Write> writes) {
        Logger logger = Logger.getLogger("io.trainkv");
        boolean parents = logger.getUseParentHandlers();
        StringBuilder warnings = new StringBuilder();
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.append(record.getMessage()).append('\n');
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        logger.setUseParentHandlers(false);
        try (TrainKV db = TrainKV.open(options)) {
            Map<String, byte[]> last = new TreeMap<>();
            writes.forEach(w -> last.put(w.key(), w.value()));
            int kept = writes.size();
            while (kept > 0 && db.get(bytes(writes.get(kept - 1).key())) == null) {
                kept--;
            }
            List<String> lost = writes.subList(kept, writes.size()).stream().map(Write::key).toList();
            Map<String, byte[]> expected = new TreeMap<>();
            writes.subList(0, kept).forEach(w -> expected.put(w.key(), w.value()));
            for (String key : last.keySet()) {
                assertArrayEquals(expected.get(key), db.get(bytes(key)), "key " + key + " after the open");
            }
            return new Opened(null, lost, warnings.toString());
        } catch (CorruptionException e) {
            return new Opened(e, null, warnings.toString());
        } finally {
            logger.removeHandler(handler);
            logger.setUseParentHandlers(parents);
        }
    }

    private static String describe(Verdicts verdicts) {
        return "--- check exit " + verdicts.check().code() + ":\n" + verdicts.check().out() + verdicts.check().err()
                + "--- vlog-verify exit " + verdicts.vlogVerify().code() + ":\n" + verdicts.vlogVerify().out()
                + verdicts.vlogVerify().err() + "--- open: " + (verdicts.open().failure() != null
                ? verdicts.open().failure().getMessage() : "lost " + verdicts.open().lost())
                + "\n" + verdicts.open().warnings();
    }

    // ---------------------------------------------------------------------------------------------
    // Directories and bytes

    /**
     * Writes {@code writes} and leaves the directory as a crash just before {@code close()} would:
     * close's value-log durable mark, the WAL's last record, is cut off, so that damage at the end
     * of the value log can read as the torn tail of that crash.
     */
    private static void build(Path dir, Options options, List<Write> writes) throws IOException {
        try (TrainKV db = TrainKV.open(options)) {
            for (Write write : writes) {
                db.set(bytes(write.key()), write.value());
            }
        }
        assertEquals(1, files(dir, ".wal").size(), "the writes are still in one WAL");
        assertEquals(List.of(), files(dir, ".sst"), "no write reached a table");
        Path wal = files(dir, ".wal").get(0);
        List<Long> records = walRecords(wal);
        long last = records.get(records.size() - 1);
        ByteBuffer lastRecord = ByteBuffer.wrap(Files.readAllBytes(wal), (int) last, (int) (Files.size(wal) - last)).slice();
        assertEquals(WalFormat.DURABLE_MARK_RECORD_SIZE, lastRecord.remaining(), "close() ends the WAL with a mark");
        assertEquals(WalFormat.DURABLE_MARK_VERSION, lastRecord.getLong(8), "close() ends the WAL with a mark");
        truncate(wal, last);
    }

    private Path copy(Path dir) throws IOException {
        Path copy = work.resolve("copy-" + copies.incrementAndGet());
        Files.createDirectories(copy);
        for (Path file : files(dir, "")) {
            Files.copy(file, copy.resolve(file.getFileName()));
        }
        return copy;
    }

    private static List<Path> files(Path dir, String suffix) {
        try (Stream<Path> list = Files.list(dir)) {
            return list.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static Path onlyFile(Path dir, String suffix) {
        List<Path> found = files(dir, suffix);
        assertEquals(1, found.size(), suffix + " files: " + found);
        return found.get(0);
    }

    private static Path onlyValueLog(Path dir) {
        List<Path> logs = files(dir, ".vlog").stream().filter(p -> p.toFile().length() > 0).toList();
        assertEquals(1, logs.size(), "value-log files: " + logs);
        return logs.get(0);
    }

    /** {offset, length} of each entry: {@code crc32c (4) ‖ version (8) ‖ keyLength (4) ‖ valueLength (4) ‖ key ‖ value}. */
    private static List<long[]> vlogEntries(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        List<long[]> entries = new ArrayList<>();
        int at = 0;
        while (at < bytes.capacity()) {
            int length = 20 + bytes.getInt(at + 12) + bytes.getInt(at + 16);
            entries.add(new long[] {at, length});
            at += length;
        }
        assertEquals(bytes.capacity(), at, file.getFileName() + " is a whole number of entries");
        return entries;
    }

    /** The offsets of a WAL's records: {@code crc32c (4) ‖ length (4) ‖ payload}. */
    private static List<Long> walRecords(Path file) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(Files.readAllBytes(file));
        List<Long> records = new ArrayList<>();
        int at = 0;
        while (at < bytes.capacity()) {
            records.add((long) at);
            at += 8 + bytes.getInt(at + 4);
        }
        assertEquals(bytes.capacity(), at, file.getFileName() + " is a whole number of records");
        return records;
    }

    private static void xor(Path file, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        assertTrue(offset >= 0 && offset < bytes.length, "offset " + offset + " inside " + file.getFileName());
        bytes[(int) offset] ^= (byte) 0xff;
        Files.write(file, bytes);
    }

    private static void truncate(Path file, long size) throws IOException {
        assertTrue(size < Files.size(file), "cut " + file.getFileName() + " to " + size + " bytes");
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }

    private static void append(Path file, byte[] bytes) throws IOException {
        Files.write(file, bytes, StandardOpenOption.APPEND);
    }

    private static void zero(Path file, long offset, int length) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        assertTrue(offset >= 0 && offset + length <= bytes.length, "zeroed range inside " + file.getFileName());
        Arrays.fill(bytes, (int) offset, (int) offset + length, (byte) 0);
        Files.write(file, bytes);
    }

    private static SortedMap<String, byte[]> snapshot(Path dir) throws IOException {
        SortedMap<String, byte[]> files = new TreeMap<>();
        for (Path file : files(dir, "")) {
            files.put(file.getFileName().toString(), Files.readAllBytes(file));
        }
        return files;
    }

    private static void assertSameFiles(SortedMap<String, byte[]> expected, Path dir) throws IOException {
        SortedMap<String, byte[]> actual = snapshot(dir);
        assertEquals(expected.keySet(), actual.keySet(), "the tools left the file names as they were");
        for (Map.Entry<String, byte[]> file : expected.entrySet()) {
            assertArrayEquals(file.getValue(), actual.get(file.getKey()),
                    "the tools left the bytes of " + file.getKey() + " as they were");
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    /** {@code length} bytes that differ from value to value. */
    private static byte[] filled(int length, int seed) {
        byte[] value = new byte[length];
        for (int i = 0; i < length; i++) {
            value[i] = (byte) (seed * 31 + i * 7);
        }
        return value;
    }
}
