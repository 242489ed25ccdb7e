package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.vlog.ValueLogStage;
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
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code check} and {@code vlog-verify} on the directory a killed writer leaves since value-log
 * entries wait in the value-log stage ({@code VLOG-STAGE}): the newest entries are only in the
 * stage, and WAL batches point past the end of the newest value-log file. An open appends them,
 * so the tools must count them as present, not as a torn tail whose batches an open drops. The
 * killed state is made deterministically: the files of a database still open (nothing synced,
 * nothing closed) are copied, which is exactly what the page cache holds when its process dies.
 */
class StagedValueLogToolsTest {

    private static final int VALUE_BYTES = 2000;
    /** Bytes before the staged entries in {@code VLOG-STAGE} (docs/format.md). */
    private static final int STAGE_HEADER_BYTES = 4096;

    @TempDir
    Path work;

    /** Every value is staged; the newest value-log file holds none of them. */
    @Test
    void entriesOnlyInTheStageAreNeitherATornTailNorLostWrites() throws Exception {
        Path killed = killedWriter(100);
        Stage stage = stage(killed);
        assertEquals(0, stage.fileEnd(), "the stage has not been written to the file yet");
        assertToolsFindEverything(killed, 100, stage.pending().bytes(), "the killed directory");
        reopenAndCheckAgain(killed, 100, stage, stage.pending().bytes());
    }

    /**
     * More than the stage holds: the first MiB of entries went to the file in one write, the
     * rest is staged from the file's end on.
     */
    @Test
    void entriesPartlyInTheFileAndPartlyInTheStageAreNeitherATornTailNorLostWrites() throws Exception {
        Path killed = killedWriter(700);
        Stage stage = stage(killed);
        assertTrue(stage.fileEnd() > 0, "the file holds the entries of the first MiB");
        assertToolsFindEverything(killed, 700, stage.pending().bytes(), "the killed directory");
        reopenAndCheckAgain(killed, 700, stage, stage.pending().bytes());
    }

    /**
     * The writer was killed inside the write that moves the staged entries to the file: the file
     * received only part of them, ending inside an entry, and the stage still holds them all
     * (docs/format.md: the stage is reset only once the write returned). The file's tail is no
     * torn tail: an open appends the bytes the file lacks from the stage and loses nothing.
     */
    @Test
    void aKillDuringTheStagesWriteToTheFileLeavesNoTornTail() throws Exception {
        Path killed = killedWriter(100);
        Stage stage = stage(killed);
        int written = killInsideTheStagesWrite(killed, stage);
        assertToolsFindEverything(killed, 100, stage.pending().bytes() - written,
                "the directory killed inside the stage's write");
        reopenAndCheckAgain(killed, 100, stage, stage.pending().bytes() - written);
    }

