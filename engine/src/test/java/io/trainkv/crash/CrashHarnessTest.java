package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.TrainKV;
import io.trainkv.ValueLogGcReport;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The short CI run of the crash harness, and regression tests for what it found. */
class CrashHarnessTest {

    @TempDir
    Path tempDir;

    /** Seed 1 found the collected-value-log bug (see {@link #aWalPointerIntoACollectedValueLogIsSupersededNotTorn}). */
    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3})
    @Timeout(120)
    void simulatedPowerCutsNeverLoseDurableWritesOrInventData(long seed) {
        CrashTest.Result result = CrashTest.simulated(seed, 200, 200, null);
        assertEquals(List.of(), result.failures());
        assertEquals(200, result.cycles());
    }

    @Test
    @Timeout(300)
    void sigkilledProcessesNeverLoseAcknowledgedWrites() throws Exception {
        CrashTest.Result result = CrashTest.process(7, 8, 300, tempDir.resolve("db"), null);
        assertEquals(List.of(), result.failures());
        assertEquals(8, result.cycles());
    }

    /**
     * Found by {@code crashtest --seed 1}: GC collected a value-log file, and after a crash the
     * newest WAL still held an older batch pointing into it. Recovery took that pointer for a
     * value a crash left unwritten, cut the WAL there and lost the synced writes after it, GC's
     * rewrites included; reads then spun on the missing file.
     */
    @Test
    void aWalPointerIntoACollectedValueLogIsSupersededNotTorn() {
        SimulatedDisk disk = new SimulatedDisk();
        byte[] old = new byte[1500];
        byte[] fresh = new byte[1500];
        fresh[0] = 1;
        try (TrainKV db = TrainKV.open(CrashTest.options(disk))) {
            db.set("k".getBytes(), old);
            for (int i = 0; i < 200; i++) {
                db.set(("filler-" + i).getBytes(), new byte[1500]);
            }
            db.set("k".getBytes(), fresh);
            for (int i = 0; i < 200; i++) {
                db.delete(("filler-" + i).getBytes());
            }
            ValueLogGcReport report = db.runValueLogGC(0.1);
            assertTrue(report.collectedFiles() > 0, report.format());
            db.write(new io.trainkv.WriteBatch().set("after", "gc"), true);
            disk = disk.crash(new Random(0));
        }
        try (TrainKV db = TrainKV.open(CrashTest.options(disk))) {
            assertArrayEquals(fresh, db.get("k".getBytes()));
            assertEquals("gc", db.get("after"));
        }
    }
}
