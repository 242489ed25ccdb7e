package io.trainkv.bench.db;

/**
 * The few operations every benchmarked engine offers, so that one workload runs unchanged on
 * TrainKV and on each peer. Implementations translate calls and nothing else: no caching, no
 * batching, no extra copies beyond what the engine's own API needs.
 */
interface Engine extends AutoCloseable {

    void put(byte[] key, byte[] value);

    /**
     * Whether {@link #put} keeps the caller's value array (the engine stores the array object, so
     * the caller must never change it): then every put gets a fresh array. Engines that copy the
     * value get one reused array per thread, as a program using them would do (db_bench passes
     * slices of one buffer).
     */
    default boolean keepsValueArrays() {
        return true;
    }

    /** The value, or null when the key is absent. */
    byte[] get(byte[] key);

    void delete(byte[] key);

    /** A new cursor over the current data; reverse cursors walk keys in descending order. */
    Cursor cursor(boolean reverse);

    /**
     * Writes what is in memory to the engine's files and waits for the background work the engine
     * lets a caller wait for, so that the next process starts without this workload's leftovers.
     */
    void settle();

    /** Bytes the engine itself counts as written to disk since it was opened, or -1 if it counts none. */
    long bytesWritten();

    @Override
    void close();

    /** A positioned walk over keys, in the cursor's direction. */
    interface Cursor extends AutoCloseable {

        /** Positions at the first key in the cursor's direction (the largest when reverse). */
        void seekToFirst();

        /** Forward: first key at or after {@code key}; reverse: last key at or before it. */
        void seek(byte[] key);

        boolean valid();

        void next();

        byte[] key();

        byte[] value();

        @Override
        void close();
    }
}
