package io.trainkv.replication;

import io.trainkv.Entry;
import io.trainkv.WriteBatch;
import io.trainkv.shell.ClusterStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;

/**
 * The shell's view of a cluster ({@code trainkv shell --cluster}) over {@link ReplicatedTrainKV},
 * registered for {@link java.util.ServiceLoader} so that the shell module needs no Ratis.
 */
public final class ShellConnector implements ClusterStore.Connector {

    @Override
    public ClusterStore connect(String peers) {
        ReplicatedTrainKV kv = ReplicatedTrainKV.connect(peers);
        return new ClusterStore() {
            @Override
            public long write(WriteBatch batch) {
                return kv.write(batch);
            }

            @Override
            public Entry get(byte[] key) {
                return kv.getEntry(key);
            }

            @Override
            public List<Entry> scan(byte[] prefix, byte[] from, byte[] to, boolean reverse, int limit) {
                byte[][] range = range(prefix, from, to);
                List<Entry> entries = new ArrayList<>();
                for (Iterator<Entry> it = kv.iterator(range[0], range[1], reverse); it.hasNext() && entries.size() < limit; ) {
                    entries.add(it.next());
                }
                return entries;
            }

            @Override
            public Transaction begin() {
                ReplicatedTransaction txn = kv.newTransaction();
                return new Transaction() {
                    @Override
                    public Entry get(byte[] key) {
                        return txn.getEntry(key);
                    }

                    @Override
                    public void set(Entry entry) {
                        txn.set(entry);
                    }

                    @Override
                    public void delete(byte[] key) {
                        txn.delete(key);
                    }

                    @Override
                    public List<Entry> scan(byte[] prefix, byte[] from, byte[] to, boolean reverse, int limit) {
                        byte[][] range = range(prefix, from, to);
                        List<Entry> all = txn.scan(range[0], range[1], reverse);
                        return all.size() > limit ? all.subList(0, limit) : all;
                    }

                    @Override
                    public long commit() {
                        return txn.commit();
                    }

                    @Override
                    public void discard() {
                        txn.discard();
                    }
                };
            }

            @Override
            public void close() {
                kv.close();
            }
        };
    }

    /** {@code [from, to)} narrowed to the keys starting with {@code prefix} (nulls unbounded). */
    static byte[][] range(byte[] prefix, byte[] from, byte[] to) {
        if (prefix == null) {
            return new byte[][] {from, to};
        }
        byte[] end = ReservedKeys.prefixEnd(prefix);
        byte[] lower = from == null || Arrays.compareUnsigned(prefix, from) > 0 ? prefix : from;
        byte[] upper = to == null || end != null && Arrays.compareUnsigned(end, to) < 0 ? end : to;
        return new byte[][] {lower, upper};
    }
}
