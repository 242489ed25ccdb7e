package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.Storage;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an open makes of the value-log stage ({@code VLOG-STAGE}) a killed writer left: intact,
 * every staged write is read back and appended to its value-log file; failing its checks (a power
 * cut can leave a stage so, and so can damage), it is taken as a whole or not at all, so the
 * writes pointing into it are dropped as a torn tail, and the open says why in a WARNING naming
 * the stage. The killed state is made deterministically: the files of a database still open,
 * nothing synced, are copied, which is what the page cache holds when its process dies.
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
    void everyStagedWriteIsReadBackReadOnlyAndAppendedByAnOpenThatWrites() throws Exception {
        Path killed = killedWriter("intact");
        Path newest = killedValueLog(killed);
        try (CapturedLogs logs = new CapturedLogs()) {
            try (TrainKV db = TrainKV.open(Options.at(killed).readOnly(true))) {
                assertEveryValue(db, "read-only");
            }
            try (TrainKV db = TrainKV.open(Options.at(killed))) {
                assertEveryValue(db, "read-write");
            }
            assertEquals(List.of(), logs.messages(Level.WARNING));
        }
        assertEquals((long) VALUES * (20 + 16 + VALUE_BYTES), Files.size(newest), "the open appended every staged entry");
    }

    @Test
    void aStageThatFailsItsChecksIsNamedInAWarningAndItsWritesAreDroppedAsATornTail() throws Exception {
        for (long at : new long[] {STAGE_HEADER_BYTES + 50L * (20 + 16 + VALUE_BYTES) + 1000, PROGRESS_AT + 6}) {
            Path killed = killedWriter("flipped-" + at);
            flip(killed.resolve(FileNames.VALUE_LOG_STAGE), at); // inside the 51st entry; in the hash chain
            String expected = "VLOG-STAGE holds " + VALUES * (20 + 16 + VALUE_BYTES) + " bytes of entries for "
                    + killedValueLog(killed).getFileName() + " from offset 0 that fail their checks";
            try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(killed))) {
                List<String> warnings = logs.messages(Level.WARNING);
                assertTrue(warnings.stream().anyMatch(m -> m.startsWith(expected)), "flipped at " + at + ": " + warnings);
                assertNull(db.get(key(0)), "taken as a whole or not at all");
            }
        }
    }

    /**
     * Opened through a storage that cannot map files (a wrapper whose {@link Storage#mapFixedSize}
     * returns null), a directory a mapping session was killed in still has its
     * staged writes applied: the stage is read into memory, checked and appended from there.
     */
    @Test
    void aStorageThatCannotMapStillAppliesTheStageAKilledSessionLeft() throws Exception {
        Path killed = killedWriter("unmapped");
        Path newest = killedValueLog(killed);
        Storage unmapped = new FaultInjectingStorage(NioStorage.open(killed)).withoutMappings();
        try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(killed).storage(unmapped))) {
            assertEveryValue(db, "through a storage that cannot map");
            assertEquals(List.of(), logs.messages(Level.WARNING));
        }
        assertEquals((long) VALUES * (20 + 16 + VALUE_BYTES), Files.size(newest), "the open appended every staged entry");
        try (TrainKV db = TrainKV.open(Options.at(killed))) {
            assertEveryValue(db, "reopened");
        }
    }

    /**
     * Writes {@link #VALUES} values of {@link #VALUE_BYTES} (value-log entries, all staged: they
     * fill less than the stage), none synced, and returns a copy of the database's files taken
     * while it is open: what a kill leaves.
     */
    private Path killedWriter(String name) throws Exception {
        Path live = tempDir.resolve(name + "-live");
        Path killed = tempDir.resolve(name);
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
        assertEquals(0, Files.size(killedValueLog(killed)), "every entry is staged");
        return killed;
    }

    private static void assertEveryValue(TrainKV db, String what) {
        for (int i = 0; i < VALUES; i++) {
            assertArrayEquals(value(i), db.get(key(i)), what + ", value " + i);
        }
    }

    /** The killed session's value-log file (its only one; a reopen adds a newer one). */
    private static Path killedValueLog(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> FileNames.parseNumber(f.getFileName().toString(), FileNames.Kind.VALUE_LOG) >= 0)
                    .min(Path::compareTo).orElseThrow();
        }
    }

    private static void flip(Path file, long at) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, at);
            one.put(0, (byte) ~one.get(0));
            channel.write(one.rewind(), at);
        }
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
