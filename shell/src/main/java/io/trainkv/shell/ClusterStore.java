package io.trainkv.shell;

import io.trainkv.Entry;
import io.trainkv.WriteBatch;
import java.util.List;

/**
 * A replicated cluster as the shell sees it ({@code trainkv shell --cluster}). The shell does not
 * depend on the replication module: the implementation is found through {@link java.util.ServiceLoader}
 * ({@link Connector}), present in the {@code trainkv} jar and absent from the bare shell jar.
 */
public interface ClusterStore extends AutoCloseable {

    /** Opens a {@link ClusterStore}; registered in {@code META-INF/services}. */
    interface Connector {
        /**
         * A store over the cluster {@code peers} ({@code id=host:port,...}).
         *
         * @throws IllegalArgumentException if {@code peers} cannot be parsed
         */
        ClusterStore connect(String peers);
    }

    /** An optimistic transaction of the cluster. */
    interface Transaction {
        Entry get(byte[] key);

        void set(Entry entry);

        void delete(byte[] key);

        /** Like {@link ClusterStore#scan}, with the transaction's own writes; the range is validated at commit. */
        List<Entry> scan(byte[] prefix, byte[] from, byte[] to, boolean reverse, int limit);

        /**
         * @return the log index it committed at
         * @throws io.trainkv.ConflictException if a key it read changed meanwhile
         */
        long commit();

        void discard();
    }

    /** Applies {@code batch} atomically; returns its log index. */
    long write(WriteBatch batch);

    /** The entry under {@code key}, read linearizably, or null. */
    Entry get(byte[] key);

    /**
     * Up to {@code limit} entries whose key starts with {@code prefix} and lies in {@code [from, to)}
     * (each null = unbounded), ascending or descending.
     */
    List<Entry> scan(byte[] prefix, byte[] from, byte[] to, boolean reverse, int limit);

    Transaction begin();

    @Override
    void close();
}