    /**
     * A stage whose header this version does not write (here a later format version) may hold
     * entries it cannot read: vlog-verify and check report it as damage naming it, with exit 1,
     * rather than abort or call the directory sound.
     */
    @Test
    void aStageOfAnotherFormatVersionIsReportedAsDamageByBothTools() throws Exception {
        Path killed = killedWriter(100);
        try (FileChannel channel = FileChannel.open(killed.resolve(FileNames.VALUE_LOG_STAGE), StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {0, 0, 0, 2}), 8); // the format version
        }
        ToolRun verify = ToolRun.of("vlog-verify", killed.toString());
        String shown = verify.out() + verify.err();
        assertEquals(1, verify.code(), shown);
        assertTrue(verify.out().contains("VLOG-STAGE: damaged\n  damaged at offset 0: VLOG-STAGE holds a header this "
                + "version does not write (magic 0x544b565354414745, format version 2, capacity 1048576; this version "
                + "writes magic 0x544b565354414745 \"TKVSTAGE\", format version 1"), shown);
        assertTrue(verify.out().contains(" damaged, 1 with a tolerated torn tail; VLOG-STAGE damaged\n"), shown);
        Map<String, Object> stageJson = null;
        for (String line : ToolRun.of("vlog-verify", "--json", killed.toString()).out().strip().split("\n")) {
            Map<String, Object> file = JsonReader.object(line);
            if (FileNames.VALUE_LOG_STAGE.equals(file.get("file"))) {
                stageJson = file;
            }
        }
        assertEquals("damaged", stageJson.get("severity"), String.valueOf(stageJson));
        assertEquals(0L, ((Number) ((Map<?, ?>) stageJson.get("damage")).get("offset")).longValue(), String.valueOf(stageJson));
        ToolRun check = ToolRun.of("check", killed.toString());
        assertEquals(1, check.code(), check.out() + check.err());
        assertTrue(check.out().contains("VLOG-STAGE holds a header this version does not write"), check.out());
    }

    /**
     * A stage file of another length that is not only zeros (cut short, or damaged) fails an
     * open: both tools report it as damage at the first byte that is not zero, exit 1. One that
     * cannot be read at all (here a directory) is an I/O error, exit 2, named as VLOG-STAGE's.
     */
    @Test
    void aStageOfAnotherLengthIsDamageAndAnUnreadableStageAnIoError() throws Exception {
        Path killed = killedWriter(100);
        Path stageFile = killed.resolve(FileNames.VALUE_LOG_STAGE);
        try (FileChannel channel = FileChannel.open(stageFile, StandardOpenOption.WRITE)) {
            channel.truncate(600_000);
        }
        ToolRun verify = ToolRun.of("vlog-verify", killed.toString());
        String shown = verify.out() + verify.err();
        assertEquals(1, verify.code(), shown);
        assertTrue(verify.out().contains("VLOG-STAGE: damaged\n  damaged at offset 0: VLOG-STAGE holds 600000 bytes, "
                + "not 1052672, and not only zeros"), shown);
        ToolRun check = ToolRun.of("check", killed.toString());
        assertEquals(1, check.code(), check.out() + check.err());
        assertTrue(check.out().contains("check: problems found (see vlog-verify)\n"), check.out());

        Files.delete(stageFile);
        Files.createDirectory(stageFile);
        ToolRun unreadable = ToolRun.of("vlog-verify", killed.toString());
        shown = unreadable.out() + unreadable.err();
        assertEquals(2, unreadable.code(), shown);
        assertTrue(unreadable.out().contains("VLOG-STAGE: unreadable\n  error: VLOG-STAGE cannot be read ("), shown);
        assertTrue(unreadable.out().contains("; VLOG-STAGE unreadable\n"), shown);
        assertFalse(shown.contains("write-ahead logs cannot be read"), "the WALs are sound: " + shown);
    }

    /**
     * Damage in the file's own entries fails an open before it appends the staged ones:
     * vlog-verify then does not say they are appended by the next open, and says why not.
     */
    @Test
    void stagedBytesBehindDamageAreNotSaidToBeAppended() throws Exception {
        Path killed = killedWriter(700);
        Path file = stage(killed).file();
        long fileEnd = Files.size(file);
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, fileEnd / 2);
            one.put(0, (byte) ~one.get(0));
            channel.write(one.flip(), fileEnd / 2); // inside an entry the file holds
        }
        ToolRun verify = ToolRun.of("vlog-verify", killed.toString());
        assertEquals(1, verify.code(), verify.out() + verify.err());
        assertFalse(verify.out().contains("appended by the next open"), verify.out());
        assertTrue(verify.out().contains("staged in VLOG-STAGE), discarded"), verify.out());
        assertTrue(verify.out().contains("would append them to it, but it fails on the damage below"), verify.out());
    }

    /**
     * A file the tools are pointed at that is not of their kind (VLOG-STAGE given to vlog-verify,
     * a WAL to vlog-verify, CURRENT to wal-verify) is a usage error, exit 2, not judged by the
     * kind's rules (it was called damaged or a tolerated torn tail); with --json it is reported
     * as JSON, as is a path that does not exist.
     */
    @Test
    void aFileOfAnotherKindIsRefusedNotJudged() throws Exception {
        Path killed = killedWriter(10);
        for (String[] args : new String[][] {{"vlog-verify", FileNames.VALUE_LOG_STAGE}, {"vlog-dump", "000003.wal"},
            {"wal-verify", "CURRENT"}, {"sstdump", "MANIFEST-000001"}}) {
            ToolRun run = ToolRun.of(args[0], killed.resolve(args[1]).toString());
            assertEquals(2, run.code(), String.join(" ", args) + ": " + run.out() + run.err());
            assertTrue(run.err().contains(args[1] + " is not a ."), run.err());
        }
        assertEquals(0, ToolRun.of("vlog-verify", stage(killed).file().toString()).code(), "the value-log file itself");
        for (String[] args : new String[][] {{"vlog-verify", killed.resolve(FileNames.VALUE_LOG_STAGE).toString()},
            {"vlog-verify", killed.resolve("missing").toString()}, {"check", killed.resolve("missing").toString()},
            {"check", killed.resolve("CURRENT").toString()}}) {
            ToolRun json = ToolRun.of(args[0], "--json", args[1]);
            assertEquals(2, json.code(), json.out() + json.err());
            Map<String, Object> error = JsonReader.object(json.out().strip()); // --json: the error is JSON too
            assertEquals("unusable", error.get("severity"), json.out());
            assertTrue(String.valueOf(error.get("error")).startsWith(args[1] + " "), json.out());
        }
    }

    /**
     * A byte changed inside a staged entry: the stage fails its checks (as a power cut can leave
     * it, and as damage does), an open takes none of its entries and drops the writes pointing to
     * them as a torn tail; vlog-verify and check say so in a warning naming VLOG-STAGE, not only
     * "torn tail".
     */
    @Test
    void aStageThatFailsItsChecksIsNamedInAWarning() throws Exception {
        Path killed = killedWriter(100);
        Path stageFile = killed.resolve(FileNames.VALUE_LOG_STAGE);
        byte[] bytes = Files.readAllBytes(stageFile);
        int at = STAGE_HEADER_BYTES + entryLength(0) + entryLength(1) + 500; // inside the third entry's value
        try (FileChannel channel = FileChannel.open(stageFile, StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.wrap(new byte[] {(byte) ~bytes[at]}), at);
        }
        String warning = "warning: VLOG-STAGE holds ";
        ToolRun verify = ToolRun.of("vlog-verify", killed.toString());
        assertEquals(0, verify.code(), verify.out() + verify.err());
        assertTrue(verify.out().contains(warning) && verify.out().contains("that fail their checks"), verify.out());
        ToolRun check = ToolRun.of("check", killed.toString());
        assertEquals(0, check.code(), check.out() + check.err());
        assertTrue(check.out().contains(warning), check.out());
        long warningLines = check.out().lines().filter(line -> line.strip().startsWith("warning:")).count();
        assertTrue(check.out().contains("check: no problems found (" + warningLines + " warning(s))\n"),
                "the summary counts every warning line (" + warningLines + "): " + check.out());
        Map<?, ?> pointers = (Map<?, ?>) JsonReader.object(ToolRun.of("check", "--json", killed.toString()).out().strip())
                .get("valuePointers");
        assertEquals(Map.of(), pointers.get("problemCounts"), "the dropped writes are a warning, not a problem: " + pointers);
        assertEquals(1L, ((Number) ((Map<?, ?>) pointers.get("otherCounts")).get("torn tail")).longValue(), String.valueOf(pointers));
        Map<String, Object> wal = JsonReader.object(ToolRun.of("wal-verify", "--json", killed.toString()).out().strip());
        long recordsEnd = ((Number) ((Map<?, ?>) wal.get("zeroTail")).get("offset")).longValue();
        assertTrue(String.valueOf(pointers.get("warnings")).contains("from offset 0: 200 record(s), " + recordsEnd + " bytes,"),
                "the dropped bytes are the records', not the zeros preallocated after them (" + recordsEnd + "): " + pointers);
    }

    /**
     * A killed writer's one value-log file holds its first MiB of entries and the stage the rest:
     * vlog-verify says how many bytes are in the file and how many are staged, and vlog-dump marks
     * exactly the staged entries, in text and JSON. Once an open appended them and closed, and
     * with no stage file at all, nothing is marked staged.
     */
    @Test
    void verifyAndDumpSayWhichBytesAndEntriesAreOnlyInTheStage() throws Exception {
        Path killed = killedWriter(700);
        Path file = stage(killed).file();
        long fileEnd = Files.size(file);
        assertTrue(fileEnd > 0, "the file holds the entries of the first MiB");
        assertTrue(assertStagedBytesAndEntriesShown(killed, 700) > 0, "the rest is staged");
        try (TrainKV db = TrainKV.open(Options.at(killed))) {
            assertTrue(Files.size(file) > fileEnd, "the open appended the staged entries");
        }
        assertEquals(0, assertStagedBytesAndEntriesShown(killed, 700), "nothing staged after a close");
        Files.delete(killed.resolve(FileNames.VALUE_LOG_STAGE));
        assertEquals(0, assertStagedBytesAndEntriesShown(killed, 700), "no stage file");
    }

    /**
     * A kill inside the stage's write to the file leaves one entry partly in the file and partly
     * staged: vlog-dump marks it with the bytes that are staged, and the entries after it as staged.
     */
    @Test
    void anEntryTheFileHoldsPartOfIsMarkedWithItsStagedBytes() throws Exception {
        Path killed = killedWriter(100);
        Stage stage = stage(killed);
        int written = killInsideTheStagesWrite(killed, stage);
        assertEquals(stage.pending().bytes() - written, assertStagedBytesAndEntriesShown(killed, 100));
        assertTrue(ToolRun.of("vlog-dump", killed.toString()).out().contains(" bytes staged in VLOG-STAGE)\n"),
                "one entry is marked as partly staged");
    }

    /**
     * vlog-verify, vlog-dump (text and --json) and check on {@code dir}, whose value-log files
     * hold, as an open leaves them, the entries of {@code key(0)} to {@code key(values - 1)} in
     * order. The bytes in a file are its size on disk; its staged bytes are those the stage's
     * header (read from {@code VLOG-STAGE} here, docs/format.md) counts for it past its end. The
     * tools must report both per file, mark as staged exactly the entries with bytes past their
     * file's end (with the count of those bytes for an entry the file holds part of), and say
     * nothing of a stage when nothing is staged. Returns the staged bytes.
     */
    private static long assertStagedBytesAndEntriesShown(Path dir, int values) throws Exception {
        ByteBuffer header = null;
        Path stageFile = dir.resolve(FileNames.VALUE_LOG_STAGE);
        if (Files.exists(stageFile)) {
            header = ByteBuffer.wrap(Files.readAllBytes(stageFile), 0, STAGE_HEADER_BYTES);
        }
        List<Path> logs = valueLogs(dir);
        long[] offsets = new long[values]; // of each entry in its file
        long[] stagedOf = new long[values]; // bytes of each entry past its file's end
        Map<String, Object> verifyJson = new TreeMap<>();
        for (String line : ToolRun.of("vlog-verify", "--json", dir.toString()).out().strip().split("\n")) {
            Map<String, Object> file = JsonReader.object(line);
            verifyJson.put((String) file.get("file"), file);
        }
        ToolRun verify = ToolRun.of("vlog-verify", dir.toString());
        ToolRun check = ToolRun.of("check", dir.toString());
        assertEquals(0, verify.code(), verify.out() + verify.err());
        assertEquals(0, check.code(), check.out() + check.err());
        long allStaged = 0;
        int entry = 0;
        for (Path log : logs) {
            String name = log.getFileName().toString();
            long fileEnd = Files.size(log);
            long end = fileEnd;
            if (header != null && header.getLong(16) == FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG)) {
                long base = header.getLong(24);
                int stagedBytes = header.getInt(32); // the high half of the progress word
                if (base <= fileEnd && fileEnd < base + stagedBytes) {
                    end = base + stagedBytes;
                }
            }
            long staged = end - fileEnd;
            allStaged += staged;
            int first = entry;
            for (long offset = 0; offset < end; offset += entryLength(entry++)) {
                offsets[entry] = offset;
                stagedOf[entry] = Math.max(0, Math.min(entryLength(entry), offset + entryLength(entry) - fileEnd));
            }
            String summary = name + ": " + (entry - first) + " entries, " + end + " bytes" + (staged == 0 ? ""
                    : " (" + fileEnd + " in the file + " + staged + " staged in VLOG-STAGE, appended by the next open "
                    + "that writes)") + ", discarded ";
            assertTrue(verify.out().contains(summary), "expected " + summary + " in:\n" + verify.out());
            assertTrue(check.out().contains(summary), "expected " + summary + " in:\n" + check.out());
            @SuppressWarnings("unchecked")
            Map<String, Object> json = (Map<String, Object>) verifyJson.get(name);
            assertEquals(end, ((Number) json.get("bytes")).longValue(), json.toString());
            assertEquals(fileEnd, ((Number) json.get("fileBytes")).longValue(), json.toString());
            assertEquals(staged == 0 ? null : Map.of("offset", fileEnd, "bytes", staged), longs(json.get("staged")),
                    json.toString());
        }
        assertEquals(values, entry, "the files and the stage hold every entry");
        assertEquals(allStaged > 0, verify.out().contains("staged"), verify.out());

        ToolRun dump = ToolRun.of("vlog-dump", dir.toString());
        assertEquals(0, dump.code(), dump.out() + dump.err());
        assertEquals(allStaged > 0, dump.out().contains("staged"), dump.out());
        List<String> lines = dump.out().lines().filter(line -> line.startsWith("  \"")).toList();
        assertEquals(values, lines.size(), dump.out());
        List<Object> entries = new ArrayList<>();
        for (String line : ToolRun.of("vlog-dump", "--json", dir.toString()).out().strip().split("\n")) {
            entries.addAll((List<?>) JsonReader.object(line).get("entries"));
        }
        assertEquals(values, entries.size());
        for (int i = 0; i < values; i++) {
            String mark = stagedOf[i] == 0 ? "" : stagedOf[i] == entryLength(i) ? " (staged in VLOG-STAGE)"
                    : " (its last " + stagedOf[i] + " bytes staged in VLOG-STAGE)";
            String line = lines.get(i);
            assertTrue(line.startsWith("  \"big-" + i + "\" @") && line.endsWith(" offset " + offsets[i] + ", "
                    + entryLength(i) + " bytes" + mark), "entry " + i + ": " + line);
            Map<?, ?> json = (Map<?, ?>) entries.get(i);
            assertEquals("big-" + i, json.get("key"), json.toString());
            assertEquals(offsets[i], ((Number) json.get("offset")).longValue(), json.toString());
            assertEquals(stagedOf[i] > 0, json.get("staged"), "entry " + i + ": " + json);
        }
        return allStaged;
    }

    /** The newest value-log file of {@code dir}, its size in bytes, and the stage's pending entries. */
    private record Stage(Path file, long fileEnd, ValueLogStage.Pending pending) {
    }

    /**
     * Makes {@code killed}'s value-log file hold the first half of the staged entries plus 7 bytes
     * (inside an entry: 100 entries of 2,025 to 2,026 bytes), as a kill inside the stage's write to
     * the file leaves it; returns the bytes it appended.
     */
    private static int killInsideTheStagesWrite(Path killed, Stage stage) throws IOException {
        int written = stage.pending().bytes() / 2 + 7;
        byte[] stageFile = Files.readAllBytes(killed.resolve(FileNames.VALUE_LOG_STAGE));
        Files.write(stage.file(), Arrays.copyOfRange(stageFile, STAGE_HEADER_BYTES, STAGE_HEADER_BYTES + written),
                StandardOpenOption.APPEND);
        return written;
    }

    /**
     * Writes {@code values} big values (value-log entries) and as many small ones (WAL only),
     * none synced, and returns a copy of the directory's files taken while the database is open:
     * what a kill leaves. Asserts that every entry is in a value-log file or staged.
     */
    private Path killedWriter(int values) throws Exception {
        Path live = work.resolve("live");
        Path killed = work.resolve("killed");
        try (TrainKV db = TrainKV.open(Options.at(live))) {
            for (int i = 0; i < values; i++) {
                db.set(key(i), value(i));
                db.set("small-" + i, "inline " + i); // below the value threshold: in the WAL only
            }
            copyFiles(live, killed); // the files as a kill now leaves them
        }
        long entryBytes = 0;
        for (int i = 0; i < values; i++) {
            entryBytes += entryLength(i);
        }
        Stage stage = stage(killed);
        assertEquals(entryBytes, allValueLogBytes(killed) + stage.pending().bytes(), "every entry is in a file or staged");
        return killed;
    }

    /** The stage of {@code dir}, asserting that it holds entries of the newest value-log file from its end on. */
    private static Stage stage(Path dir) throws Exception {
        Path newest = newestValueLog(dir);
        ValueLogStage.Pending pending;
        try (ValueLogStage stage = ValueLogStage.open(NioStorage.open(dir), false)) {
            assertNotNull(stage, "the killed writer left entries staged");
            pending = stage.pending();
        }
        assertEquals(FileNames.parseNumber(newest.getFileName().toString(), FileNames.Kind.VALUE_LOG), pending.fileId(),
                "the staged entries belong to the newest value-log file");
        assertEquals(Files.size(newest), pending.base(), "the staged entries start where the file ends");
        assertTrue(pending.bytes() > 0, "WAL batches point past the file's end");
        return new Stage(newest, Files.size(newest), pending);
    }

    /**
     * Opens {@code dir} for writing, reads every value back, closes it, and runs the tools again;
     * the open must have appended {@code appended} bytes from the stage, and left nothing staged.
     */
    private static void reopenAndCheckAgain(Path dir, int values, Stage stage, long appended) throws Exception {
        long before = Files.size(stage.file());
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals(before + appended, Files.size(stage.file()), "the open appended the bytes the file lacked");
            for (int i = 0; i < values; i++) {
                assertArrayEquals(value(i), db.get(key(i)), "key " + i + " after the open applied the stage");
                assertEquals("inline " + i, db.get("small-" + i), "small key " + i);
            }
        }
        try (ValueLogStage left = ValueLogStage.open(NioStorage.open(dir), false)) {
            assertNull(left, "a closed database leaves nothing staged");
        }
        assertToolsFindEverything(dir, values, 0, "the directory after a read-write open and close");
        try (TrainKV db = TrainKV.open(Options.at(dir).readOnly(true))) {
            for (int i = 0; i < values; i++) {
                assertArrayEquals(value(i), db.get(key(i)), "key " + i + " after the close");
            }
        }
    }

    /**
     * check, check --json, vlog-verify and vlog-verify --json on {@code dir}: exit 0, severity ok,
     * no warning (no torn tail, no dropped WAL tail), every one of the {@code values} pointers
     * checked and none broken, and vlog-verify counts the {@code values} entries, reading the
     * last {@code staged} bytes of the newest value-log file from the stage.
     */
    private static void assertToolsFindEverything(Path dir, int values, long staged, String what) throws Exception {
        ToolRun check = ToolRun.of("check", dir.toString());
        String shown = what + ":\n" + check.out() + check.err();
        assertEquals(0, check.code(), shown);
        assertTrue(check.out().contains("\n" + values + " value pointers in live tables and the WAL batches an open replays, 0 broken\n"), shown);
        assertTrue(check.out().endsWith("check: no problems found\n"), shown);
        assertFalse(check.out().contains("warning") || check.out().contains("torn") || check.out().contains("drop"), shown);

        Map<String, Object> json = JsonReader.object(ToolRun.of("check", "--json", dir.toString()).out().strip());
        shown = what + ": " + json;
        assertEquals("ok", json.get("severity"), shown);
        assertEquals(0L, ((Number) json.get("exitCode")).longValue(), shown);
        @SuppressWarnings("unchecked")
        Map<String, Object> pointers = (Map<String, Object>) json.get("valuePointers");
        assertEquals(values, ((Number) pointers.get("checked")).longValue(), shown);
        assertEquals(0L, ((Number) pointers.get("broken")).longValue(), shown);
        assertEquals(List.of(), pointers.get("warnings"), shown);
        assertEquals(List.of(), pointers.get("problems"), shown);
        for (Object step : (List<?>) json.get("steps")) {
            assertEquals("ok", ((Map<?, ?>) step).get("severity"), shown);
        }

        ToolRun verify = ToolRun.of("vlog-verify", dir.toString());
        shown = what + ":\n" + verify.out() + verify.err();
        assertEquals(0, verify.code(), shown);
        assertEquals("", verify.err(), shown);
        assertFalse(verify.out().contains("warning") || verify.out().contains("torn") || verify.out().contains("damaged:"),
                shown);
        Path newest = newestValueLog(dir);
        long fileEnd = Files.size(newest);
        assertEquals(staged > 0, verify.out().contains("\n  note: the " + staged + " bytes from offset " + fileEnd
                + " are entries VLOG-STAGE holds for this file"), shown);
        Map<String, Object> newestJson = null;
        long entries = 0;
        for (String line : ToolRun.of("vlog-verify", "--json", dir.toString()).out().strip().split("\n")) {
            Map<String, Object> file = JsonReader.object(line);
            assertEquals("ok", file.get("severity"), what + ": " + line);
            assertNull(file.get("tornTailOffset"), what + ": " + line);
            entries += ((Number) file.get("entryCount")).longValue();
            if (newest.getFileName().toString().equals(file.get("file"))) {
                newestJson = file;
            }
        }
        assertNotNull(newestJson, what + ": vlog-verify --json names " + newest);
        assertEquals(values, entries, what + ": every entry is counted, staged or not");
        assertEquals(fileEnd + staged, ((Number) newestJson.get("bytes")).longValue(), what + ": " + newestJson);
        assertEquals(staged == 0 ? null : Map.of("offset", fileEnd, "bytes", staged), longs(newestJson.get("staged")),
                what + ": " + newestJson);
    }

    /** A JSON object's numbers as longs (the reader gives ints for small ones), or null. */
    private static Map<String, Long> longs(Object object) {
        if (object == null) {
            return null;
        }
        Map<String, Long> longs = new TreeMap<>();
        ((Map<?, ?>) object).forEach((k, v) -> longs.put((String) k, ((Number) v).longValue()));
        return longs;
    }

    private static byte[] key(int i) {
        return ("big-" + i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        byte[] value = new byte[VALUE_BYTES];
        Arrays.fill(value, (byte) i);
        value[0] = (byte) (i >>> 8);
        return value;
    }

    /** Bytes of the value-log entry of {@code key(i)}: checksum, version and lengths (20), key and value. */
    private static int entryLength(int i) {
        return 20 + key(i).length + VALUE_BYTES;
    }

    private static void copyFiles(Path from, Path to) throws Exception {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path file : files.toList()) {
                Files.copy(file, to.resolve(file.getFileName()));
            }
        }
    }

    private static List<Path> valueLogs(Path dir) {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".vlog")).sorted().toList();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static Path newestValueLog(Path dir) {
        List<Path> logs = valueLogs(dir);
        assertFalse(logs.isEmpty(), "value-log files in " + dir);
        return logs.get(logs.size() - 1);
    }

    private static long allValueLogBytes(Path dir) throws Exception {
        long bytes = 0;
        for (Path log : valueLogs(dir)) {
            bytes += Files.size(log);
        }
        return bytes;
    }
}
