package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A child JVM writing synced entries is killed ({@code destroyForcibly}, SIGKILL on Linux) after
 * a number of acknowledged writes; reopening must return every acknowledged write, and any
 * unacknowledged write that survived must be whole. Several rounds, so that later rounds replay
 * logs left by earlier kills.
 */
class CrashRecoveryTest {

    private static final int ROUNDS = 3;

    @TempDir
    Path tempDir;

    static String value(String prefix, long i) {
        return prefix + ":" + i + ":" + "x".repeat((int) (i % 300));
    }

    @Test
    void everyAcknowledgedSyncedWriteSurvivesSigkill() throws Exception {
        Path dir = tempDir.resolve("db");
        long[] acked = new long[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            String prefix = "r" + round;
            Process child = ChildJvm.start(CrashWriterMain.class, dir.toString(), prefix);
            long target = 400 + 150L * round;
            long last = -1;
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = out.readLine()) != null) {
                    last = Long.parseLong(line.substring("acked ".length()));
                    if (last >= target) {
                        break;
                    }
                }
                child.destroyForcibly();
                assertTrue(child.waitFor(1, TimeUnit.MINUTES), "child did not die");
            }
            assertTrue(last >= target, "child stopped early after " + last + " writes; exit " + child.exitValue());
            acked[round] = last;

            try (TrainKV db = TrainKV.open(Options.at(dir))) {
                for (int r = 0; r <= round; r++) {
                    String p = "r" + r;
                    for (long i = 0; i <= acked[r]; i++) {
                        assertEquals(value(p, i), db.get(p + "-" + i), "round " + r + " key " + i);
                        if (i % 7 == 3) {
                            assertEquals(value(p, i), db.get(p + "-pair-" + i), "round " + r + " batch pair " + i);
                        }
                    }
                    for (long i = acked[r] + 1; i < acked[r] + 50; i++) {
                        String v = db.get(p + "-" + i);
                        assertTrue(v == null || v.equals(value(p, i)), "unacknowledged write " + i + " is torn: " + v);
                        if (i % 7 == 3) {
                            assertEquals(v, db.get(p + "-pair-" + i), "batch " + i + " is half applied");
                        }
                    }
                }
            }
        }
    }
}
