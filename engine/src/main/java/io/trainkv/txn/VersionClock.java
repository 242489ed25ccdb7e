package io.trainkv.txn;

import io.trainkv.util.KeyFormat;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The one monotonic clock every write takes its version from. Rebuilt on open from the highest
 * version found on disk, so that versions never repeat across restarts; it refuses to pass
 * {@link KeyFormat#MAX_VERSION} instead of wrapping.
 */
public final class VersionClock {

    private final AtomicLong last = new AtomicLong();

    /** The last version handed out (0 before the first write). */
    public long last() {
        return last.get();
    }

    /** Hands out the next version. */
    public long next() {
        long v = last.incrementAndGet();
        if (v > KeyFormat.MAX_VERSION || v <= 0) {
            last.decrementAndGet();
            throw new IllegalStateException("version space exhausted at " + (v - 1));
        }
        return v;
    }

    /** Moves the clock forward to at least {@code version} (recovery). */
    public void advanceTo(long version) {
        if (version < 0 || version > KeyFormat.MAX_VERSION) {
            throw new IllegalArgumentException("version out of range: " + version);
        }
        last.accumulateAndGet(version, Math::max);
    }
}
