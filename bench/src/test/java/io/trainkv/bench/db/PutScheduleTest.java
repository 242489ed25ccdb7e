package io.trainkv.bench.db;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The readwhilewriting writer's pacing, on a clock the test moves. */
class PutScheduleTest {

    @Test
    void putsAreDueOnePeriodApartFromTheStart() {
        PutSchedule schedule = new PutSchedule(5_000, 1_000); // one put per ms
        assertEquals(0, schedule.waitNanos(5_000), "the first put is due at the start");
        assertEquals(1_000_000, schedule.waitNanos(5_000));
        assertEquals(400_000, schedule.waitNanos(605_000));
        assertEquals(0, schedule.waitNanos(1_005_000));
        assertEquals(1_000_000, schedule.waitNanos(1_005_000));
    }

    @Test
    void aWriterThatFellBehindWritesTheDuePutsWithoutWaiting() {
        PutSchedule schedule = new PutSchedule(0, 1_000);
        for (int put = 0; put <= 10; put++) {
            assertEquals(0, schedule.waitNanos(10_000_000), "put " + put + " is due by 10 ms");
        }
        assertEquals(1_000_000, schedule.waitNanos(10_000_000), "the 12th put is due at 11 ms");
    }

    @Test
    void noLimitNeverWaits() {
        PutSchedule schedule = new PutSchedule(0, 0);
        for (int put = 0; put < 1_000; put++) {
            assertEquals(0, schedule.waitNanos(0));
        }
    }
}
