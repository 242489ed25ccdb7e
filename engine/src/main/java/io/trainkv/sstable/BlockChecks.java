package io.trainkv.sstable;

import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;

/**
 * When the data blocks of a database's tables are checksummed, and how many were. A block read
 * from a file into memory (positional reads) is checked on every such read; the block cache then
 * holds the checked copy, which cannot change. A block read in place through a memory mapping has
 * no copy to hold: computing its CRC32C on every read cost about a quarter of a random point read
 * (docs/benchmarks.md), and a block-cache entry pointing into the mapping cost more than the
 * checksum it saved. So a mapped table remembers, per data block, when the block's checksum last
 * matched, and trusts the mapping's bytes for the recheck interval after that; the first read
 * after the interval checks the block again. A mapped page whose bytes change after the check (the
 * kernel dropped the page and read it back from a failing disk, or another process wrote the file)
 * is therefore served unchecked for at most the interval after the block's last check, and is
 * reported, with file and offset, by the first read after it: trusted, like a cached copy, but
 * never for longer than the interval.
 *
 * <p>Reads that copy blocks elsewhere (compaction, inspection tools) check every block whatever
 * the interval, so a damaged block is never rewritten under a fresh checksum. Thread-safe.
 */
public final class BlockChecks {

    /** Checks every data block on every read (no trust in mappings). */
    public static final BlockChecks EVERY_READ = new BlockChecks(0, System::nanoTime);

    private final long recheckNanos;
    private final LongSupplier clock;
    private final LongAdder checksums = new LongAdder();

    /**
     * @param recheckInterval how long a mapped data block is trusted after its checksum matched;
     *                        zero checks every read
     * @throws IllegalArgumentException if the interval is negative
     */
    public static BlockChecks recheckingAfter(Duration recheckInterval) {
        if (recheckInterval.isNegative()) {
            throw new IllegalArgumentException("recheck interval must not be negative: " + recheckInterval);
        }
        return new BlockChecks(saturatedNanos(recheckInterval), System::nanoTime);
    }

    /** As {@link #recheckingAfter(Duration)}, with {@code clock} (nanoseconds, monotonic) for time; for tests. */
    static BlockChecks recheckingAfter(Duration recheckInterval, LongSupplier clock) {
        return new BlockChecks(saturatedNanos(recheckInterval), clock);
    }

    private BlockChecks(long recheckNanos, LongSupplier clock) {
        this.recheckNanos = recheckNanos;
        this.clock = clock;
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            return Long.MAX_VALUE;
        }
    }

    /** Data-block checksums computed so far, by every table opened with this policy. */
    public long checksums() {
        return checksums.sum();
    }

    boolean trustsMappings() {
        return recheckNanos > 0;
    }

    long recheckNanos() {
        return recheckNanos;
    }

    long now() {
        return clock.getAsLong();
    }

    void counted() {
        checksums.increment();
    }
}
