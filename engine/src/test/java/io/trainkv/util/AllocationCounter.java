package io.trainkv.util;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.ThreadMXBean;
import java.lang.management.ManagementFactory;

/**
 * The JVM's count of the bytes the calling thread allocated, for tests that a path allocates
 * nothing (or no more than it must); a test that asks for it is skipped on a JVM that keeps no
 * such count.
 */
public final class AllocationCounter {

    /** A run of the code measured; {@code run} is its index, from 0. */
    @FunctionalInterface
    public interface Run {
        void run(int run) throws Exception;
    }

    private final ThreadMXBean threads;

    private AllocationCounter(ThreadMXBean threads) {
        this.threads = threads;
    }

    /** The counter; the calling test is skipped (a failed assumption) if the JVM has none. */
    public static AllocationCounter orSkip() {
        ThreadMXBean threads = (ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported() && threads.isThreadAllocatedMemoryEnabled(),
                "needs the JVM's per-thread allocation counter");
        return new AllocationCounter(threads);
    }

    /** Bytes the calling thread has allocated so far. */
    public long allocatedBytes() {
        return threads.getThreadAllocatedBytes(Thread.currentThread().getId());
    }

    /**
     * The fewest bytes the calling thread allocated in one of {@code runs} runs of {@code run}:
     * a path that allocates now and then (a file or chunk prepared ahead) still shows what it
     * allocates each time.
     */
    public long leastOver(int runs, Run run) throws Exception {
        long least = Long.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long before = allocatedBytes();
            run.run(i);
            least = Math.min(least, allocatedBytes() - before);
        }
        return least;
    }
}
