package io.trainkv.cache;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * A byte-weighted W-TinyLFU cache (Einziger, Eytan, Friedman and Manes, "Adaptive Software Cache
 * Management", Middleware 2018; the design of Caffeine). New entries enter a small LRU window;
 * entries leaving the window compete for the main space, a segmented LRU (probation and
 * protected, about 20/80), where a {@link FrequencySketch} decides: the window's candidate is
 * admitted only if it was seen more often recently than the probation victim it would displace.
 * So a scan, whose keys are each seen once, passes through the window without flushing the hot
 * set, while recency-heavy traffic is served by the window.
 *
 * <p>Adaptivity: the window's share of the capacity is tuned by hill climbing on the hit rate
 * (the simple hill climber of "Adaptive Software Cache Management", on the design of
 * "TinyLFU: A Highly Efficient Cache Admission Policy", Einziger, Friedman and Manes, ACM
 * Transactions on Storage 2017). Every sample period the hit rate is compared with the previous
 * period's: if it did not drop, the window moves again in the same direction, otherwise the
 * direction flips; each move's step is {@value #STEP_DECAY} of the one before, so the window
 * settles. Four rules keep it adapting (issue 18; the figures are in {@code docs/benchmarks.md}):
 * <ul>
 *   <li>The window starts at {@value #INITIAL_WINDOW} of the capacity, not 1%: on recency-heavy
 *       traces a 1% window loses to plain LRU while the climber is still far away (OLTP at 20,000
 *       entries: fixed windows of 20-60% beat LRU), and on frequency-heavy ones the climber walks
 *       down from there within a few periods.
 *   <li>Restart: when the hit rate moves by {@value #RESTART_THRESHOLD} or more between two
 *       periods the workload has shifted, and the step is re-grown to its initial
 *       {@value #INITIAL_STEP} (the step had decayed to nothing before, freezing the window
 *       wherever it was: at its 2-entry floor on OLTP at 250 entries).
 *   <li>A sample period is {@value #SAMPLE_CAPACITIES} capacities of accesses, at least
 *       {@value #MIN_SAMPLE} (it was ten capacities: four samples in the whole OLTP trace at 20,000
 *       entries). The floor keeps the sampling noise of a small cache's hit rate below the effect
 *       of one step; with 5,000 the window of a 1,000-entry cache random-walked on Zipf 0.9.
 *   <li>At a bound (a window of {@value #MIN_WINDOW} or {@value #MAX_WINDOW}) a move that the
 *       bound cancels is not a move: the next period's hit rate is not compared, so noise cannot
 *       flip the climber off the bound where the best window is (a loop slightly larger than the
 *       cache wants the smallest window, and lost 3 points to that bounce). The price: a window on
 *       a bound leaves it only after a shift, so a shift whose first periods mislead the climber
 *       back onto the bound leaves it there (seen from a loop at the 1% floor switched to a
 *       recency trace). Skipping the comparison after each shift fixed that case but cost 0.2 to
 *       1.4 points on every ARC row and up to 1.8 on Zipf with scans, so it was not kept.
 * </ul>
 *
 * <p>Concurrency: reads go to a {@link ConcurrentHashMap} without locking and record the access in
 * a lossy ring buffer; writes and the buffered accesses are applied to the policy under one lock,
 * taken with {@code tryLock} on reads so that readers never wait (Caffeine's approach). A dropped
 * access only makes the policy slightly less precise. The read buffer is striped: each thread
 * records into the stripe of its probe (threads take probes in turn, so the first threads each
 * have a stripe of their own), with each stripe's write count on a cache line of its own, and a
 * drain applies every stripe. So a hit writes no location that another thread's hit writes, except
 * by sharing a stripe when there are more threads than stripes. One thread always uses one stripe,
 * drained when that stripe has taken {@value #DRAIN_EVERY} reads and before every write, so
 * single-threaded decisions are the same as with one buffer. Hit and miss counts are striped
 * ({@link LongAdder}) for the same reason.
 */
public final class WTinyLfuCache<K, V> {

    /** How many bytes an entry costs. */
    @FunctionalInterface
    public interface Weigher<K, V> {
        int weigh(K key, V value);
    }

    private static final double INITIAL_WINDOW = 0.15;
    private static final double MIN_WINDOW = 0.01;
    private static final double MAX_WINDOW = 0.8;
    private static final double PROTECTED_SHARE = 0.8;
    private static final double INITIAL_STEP = 0.04;
    private static final double STEP_DECAY = 0.98;
    private static final double RESTART_THRESHOLD = 0.05;
    private static final int SAMPLE_CAPACITIES = 3;
    private static final long MIN_SAMPLE = 20_000;
    private static final int READ_BUFFER_SIZE = 256;
    private static final int DRAIN_EVERY = READ_BUFFER_SIZE / 4;
    /** Longs between two stripes' write counts: 128 bytes, so that no two share a cache line. */
    private static final int COUNT_SPACING = 16;
    /** Read buffer stripes: the power of two at or above four per processor, at most 64. */
    private static final int STRIPES = Math.min(64,
            Integer.highestOneBit(4 * Runtime.getRuntime().availableProcessors() - 1) << 1);
    private static final AtomicInteger NEXT_PROBE = new AtomicInteger();
    private static final ThreadLocal<Integer> PROBE = ThreadLocal.withInitial(NEXT_PROBE::getAndIncrement);
    private static final int QUEUE_WINDOW = 0;
    private static final int QUEUE_PROBATION = 1;
    private static final int QUEUE_PROTECTED = 2;

    /** One cached entry and its place in the policy's queues. */
    private static final class Node<K, V> {
        final K key;
        volatile V value;
        int weight;
        int queue;
        Node<K, V> prev;
        Node<K, V> next;
        boolean removed;

        Node(K key, V value, int weight) {
            this.key = key;
            this.value = value;
            this.weight = weight;
        }
    }

    /** An access-ordered doubly linked list of nodes, least recent first. */
    private static final class Queue<K, V> {
        Node<K, V> head;
        Node<K, V> tail;
        long weight;

        void addLast(Node<K, V> node) {
            node.prev = tail;
            node.next = null;
            if (tail == null) {
                head = node;
            } else {
                tail.next = node;
            }
            tail = node;
            weight += node.weight;
        }

        void remove(Node<K, V> node) {
            if (node.prev == null) {
                head = node.next;
            } else {
                node.prev.next = node.next;
            }
            if (node.next == null) {
                tail = node.prev;
            } else {
                node.next.prev = node.prev;
            }
            node.prev = null;
            node.next = null;
            weight -= node.weight;
        }

        void moveToLast(Node<K, V> node) {
            remove(node);
            addLast(node);
        }
    }

    private final long maximum;
    private final Weigher<K, V> weigher;
    private final ConcurrentHashMap<K, Node<K, V>> data = new ConcurrentHashMap<>();
    private final ReentrantLock lock = new ReentrantLock();
    private final FrequencySketch sketch;
    private final Queue<K, V> window = new Queue<>();
    private final Queue<K, V> probation = new Queue<>();
    private final Queue<K, V> protectedQueue = new Queue<>();
    /** Stripe {@code i} is {@code readBuffer[i * READ_BUFFER_SIZE, (i + 1) * READ_BUFFER_SIZE)}. */
    private final AtomicReferenceArray<Node<K, V>> readBuffer =
            new AtomicReferenceArray<>(STRIPES * READ_BUFFER_SIZE);
    /** Reads recorded in stripe {@code i}, at index {@code i * COUNT_SPACING}. */
    private final AtomicLongArray readWrites = new AtomicLongArray(STRIPES * COUNT_SPACING);
    /** Reads applied from each stripe; guarded by the lock. */
    private final long[] readDrained = new long[STRIPES];
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final AtomicLong evictions = new AtomicLong();
    private double windowShare;
    private long windowMaximum;
    private long protectedMaximum;
    private double step = -INITIAL_STEP;
    private boolean atBound;
    private long sampleHits;
    private long sampleMisses;
    private long missesCounted;
    private double previousHitRate;
    private final long samplePeriod;

    /**
     * A cache holding at most {@code maximumBytes}, expecting entries of about
     * {@code typicalEntryBytes} (which sizes the frequency sketch).
     */
    public WTinyLfuCache(long maximumBytes, int typicalEntryBytes, Weigher<K, V> weigher) {
        if (maximumBytes < 0) {
            throw new IllegalArgumentException("cache size must not be negative: " + maximumBytes);
        }
        this.maximum = maximumBytes;
        this.weigher = weigher;
        long expectedEntries = Math.max(16, maximumBytes / Math.max(1, typicalEntryBytes));
        this.sketch = new FrequencySketch(expectedEntries);
        this.samplePeriod = Math.max(MIN_SAMPLE, SAMPLE_CAPACITIES * expectedEntries);
        setWindow(INITIAL_WINDOW);
    }

    private void setWindow(double share) {
        windowShare = share;
        windowMaximum = (long) (maximum * share);
        protectedMaximum = (long) ((maximum - windowMaximum) * PROTECTED_SHARE);
    }

    /** The cached value, or null. Never blocks. */
    public V get(K key) {
        Node<K, V> node = data.get(key);
        if (node == null) {
            misses.increment();
            return null;
        }
        hits.increment();
        recordRead(node);
        return node.value;
    }

    /** Adds or replaces an entry; it may be refused or evict others to stay within the maximum. */
    public void put(K key, V value) {
        int weight = weigher.weigh(key, value);
        lock.lock();
        try {
            drainReads();
            sketch.increment(key.hashCode());
            Node<K, V> existing = data.get(key);
            if (existing != null) {
                existing.value = value;
                queueOf(existing).weight += weight - existing.weight;
                existing.weight = weight;
                onAccess(existing);
            } else if (weight <= maximum) {
                Node<K, V> node = new Node<>(key, value, weight);
                node.queue = QUEUE_WINDOW;
                data.put(key, node);
                window.addLast(node);
            }
            evict();
        } finally {
            lock.unlock();
        }
    }

    /** Removes every entry whose key matches (for example all blocks of a deleted table). */
    public void invalidateIf(Predicate<K> matches) {
        lock.lock();
        try {
            drainReads();
            for (Node<K, V> node : data.values()) {
                if (matches.test(node.key)) {
                    removeNode(node);
                }
            }
        } finally {
            lock.unlock();
        }
    }

    public long hits() {
        return hits.sum();
    }

    public long misses() {
        return misses.sum();
    }

    public long evictions() {
        return evictions.get();
    }

    /** Bytes held now. */
    public long weight() {
        lock.lock();
        try {
            return window.weight + probation.weight + protectedQueue.weight;
        } finally {
            lock.unlock();
        }
    }

    public long maximum() {
        return maximum;
    }

    /** The window's current share of the capacity (tuned by hill climbing). */
    public double windowShare() {
        lock.lock();
        try {
            return windowShare;
        } finally {
            lock.unlock();
        }
    }

    /** Number of entries. */
    public int size() {
        return data.size();
    }

    private void recordRead(Node<K, V> node) {
        int stripe = PROBE.get() & (STRIPES - 1);
        long index = readWrites.getAndIncrement(stripe * COUNT_SPACING);
        readBuffer.lazySet(stripe * READ_BUFFER_SIZE + (int) (index & (READ_BUFFER_SIZE - 1)), node);
        if ((index & (DRAIN_EVERY - 1)) == 0 && lock.tryLock()) {
            try {
                drainReads();
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * Counts the misses since the last drain into the climber's sample, then applies the buffered
     * reads of every stripe to the policy (a stripe's reads in order; a stripe that wrapped past
     * reads not yet applied loses the oldest). Called with the lock held. Misses take no lock when
     * they happen: two readers missing at once would otherwise contend for it on every miss.
     */
    private void drainReads() {
        long missesNow = misses.sum();
        sampleMisses += missesNow - missesCounted;
        missesCounted = missesNow;
        climb();
        for (int stripe = 0; stripe < STRIPES; stripe++) {
            long written = readWrites.get(stripe * COUNT_SPACING);
            long from = Math.max(readDrained[stripe], written - READ_BUFFER_SIZE);
            for (long i = from; i < written; i++) {
                int slot = stripe * READ_BUFFER_SIZE + (int) (i & (READ_BUFFER_SIZE - 1));
                Node<K, V> node = readBuffer.getAndSet(slot, null);
                if (node != null && !node.removed) {
                    sketch.increment(node.key.hashCode());
                    onAccess(node);
                    sampleHits++;
                }
            }
            readDrained[stripe] = written;
        }
        climb();
    }

    private void onAccess(Node<K, V> node) {
        switch (node.queue) {
            case QUEUE_WINDOW -> window.moveToLast(node);
            case QUEUE_PROBATION -> {
                probation.remove(node);
                node.queue = QUEUE_PROTECTED;
                protectedQueue.addLast(node);
                while (protectedQueue.weight > protectedMaximum && protectedQueue.head != null) {
                    Node<K, V> demoted = protectedQueue.head;
                    protectedQueue.remove(demoted);
                    demoted.queue = QUEUE_PROBATION;
                    probation.addLast(demoted);
                }
            }
            default -> protectedQueue.moveToLast(node);
        }
    }

    /**
     * Moves window overflow to probation as candidates, then, while over the maximum, makes each
     * candidate duel the probation victim (the least recent) by frequency; the loser is evicted.
     */
    private void evict() {
        int candidates = 0;
        while (window.weight > windowMaximum && window.head != null) {
            Node<K, V> node = window.head;
            window.remove(node);
            node.queue = QUEUE_PROBATION;
            probation.addLast(node);
            candidates++;
        }
        Node<K, V> candidate = candidates > 0 ? probation.tail : null;
        while (totalWeight() > maximum) {
            Node<K, V> victim = probation.head;
            if (victim == null) {
                victim = protectedQueue.head != null ? protectedQueue.head : window.head;
                if (victim == null) {
                    return;
                }
                removeNode(victim);
                evictions.incrementAndGet();
                continue;
            }
            if (candidate == null || candidates == 0 || victim == candidate) {
                removeNode(victim);
                evictions.incrementAndGet();
                continue;
            }
            Node<K, V> previousCandidate = candidate.prev;
            if (sketch.frequency(candidate.key.hashCode()) > sketch.frequency(victim.key.hashCode())) {
                removeNode(victim);
            } else {
                removeNode(candidate);
                candidate = previousCandidate;
                candidates--;
            }
            evictions.incrementAndGet();
        }
    }

    private long totalWeight() {
        return window.weight + probation.weight + protectedQueue.weight;
    }

    private Queue<K, V> queueOf(Node<K, V> node) {
        return switch (node.queue) {
            case QUEUE_WINDOW -> window;
            case QUEUE_PROBATION -> probation;
            default -> protectedQueue;
        };
    }

    private void removeNode(Node<K, V> node) {
        if (node.removed) {
            return;
        }
        node.removed = true;
        queueOf(node).remove(node);
        data.remove(node.key, node);
    }

    /**
     * Hill climbing on the hit rate of each sample period: keep the direction that helped, flip
     * it otherwise, re-grow the step after a shift, and stay on a bound without counting it as a
     * move. Called with the lock held.
     */
    private void climb() {
        long requests = sampleHits + sampleMisses;
        if (requests < samplePeriod) {
            return;
        }
        double hitRate = sampleHits / (double) requests;
        double change = hitRate - previousHitRate;
        previousHitRate = hitRate;
        sampleHits = 0;
        sampleMisses = 0;
        boolean shifted = Math.abs(change) >= RESTART_THRESHOLD;
        if (change < 0 && (!atBound || shifted)) {
            step = -step;
        }
        if (shifted) {
            step = Math.copySign(INITIAL_STEP, step);
        }
        double share = Math.max(MIN_WINDOW, Math.min(MAX_WINDOW, windowShare + step));
        atBound = share == windowShare;
        step *= STEP_DECAY;
        if (!atBound) {
            setWindow(share);
            evict();
        }
    }
}
