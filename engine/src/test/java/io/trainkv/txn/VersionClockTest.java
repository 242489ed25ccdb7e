package io.trainkv.txn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.trainkv.util.KeyFormat;
import org.junit.jupiter.api.Test;

/** The version clock is monotonic, resumes from recovery, and refuses to wrap. */
class VersionClockTest {

    @Test
    void handsOutIncreasingVersionsFromOne() {
        VersionClock clock = new VersionClock();
        assertEquals(0, clock.last());
        assertEquals(1, clock.next());
        assertEquals(2, clock.next());
        assertEquals(2, clock.last());
    }

    @Test
    void advanceToNeverMovesBackwards() {
        VersionClock clock = new VersionClock();
        clock.advanceTo(100);
        clock.advanceTo(50);
        assertEquals(101, clock.next());
    }

    @Test
    void refusesToPassTheLargestVersionInsteadOfWrapping() {
        VersionClock clock = new VersionClock();
        clock.advanceTo(KeyFormat.MAX_VERSION - 1);
        assertEquals(KeyFormat.MAX_VERSION, clock.next());
        IllegalStateException e = assertThrows(IllegalStateException.class, clock::next);
        assertEquals("version space exhausted at " + KeyFormat.MAX_VERSION, e.getMessage());
        assertEquals(KeyFormat.MAX_VERSION, clock.last(), "a refused version is not consumed");
        assertThrows(IllegalArgumentException.class, () -> clock.advanceTo(Long.MAX_VALUE));
    }
}
