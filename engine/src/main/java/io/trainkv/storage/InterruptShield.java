package io.trainkv.storage;

import java.io.IOException;
import java.nio.channels.FileChannel;

/**
 * Keeps a caller's interrupt away from the file channels the engine shares between threads. A
 * {@link java.nio.channels.FileChannel} is an interruptible channel: an I/O call made by a thread
 * whose interrupt status is set closes the channel for every thread
 * ({@link java.nio.channels.ClosedByInterruptException}), so one interrupted writer would break the
 * WAL for the rest of the session, and one interrupted reader a value-log or table file. Each
 * channel call is therefore bracketed by {@link #clear()} and {@link #restore(boolean)}: the status
 * is put aside for the call and set again after it, so the caller still sees its interrupt. An
 * interrupt that arrives while the call is in progress still closes the channel (the JDK offers no
 * public way to prevent that); the window is the call itself.
 */
final class InterruptShield {

    private InterruptShield() {
    }

    /** Clears the calling thread's interrupt status; returns whether it was set. */
    static boolean clear() {
        return Thread.interrupted();
    }

    /** Sets the calling thread's interrupt status again if {@code wasInterrupted}. */
    static void restore(boolean wasInterrupted) {
        if (wasInterrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** {@link FileChannel#force(boolean)} (fdatasync, or fsync with {@code metaData}), shielded. */
    static void force(FileChannel channel, boolean metaData) throws IOException {
        boolean interrupted = clear();
        try {
            channel.force(metaData);
        } finally {
            restore(interrupted);
        }
    }
}
