package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.CapturedLogs;
import io.trainkv.FaultInjectingStorage;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.Storage;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two crashes in a row: a process is killed with unsynced writes (the operating system keeps
 * them, in the page cache only), the database is reopened, and the power fails during or after
 * that recovery. Recovery reads the killed session's WAL and value log back; what it guarantees
 * is that every replayed WAL and value-log file is fsynced before recovery creates, appends to,
 * renames or deletes any file. So from that point on a power cut loses none of the replayed
 * writes, and before it the directory is as the killed process left it: every power cut leaves a
 * directory that opens and holds a prefix of the writes.
 */
class DoubleCrashRecoveryTest {

    private static final int SEEDS = 40;

    /** Operations that change what the directory holds (as opposed to making it durable). */
    private static final Set<FaultInjectingStorage.Op> CHANGES = EnumSet.of(FaultInjectingStorage.Op.CREATE,
            FaultInjectingStorage.Op.APPEND, FaultInjectingStorage.Op.RENAME, FaultInjectingStorage.Op.DELETE);

    private CapturedLogs logs;

    @BeforeEach
    void captureLogs() {
        logs = new CapturedLogs();
    }

    @AfterEach
    void restoreLogs() {
        logs.close();
    }

    private static Options options(Storage storage) {
        return CrashTest.small(Options.inTempDirectory().storage(storage));
    }

    /**
     * The first recipe: an unsynced 4,000-byte value (it goes to the value log), the
     * process killed, the database reopened and its replayed memtable flushed into a table that
     * points at the value, then a power cut. The value was read back from the page cache; recovery
     * must have made it durable before the table and the manifest came to depend on it.
     */
    @Test
    void aValueLogValueReplayedAndFlushedByRecoverySurvivesAPowerCut() {
        for (int seed = 0; seed < SEEDS; seed++) {
            Random random = new Random(seed);
            byte[] value = new byte[4000];
            random.nextBytes(value);
            SimulatedDisk disk = new SimulatedDisk();
            try (TrainKV db = TrainKV.open(options(disk))) {
                db.set("synced", "before");
                db.sync();
                db.set("big".getBytes(), value);
                disk = disk.processKill();
            }
            SimulatedDisk cut;
            TrainKV recovered = TrainKV.open(options(disk));
            try {
                recovered.flush();
                cut = disk.crash(random);
            } finally {
                recovered.close();
            }
            try (TrainKV db = TrainKV.open(options(cut))) {
                assertArrayEquals(value, db.get("big".getBytes()), "seed " + seed);
                assertEquals("before", db.get("synced"), "seed " + seed);
            }
        }
    }

    private static String key(int i) {
        return String.format("key-%02d", i);
    }

    private static String value(int seed, int i) {
        return "value " + i + " of seed " + seed;
    }

    /**
     * The second recipe: 50 small unsynced writes, the process killed, the database
     * reopened and its replayed memtable flushed, and a power cut at a random point of that
     * recovery and flush (and at a random point after recovery's first change to the directory).
     * It used to leave a WAL that was no longer the newest with a torn tail, which no open accepted.
     */
    @Test
    void writesReplayedByRecoveryAreDurableBeforeRecoveryChangesTheDirectory() {
        for (int seed = 0; seed < SEEDS; seed++) {
            Random random = new Random(seed);
            SimulatedDisk disk = new SimulatedDisk();
            try (TrainKV db = TrainKV.open(options(disk))) {
                for (int i = 0; i < 50; i++) {
                    db.set(key(i), value(seed, i));
                }
                disk = disk.processKill();
            }
            PowerCutRecorder recorder = new PowerCutRecorder(disk, random);
            try (TrainKV db = TrainKV.open(options(recorder.storage()))) {
                db.flush();
            }
            List<PowerCutRecorder.PowerCut> cuts = recorder.cuts();
            int firstChange = 0;
            while (!CHANGES.contains(cuts.get(firstChange).op())) {
                firstChange++;
            }
            assertTrue(cuts.subList(0, firstChange).stream().anyMatch(c -> c.op() == FaultInjectingStorage.Op.SYNC
                    && FileNames.parseNumber(c.name(), FileNames.Kind.WAL) >= 0),
                    "seed " + seed + ": the replayed WAL is fsynced before the first change: " + cuts);
            int anywhere = random.nextInt(cuts.size());
            int afterFirstChange = firstChange + random.nextInt(cuts.size() - firstChange);
            for (int at : new int[] {anywhere, afterFirstChange}) {
                String context = "seed " + seed + ", power cut before operation " + at + " (" + cuts.get(at).op()
                        + " " + cuts.get(at).name() + "; first change at " + firstChange + ")";
                int survived = survivingPrefix(cuts.get(at).disk(), seed, context);
                if (at >= firstChange) {
                    assertEquals(50, survived, context + ": every replayed write survives");
                }
            }
        }
    }

    /** Opens the disk and returns how many of the writes it holds, checking they are a prefix. */
    private static int survivingPrefix(SimulatedDisk disk, int seed, String context) {
        try (TrainKV db = TrainKV.open(options(disk))) {
            int survived = 0;
            while (survived < 50 && db.get(key(survived)) != null) {
                assertEquals(value(seed, survived), db.get(key(survived)), context);
                survived++;
            }
            for (int i = survived; i < 50; i++) {
                assertNull(db.get(key(i).getBytes(StandardCharsets.UTF_8)), context + ": writes survive in order");
            }
            return survived;
        }
    }
}
