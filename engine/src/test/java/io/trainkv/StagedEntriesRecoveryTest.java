package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an open makes of the value-log stage ({@code VLOG-STAGE}) a killed writer left, intact and
 * damaged. Each staged entry is taken when the WAL batch pointing at it finds it whole, with the
 * batch's version and key, so damage to the stage's header or to its progress word loses
 * nothing, and an entry changed inside fails the open naming the stage (as damage inside a
 * value-log entry does) instead of dropping acknowledged writes as a torn tail. The killed state
 * is made deterministically: the files of a database still open, nothing synced, are copied,
 * which is what the page cache holds when its process dies.
 */
class StagedEntriesRecoveryTest {

    private static final int VALUES = 200;
    private static final int VALUE_BYTES = 2000;
    /** Bytes before the staged entries, and the progress word's offset (docs/format.md). */
    private static final int STAGE_HEADER_BYTES = 4096;
    private static final int PROGRESS_AT = 32;

    @TempDir
    Path tempDir;

    @Test
    void everyStagedWriteIsReadBackReadOnlyAndAfterTheOpenAppendsIt() throws Exception {
        Path killed = killedWriter();
        try (TrainKV db = TrainKV.open(Options.at(killed).readOnly(true))) {
            assertEveryValue(db, "read-only");
        }
        Path newest = newestValueLog(killed);
        try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(killed))) {
            assertEveryValue(db, "read-write");
            assertEquals(List.of(), logs.messages(Level.WARNING));
        }
        assertEquals((long) VALUES * entryLength(), Files.size(newest), "the open appended every staged entry");
    }

    @Test
    void aDamagedProgressWordOrHashChainLosesNothing() throws Exception {
        Path killed = killedWriter();
        flip(killed.resolve(FileNames.VALUE_LOG_STAGE), PROGRESS_AT + 2); // the staged count
        flip(killed.resolve(FileNames.VALUE_LOG_STAGE), PROGRESS_AT + 6); // the chain
        try (TrainKV db = TrainKV.open(Options.at(killed).readOnly(true))) {
            assertEveryValue(db, "read-only");
        }
        try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(killed))) {
            assertEveryValue(db, "read-write");
            assertEquals(List.of(), logs.messages(Level.WARNING));
        }
    }

    @Test
    void aStagedEntryChangedInsideFailsTheOpenNamingTheStageAndChangesNothing() throws Exception {
        Path killed = killedWriter();
        Path stage = killed.resolve(FileNames.VALUE_LOG_STAGE);
        flip(stage, STAGE_HEADER_BYTES + 50 * entryLength() + 1000); // inside the 51st staged entry's value
        Map<String, byte[]> files = snapshot(killed);
        for (boolean readOnly : new boolean[] {true, false}) {
            CorruptionException refused = assertThrows(CorruptionException.class,
                    () -> TrainKV.open(Options.at(killed).readOnly(readOnly)).close());
            assertEquals(FileNames.VALUE_LOG_STAGE, refused.fileName(), refused.getMessage());
            assertTrue(refused.getMessage().contains("checksum"), refused.getMessage());
            Map<String, byte[]> after = snapshot(killed);
            assertEquals(files.keySet(), after.keySet(), "read-only " + readOnly);
            for (String name : files.keySet()) {
                assertArrayEquals(files.get(name), after.get(name), name + ", read-only " + readOnly);
            }
        }
    }

    /**
     * Writes {@link #VALUES} values of {@link #VALUE_BYTES} (value-log entries, all staged: they
     * fill less than the stage), none synced, and returns a copy of the database's files taken
     * while it is open: what a kill leaves.
     */
    private Path killedWriter() throws Exception {
        Path live = tempDir.resolve("live");
        Path killed = tempDir.resolve("killed");
        try (TrainKV db = TrainKV.open(Options.at(live))) {
            for (int i = 0; i < VALUES; i++) {
                db.set(key(i), value(i));
            }
            Files.createDirectories(killed);
            try (Stream<Path> files = Files.list(live)) {
                for (Path file : files.toList()) {
                    Files.copy(file, killed.resolve(file.getFileName()));
                }
            }
        }
        assertEquals(0, Files.size(newestValueLog(killed)), "every entry is staged");
        return killed;
    }

    private static void assertEveryValue(TrainKV db, String what) {
        for (int i = 0; i < VALUES; i++) {
            assertArrayEquals(value(i), db.get(key(i)), what + ", value " + i);
        }
    }

    private static Path newestValueLog(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> FileNames.parseNumber(f.getFileName().toString(), FileNames.Kind.VALUE_LOG) >= 0)
                    .max(Path::compareTo).orElseThrow();
        }
    }

    private static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : list.toList()) {
                files.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }

    private static void flip(Path file, long at) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, at);
            one.put(0, (byte) ~one.get(0));
            channel.write(one.rewind(), at);
        }
    }

    /** A value-log entry's length: header, 16-byte key, value. */
    private static int entryLength() {
        return 20 + 16 + VALUE_BYTES;
    }

    private static byte[] key(int i) {
        return String.format("key-%012d", i).getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] value(int i) {
        byte[] value = new byte[VALUE_BYTES];
        new Random(i).nextBytes(value);
        return value;
    }
}
