package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The write path reads the clock only for a write group with a TTL in it (the clock is the
 * expiry's base); a write without one does not pay for a clock read.
 */
class WriteClockTest {

    @TempDir
    Path tempDir;

    @Test
    void onlyWritesWithATtlReadTheClockAndTheirExpiryComesFromIt() {
        TestClock clock = new TestClock(1_700_000_000_000L);
        try (TrainKV db = TrainKV.open(Options.at(tempDir.resolve("db")).clock(clock))) {
            int before = clock.readsByCreator.get();
            for (int i = 0; i < 100; i++) {
                db.set(("plain-" + i).getBytes(), new byte[] {(byte) i});
                db.set(Entry.of(("fixed-" + i).getBytes(), new byte[] {1})
                        .withExpiresAt(Instant.ofEpochMilli(1_800_000_000_000L)));
                db.delete(("plain-" + i).getBytes());
            }
            assertEquals(0, clock.readsByCreator.get() - before, "writes without a TTL read the clock");

            before = clock.readsByCreator.get();
            db.set(Entry.of("short".getBytes(), new byte[] {2}).withTtl(Duration.ofSeconds(10)));
            assertEquals(1, clock.readsByCreator.get() - before, "a write with a TTL reads the clock once");
            clock.millis.addAndGet(5_000);
            assertEquals(Instant.ofEpochMilli(1_700_000_010_000L), db.getEntry("short".getBytes()).expiresAt());
            assertEquals(Instant.ofEpochMilli(1_800_000_000_000L), db.getEntry("fixed-7".getBytes()).expiresAt());
        }
    }
}
