package io.trainkv.replication;

import io.trainkv.ConflictException;
import io.trainkv.Entry;
import io.trainkv.WriteBatch;
import io.trainkv.util.Bytes;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * A client of a replicated TrainKV cluster, with the shape of the local {@code TrainKV} API:
 * set, get, delete, write a batch, optimistic transactions, ordered iteration.
 *
 * <pre>{@code
 * try (ReplicatedTrainKV kv = ReplicatedTrainKV.connect("n1=localhost:7001,n2=localhost:7002,n3=localhost:7003")) {
 *     kv.set("answer", "42");
 *     String v = kv.get("answer");   // "42", read linearizably through the leader
 * }
 * }</pre>
 *
 * <p>Requests go to the leader; on a leader change Ratis redirects and retries them (every
 * {@value #RETRY_SLEEP_MS} ms, up to {@value #MAX_ATTEMPTS} attempts), and the servers' retry cache
 * makes a retried write apply once. A write returns once a majority has it in their logs and the
 * leader has applied it. Reads are linearizable unless {@link #staleGet} is used. A TTL is turned
 * into an absolute expiry on this client's clock before the write is sent, so every replica stores
 * the same expiry. Thread-safe. The design and its guarantees: docs/replication.md.
 */
public final class ReplicatedTrainKV implements AutoCloseable {

    static final int MAX_ATTEMPTS = 50;
    static final long RETRY_SLEEP_MS = 100;
    /** Entries fetched per scan request. */
    static final int SCAN_PAGE = 1000;

    private final RaftClient client;
    private final Clock clock;

    private ReplicatedTrainKV(RaftClient client, Clock clock) {
        this.client = client;
        this.clock = clock;
    }

    /**
     * A client of the cluster {@code peers} ({@code id=host:port,...}) in the default group.
     *
     * @throws IllegalArgumentException if {@code peers} cannot be parsed
     */
    public static ReplicatedTrainKV connect(String peers) {
        return connect(Peers.group(Peers.DEFAULT_GROUP, Peers.parse(peers)));
    }

    /** A client of {@code group}. Connecting sends nothing: an unreachable cluster shows at the first request. */
    public static ReplicatedTrainKV connect(RaftGroup group) {
        RaftProperties properties = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(properties, TimeDuration.valueOf(3, TimeUnit.SECONDS));
        RaftClient client = RaftClient.newBuilder()
                .setProperties(properties)
                .setRaftGroup(group)
                .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(MAX_ATTEMPTS,
                        TimeDuration.valueOf(RETRY_SLEEP_MS, TimeUnit.MILLISECONDS)))
                .build();
        return new ReplicatedTrainKV(client, Clock.systemUTC());
    }

    /** Sets {@code key} to {@code value}. */
    public void set(byte[] key, byte[] value) {
        write(new WriteBatch().set(key, value));
    }

    /** Sets a UTF-8 key to a UTF-8 value. */
    public void set(String key, String value) {
        write(new WriteBatch().set(key, value));
    }

    /** Sets an entry with its TTL or expiry and user meta. */
    public void set(Entry entry) {
        write(new WriteBatch().set(entry));
    }

    /** Deletes {@code key}; deleting an absent key is not an error. */
    public void delete(byte[] key) {
        write(new WriteBatch().delete(key));
    }

    /** Deletes a UTF-8 key. */
    public void delete(String key) {
        write(new WriteBatch().delete(key));
    }

    /**
     * Applies {@code batch} atomically on every replica.
     *
     * @return the log index it was applied at
     * @throws IllegalArgumentException if a key is in the reserved key space or too long for it
     * @throws ReplicationException if the cluster did not answer (the batch may or may not be applied)
     */
    public long write(WriteBatch batch) {
        List<Wire.Op> ops = ops(batch, clock.millis());
        if (ops.isEmpty()) {
            return 0;
        }
        return outcome(send(Wire.write(ops)), null).index();
    }

    /** The value of {@code key}, read linearizably, or null if it is absent, deleted or expired. */
    public byte[] get(byte[] key) {
        Entry entry = getEntry(key);
        return entry == null ? null : entry.value();
    }

    /** The value of a UTF-8 key as text, or null. */
    public String get(String key) {
        Entry entry = getEntry(Bytes.utf8(key));
        return entry == null ? null : entry.valueAsString();
    }

    /** The entry under {@code key} with its user meta and expiry, read linearizably, or null. */
    public Entry getEntry(byte[] key) {
        Wire.ReadReply reply = read(Wire.get(checkKey(key)), null);
        return reply.entries().isEmpty() ? null : reply.entries().get(0);
    }

    /**
     * The value of {@code key} as replica {@code replica} has it, without asking the leader: at least
     * as new as log index {@code minIndex} (the replica waits until it has applied that far), possibly
     * older than the latest write. Pass the index a write returned to read your own writes.
     *
     * @throws ReplicationException if the replica does not answer
     */
    public byte[] staleGet(byte[] key, String replica, long minIndex) {
        Wire.ReadReply reply;
        try {
            reply = decodeRead(client.io().sendStaleRead(Wire.get(checkKey(key)), minIndex, RaftPeerId.valueOf(replica)));
        } catch (IOException e) {
            throw new ReplicationException("replica " + replica + " did not answer: " + e.getMessage(), e);
        }
        return reply.entries().isEmpty() ? null : reply.entries().get(0).value();
    }

    /**
     * Entries in {@code [from, to)} (null = unbounded) in ascending order, or descending with
     * {@code reverse}. Fetched in pages of {@value #SCAN_PAGE}, each read linearizably: a page is
     * one consistent state, but the pages of a long iteration may come from different states (use a
     * transaction's {@link ReplicatedTransaction#scan} for one consistent, validated view).
     */
    public Iterator<Entry> iterator(byte[] from, byte[] to, boolean reverse) {
        return new PagedIterator(from, to, reverse, null);
    }

    /** Every entry, ascending. */
    public Iterator<Entry> iterator() {
        return iterator(null, null, false);
    }

    /** Entries whose key starts with {@code prefix}, ascending. */
    public Iterator<Entry> prefixIterator(byte[] prefix) {
        return iterator(prefix, ReservedKeys.prefixEnd(prefix), false);
    }

    /** A new optimistic transaction; see {@link ReplicatedTransaction}. */
    public ReplicatedTransaction newTransaction() {
        return new ReplicatedTransaction(this);
    }

    /** What {@link #update} runs. */
    @FunctionalInterface
    public interface TransactionBody {
        void run(ReplicatedTransaction txn);
    }

    /**
     * Runs {@code body} in a transaction and commits it, running it again in a fresh transaction on
     * {@link ConflictException}, up to {@code maxAttempts} times in all.
     *
     * @return the log index of the commit
     * @throws ConflictException if the last attempt conflicted
     */
    public long update(TransactionBody body, int maxAttempts) {
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be at least 1: " + maxAttempts);
        }
        for (int attempt = 1; ; attempt++) {
            ReplicatedTransaction txn = newTransaction();
            body.run(txn);
            try {
                return txn.commit();
            } catch (ConflictException e) {
                if (attempt >= maxAttempts) {
                    throw e;
                }
            }
        }
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            throw new ReplicationException("closing the client failed: " + e.getMessage(), e);
        }
    }

    // ---- used by ReplicatedTransaction ----

    /** A batch's operations with every TTL turned into an absolute expiry at {@code nowMillis}. */
    static List<Wire.Op> ops(WriteBatch batch, long nowMillis) {
        List<Wire.Op> ops = new ArrayList<>();
        batch.forEach(new WriteBatch.Visitor() {
            @Override
            public void set(Entry entry) {
                long expires = entry.ttl() != null ? nowMillis + entry.ttl().toMillis()
                        : entry.expiresAt() != null ? entry.expiresAt().toEpochMilli() : 0;
                ops.add(new Wire.Op(checkKey(entry.key()), entry.value(), entry.userMeta(), expires));
            }

            @Override
            public void delete(byte[] key) {
                ops.add(new Wire.Op(checkKey(key), null, (byte) 0, 0));
            }
        });
        return ops;
    }

    long now() {
        return clock.millis();
    }

    Wire.ReadReply read(Message request, String what) {
        try {
            return decodeRead(client.io().sendReadOnly(request));
        } catch (IOException e) {
            throw new ReplicationException("the cluster did not answer a read" + (what == null ? "" : " of " + what)
                    + ": " + e.getMessage(), e);
        }
    }

    RaftClientReply send(Message request) {
        try {
            return client.io().send(request);
        } catch (IOException e) {
            throw new ReplicationException("the cluster did not answer a write (it may or may not be applied): "
                    + e.getMessage(), e);
        }
    }

    /**
     * The outcome of a write or commit.
     *
     * @throws ConflictException if a transaction conflicted ({@code txn} names it)
     * @throws IllegalArgumentException if the replicas refused the batch
     */
    static Wire.Outcome outcome(RaftClientReply reply, String txn) {
        Wire.Outcome outcome;
        try {
            outcome = Wire.decodeOutcome(content(reply));
        } catch (IOException e) {
            throw new ReplicationException("unreadable reply: " + e.getMessage(), e);
        }
        switch (outcome.status()) {
            case Wire.OK:
                return outcome;
            case Wire.CONFLICT:
                throw new ConflictException(txn + " conflicts: " + outcome.reason());
            default:
                throw new IllegalArgumentException(outcome.reason());
        }
    }

    private static Wire.ReadReply decodeRead(RaftClientReply reply) {
        try {
            return Wire.decodeReadReply(content(reply));
        } catch (IOException e) {
            throw new ReplicationException("unreadable reply: " + e.getMessage(), e);
        }
    }

    private static ByteString content(RaftClientReply reply) {
        if (!reply.isSuccess()) {
            Exception cause = reply.getException();
            throw new ReplicationException("the cluster failed the request: "
                    + (cause == null ? "no reason given" : cause.getMessage()), cause);
        }
        return reply.getMessage().getContent();
    }

    static byte[] checkKey(byte[] key) {
        if (key == null || key.length == 0) {
            throw new IllegalArgumentException("key must not be null or empty");
        }
        if (key.length > ReservedKeys.MAX_USER_KEY) {
            throw new IllegalArgumentException("key is " + key.length + " bytes; a replicated key is at most "
                    + ReservedKeys.MAX_USER_KEY + " bytes");
        }
        if (ReservedKeys.isReserved(key)) {
            throw new IllegalArgumentException("key " + Bytes.escape(key) + " is in the reserved key space of replication");
        }
        return key;
    }

    /**
     * Walks {@code [from, to)} page by page; each next page starts just after (or, reverse, just
     * before) the last key of the previous one. A transaction passes itself to record each page's
     * read index.
     */
    final class PagedIterator implements Iterator<Entry> {
        private byte[] from;
        private byte[] to;
        private final boolean reverse;
        private final ReplicatedTransaction txn;
        private List<Entry> page = List.of();
        private int position;
        private boolean exhausted;

        PagedIterator(byte[] from, byte[] to, boolean reverse, ReplicatedTransaction txn) {
            this.from = from;
            this.to = to;
            this.reverse = reverse;
            this.txn = txn;
        }

        @Override
        public boolean hasNext() {
            while (position == page.size() && !exhausted) {
                Wire.ReadReply reply = read(Wire.scan(new Wire.Scan(from, to, reverse, SCAN_PAGE)), "a range");
                if (txn != null) {
                    txn.readAt(reply.appliedIndex());
                }
                page = reply.entries();
                position = 0;
                exhausted = page.size() < SCAN_PAGE;
                if (!page.isEmpty()) {
                    byte[] last = page.get(page.size() - 1).key();
                    if (reverse) {
                        to = last;
                    } else {
                        from = Arrays.copyOf(last, last.length + 1);
                    }
                }
            }
            return position < page.size();
        }

        @Override
        public Entry next() {
            if (!hasNext()) {
                throw new NoSuchElementException();
            }
            return page.get(position++);
        }
    }
}
