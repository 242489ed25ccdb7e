package io.trainkv;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move by hand, for TTL expiry; it counts the reads made by the thread that made it. */
final class TestClock extends Clock {

    final AtomicLong millis;
    final AtomicInteger readsByCreator = new AtomicInteger();
    private final Thread creator = Thread.currentThread();

    TestClock(long startMillis) {
        this.millis = new AtomicLong(startMillis);
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        return this;
    }

    @Override
    public Instant instant() {
        if (Thread.currentThread() == creator) {
            readsByCreator.incrementAndGet();
        }
        return Instant.ofEpochMilli(millis.get());
    }
}
