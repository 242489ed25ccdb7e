package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.vlog.ValueLog;
import io.trainkv.vlog.ValueLogStage;
import io.trainkv.wal.WalReader;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The active WAL and value-log file are appended to through a mapping and preallocated with zeros
 * ahead of the appends ({@code Storage.createLog}): what a killed process leaves, what an open and
 * GC make of it, and that the zeros never reach a sealed WAL, a checkpoint or the byte counters.
 */
class MappedWalCrashTest {

    @TempDir
    Path tempDir;

    /** What a WAL file holds: its size on disk, where its valid records end, and whether zeros follow them. */
    private record LogScan(long size, long validEnd, boolean zeroTail) {
    }

    /**
     * Reads WAL {@code file} to its end; {@code newest} tolerates a torn tail, otherwise any bad
     * record (zeros included) throws.
     */
    private static LogScan scan(Path file, boolean newest) throws IOException {
        try (ReadableFile read = NioStorage.open(file.getParent()).openRead(file.getFileName().toString())) {
            WalReader reader = new WalReader(read, file.getFileName().toString(), newest);
            while (reader.next() != null) {
                // every record is checked by next()
            }
            return new LogScan(read.size(), reader.validEnd(), reader.tornTailIsZeros());
        }
    }

    private static List<Path> wals(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.getFileName().toString().endsWith(".wal")).sorted().toList();
        }
    }

    @Test
    void aKilledUnsyncedWriterLosesNoAcknowledgedWriteAndItsZeroTailIsNoLossEvenAfterASecondKill() throws Exception {
        Path dir = tempDir.resolve("db");
        long[] acked = {1500, 3}; // the second child is killed right after its open recovered the first's WAL
        for (int round = 0; round < acked.length; round++) {
            Process child = ChildJvm.start(CrashWriterMain.class, dir.toString(), "r" + round, "nosync",
                    Long.toString(acked[round]));
            long last = -1;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while (last < acked[round] && (line = out.readLine()) != null) {
                    last = Long.parseLong(line.substring("acked ".length()));
                }
                child.destroyForcibly();
                assertTrue(child.waitFor(1, TimeUnit.MINUTES), "child did not die");
            }
            assertEquals(acked[round], last, "child stopped early; exit " + child.exitValue());

            List<Path> wals = wals(dir);
            LogScan newest = scan(wals.get(wals.size() - 1), true);
            assertTrue(newest.zeroTail() && newest.size() > newest.validEnd(),
                    "the killed writer's WAL ends in preallocated zeros: " + newest);
            for (Path older : wals.subList(0, wals.size() - 1)) {
                LogScan sealed = scan(older, false);
                assertEquals(sealed.size(), sealed.validEnd(), older + " is exactly its records");
            }

            try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(dir))) {
                for (int r = 0; r <= round; r++) {
                    String p = "r" + r;
                    for (long i = 0; i <= acked[r]; i++) {
                        assertEquals(CrashRecoveryTest.value(p, i), db.get(p + "-" + i), "round " + r + " key " + i);
                        if (i % 7 == 3) {
                            assertEquals(CrashRecoveryTest.value(p, i), db.get(p + "-pair-" + i), "round " + r + " pair " + i);
                        }
                    }
                }
                assertEquals(List.of(), logs.messages(Level.WARNING), "zeros are no torn tail: nothing is dropped");
                assertTrue(logs.messages(Level.INFO).stream().anyMatch(m -> m.contains("bytes of zeros after its last record")
                        && m.contains("no record is lost")), logs::toString);
            }
            for (Path wal : wals(dir)) { // recovery cut the zeros, and close cut the new WAL's
                LogScan closed = scan(wal, false);
                assertEquals(closed.size(), closed.validEnd(), wal + " is exactly its records after the open");
            }
        }
    }

    @Test
    void entriesStagedAtAKillAreAppendedToTheirValueLogByTheNextOpenAndGcCollectsItWithoutAWarning() throws Exception {
        Path dir = tempDir.resolve("db");
        long acked = 800;
        Process child = ChildJvm.start(CrashWriterMain.class, dir.toString(), "v", "nosync", Long.toString(acked), "0");
        long last = -1;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while (last < acked && (line = out.readLine()) != null) {
                last = Long.parseLong(line.substring("acked ".length()));
            }
            child.destroyForcibly();
            assertTrue(child.waitFor(1, TimeUnit.MINUTES), "child did not die");
        }
        assertEquals(acked, last, "child stopped early; exit " + child.exitValue());
        List<String> valueLogs = ValueLogTest.valueLogs(dir);
        String killed = valueLogs.get(valueLogs.size() - 1);
        long killedId = FileNames.parseNumber(killed, FileNames.Kind.VALUE_LOG);
        long fileEnd;
        try (ReadSource source = ReadSource.open(NioStorage.open(dir).openRead(killed), false)) {
            assertEquals(null, ValueLog.scanFile(source, killed, killedId, entry -> true),
                    "the killed writer's value log holds whole entries only: the stage writes a MiB of them at a time");
            fileEnd = source.size();
        }
        ValueLogStage.Pending pending;
        try (ValueLogStage stage = ValueLogStage.open(NioStorage.open(dir), false)) {
            assertTrue(stage != null, "the stage holds the entries the file lacks");
            pending = stage.pending();
        }
        assertEquals(killedId, pending.fileId());
        assertEquals(fileEnd, pending.base(), "the staged entries start where the file ends");
        Path checkpoint = tempDir.resolve("checkpoint");
        try (TrainKV readOnly = TrainKV.open(Options.at(dir).readOnly(true))) { // reads them from the stage
            for (long i = 0; i <= acked; i++) {
                assertEquals(CrashRecoveryTest.value("v", i), readOnly.get("v-" + i), "read-only, key " + i);
            }
            readOnly.checkpoint(checkpoint); // its copy of the killed file gets the staged entries appended
            readOnly.close();
            assertThrows(IllegalStateException.class, () -> readOnly.valueLog().stagedPastEnd(killedId, fileEnd),
                    "a checkpoint that outlives the close finds it closed, not its stage unmapped");
        }
        assertEquals(fileEnd, Files.size(dir.resolve(killed)), "a read-only open and its checkpoint append nothing");
        Path backups = tempDir.resolve("backups");
        Path restored = tempDir.resolve("restored");
        try (BackupEngine engine = BackupEngine.open(backups)) { // a closed directory: opened read-only, checkpointed
            engine.restore(engine.create(dir, null).id(), restored, null);
        }
        for (Path copy : List.of(checkpoint, restored)) {
            try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(copy))) {
                for (long i = 0; i <= acked; i++) {
                    assertEquals(CrashRecoveryTest.value("v", i), db.get("v-" + i), copy.getFileName() + ", key " + i);
                }
                assertEquals(List.of(), logs.messages(Level.WARNING), copy.getFileName() + ": nothing torn or dropped");
            }
        }
        try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals(fileEnd + pending.bytes(), Files.size(dir.resolve(killed)), "the open appended the staged entries");
            for (long i = 0; i <= acked; i++) {
                assertEquals(CrashRecoveryTest.value("v", i), db.get("v-" + i), "key " + i);
            }
            assertTrue(logs.messages(Level.INFO).stream().anyMatch(m -> m.equals("appended " + pending.bytes()
                    + " bytes of value-log entries from VLOG-STAGE to the value log they belong to")), logs::toString);
            ValueLogGcReport report = db.collectValueLogFiles(Set.of(killedId));
            assertEquals(1, report.collectedFiles(), report.format());
            assertEquals(List.of(), logs.messages(Level.WARNING), "nothing is torn or dropped");
            for (long i = 0; i <= acked; i++) {
                assertEquals(CrashRecoveryTest.value("v", i), db.get("v-" + i), "key " + i + " after GC");
            }
        }
        try (ValueLogStage stage = ValueLogStage.open(NioStorage.open(dir), false)) {
            assertEquals(null, stage, "a closed database leaves nothing staged");
        }
        for (String name : ValueLogTest.valueLogs(dir)) { // closed files are exactly their entries
            try (ReadSource source = ReadSource.open(NioStorage.open(dir).openRead(name), false)) {
                assertEquals(null, ValueLog.scanFile(source, name, FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG),
                        entry -> true), name);
            }
        }
    }

    /**
     * A value-log file that an earlier version's mapped appender left ending in preallocated
     * zeros (the value log appended through a mapping before it had a stage) is no torn tail: GC
     * collects it and says so at INFO.
     */
    @Test
    void aValueLogEndingInZerosFromAMappedAppenderIsCollectedWithoutAWarning() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(0))) {
            for (int i = 0; i < 100; i++) {
                db.set("k-" + i, "value " + i);
            }
        }
        List<String> valueLogs = ValueLogTest.valueLogs(dir);
        String zeroTailed = valueLogs.get(valueLogs.size() - 1);
        long entriesEnd = Files.size(dir.resolve(zeroTailed));
        try (FileChannel channel = FileChannel.open(dir.resolve(zeroTailed), StandardOpenOption.WRITE)) {
            channel.write(ByteBuffer.allocate(1 << 20), entriesEnd);
        }
        long id = FileNames.parseNumber(zeroTailed, FileNames.Kind.VALUE_LOG);
        try (CapturedLogs logs = new CapturedLogs(); TrainKV db = TrainKV.open(Options.at(dir))) {
            ValueLogGcReport report = db.collectValueLogFiles(Set.of(id));
            assertEquals(1, report.collectedFiles(), report.format());
            assertEquals(List.of(), logs.messages(Level.WARNING), "zeros are no torn tail");
            assertTrue(logs.messages(Level.INFO).stream().anyMatch(m -> m.contains("value log " + zeroTailed
                    + " ends in zeros after its last entry at offset " + entriesEnd)), logs::toString);
            for (int i = 0; i < 100; i++) {
                assertEquals("value " + i, db.get("k-" + i), "key " + i + " after GC");
            }
        }
    }

    @Test
    void aSealedWalIsCutToItsRecordsBeforeTheNextWalIsCreated() throws Exception {
        Path dir = tempDir.resolve("db");
        List<String> problems = new ArrayList<>();
        int[] sealedChecked = {0};
        Storage storage = new FaultInjectingStorage(NioStorage.open(dir), (op, name) -> {
            if (op != FaultInjectingStorage.Op.CREATE || !name.endsWith(".wal")) {
                return;
            }
            List<Path> wals = wals(dir);
            for (Path wal : wals) {
                try {
                    LogScan sealed = scan(wal, false);
                    if (sealed.size() != sealed.validEnd()) {
                        problems.add(wal.getFileName() + " holds " + sealed.size() + " bytes for " + sealed.validEnd());
                    }
                    sealedChecked[0]++;
                } catch (NoSuchFileException flushedMeanwhile) {
                    continue;
                } catch (IOException e) {
                    problems.add(wal.getFileName() + ": " + e.getMessage());
                }
            }
        });
        try (TrainKV db = TrainKV.open(Options.at(dir).storage(storage).memtableSize(64 * 1024))) {
            for (int i = 0; i < 3000; i++) {
                db.set("key-" + i, "value-" + i + "x".repeat(i % 100));
            }
        }
        assertEquals(List.of(), problems);
        assertTrue(sealedChecked[0] >= 3, "rotations seen: " + sealedChecked[0]);
    }

    @Test
    void theWalByteCounterCountsRecordsNotThePreallocatedZeros() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (int i = 0; i < 1000; i++) {
                db.set("key-" + i, "value-" + i);
            }
            List<Path> wals = wals(dir);
            assertEquals(1, wals.size());
            LogScan active = scan(wals.get(0), true);
            assertTrue(active.size() > active.validEnd(), "the active WAL is preallocated: " + active);
            assertEquals(active.validEnd(), db.stats().walBytes());
        }
    }

    @Test
    void aCheckpointCopiesTheMappedActiveWalUpToItsRecordsOnly() throws Exception {
        Path dir = tempDir.resolve("db");
        Path target = tempDir.resolve("checkpoint");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            for (int i = 0; i < 1000; i++) {
                db.set("key-" + i, "value-" + i);
            }
            db.checkpoint(target);
            db.set("later", "not in the checkpoint");
            LogScan active = scan(wals(dir).get(0), true);
            assertTrue(active.size() > active.validEnd(), "the active WAL is preallocated: " + active);
        }
        List<Path> copied = wals(target);
        assertEquals(1, copied.size());
        LogScan copy = scan(copied.get(0), false);
        assertEquals(copy.size(), copy.validEnd(), "the copy is exactly the records");
        try (CapturedLogs logs = new CapturedLogs(); TrainKV cp = TrainKV.open(Options.at(target))) {
            for (int i = 0; i < 1000; i++) {
                assertEquals("value-" + i, cp.get("key-" + i));
            }
            assertEquals(null, cp.get("later"));
            assertTrue(logs.messages(Level.INFO).stream().noneMatch(m -> m.contains("zeros")), logs::toString);
        }
    }
}
