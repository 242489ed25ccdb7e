package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trainkv.CapturedLogs;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.storage.Storage;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Open refuses a directory that holds database files but no {@code CURRENT}; a power cut during
 * the very first open must still never leave such a directory. Every point of a first open is cut
 * and reopened: each must open as a database (empty, or holding the write made after the open).
 */
class FirstOpenPowerCutTest {

    private static Options options(Storage storage) {
        return CrashTest.small(Options.inTempDirectory().storage(storage));
    }

    @Test
    void aPowerCutAtAnyPointOfTheFirstOpenLeavesADirectoryThatOpens() {
        try (CapturedLogs logs = new CapturedLogs()) {
            for (int seed = 0; seed < 5; seed++) {
                PowerCutRecorder recorder = new PowerCutRecorder(new SimulatedDisk(), new Random(seed));
                try (TrainKV db = TrainKV.open(options(recorder.storage()))) {
                    db.write(new io.trainkv.WriteBatch().set("k", "v"), true);
                }
                List<PowerCutRecorder.PowerCut> cuts = recorder.cuts();
                for (int at = 0; at < cuts.size(); at++) {
                    try (TrainKV db = TrainKV.open(options(cuts.get(at).disk()))) {
                        String value = db.get("k");
                        if (value != null) {
                            assertEquals("v", value, "seed " + seed + ", cut " + at);
                        }
                        db.set("after", "the cut");
                    }
                }
            }
        }
    }
}
