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
 * <p>Adaptivity: the window's share of the capacity is tuned by hill climbing (after "Adaptive
 * Software Cache Management"), but the climber does not compare the cache's hit rate between
 * consecutive periods, as that paper's simple climber and this class before did: that difference
 * measures every change of the workload between the periods as well as the window's effect, and a
 * workload whose phases did not line up with the sample periods steered the window at random (a
 * hot set moving every 100,000 accesses, sampled every 60,000: consecutive samples differed by 8
 * to 20 points whatever the window did). Instead the climber keeps two {@link ShadowPolicy}
 * models of this policy, with windows one step ({@value #STEP} of the capacity) smaller and
 * larger than the cache's, and replays in both the accesses to a sample of the keys (one key in
 * 2^n by hash, so that each model holds at least {@value #SHADOW_ENTRIES} entries; all keys for a
 * cache of fewer entries). Both see the same accesses, so a change of workload changes both alike
 * and their difference is the window's effect. The rules:
 * <ul>
 *   <li>The window starts at {@value #INITIAL_WINDOW} of the capacity, not 1%: on recency-heavy
 *       traces a 1% window loses to plain LRU while the climber is still far away (OLTP at 20,000
 *       entries: fixed windows of 20-60% beat LRU), and on frequency-heavy ones the climber walks
 *       down from there within a few periods.
 *   <li>Every sample period, {@value #SAMPLE_CAPACITIES} capacities of accesses and at least
 *       {@value #MIN_SAMPLE}, the window moves one step toward the model that hit more, and the
 *       models follow it (a window at a bound, {@value #MIN_WINDOW} or {@value #MAX_WINDOW}, has its
 *       smaller or larger model on the bound too). After a move the models need about a capacity
 *       of accesses to turn their contents over to their new windows, so a period of one capacity
 *       measured mostly that transition (a loop 10% longer than a 20,000-entry cache lost 2.3
 *       points with it); three capacities made the walk from the initial window to a loop's 1%
 *       floor slower (0.5 points lost there).
 *   <li>A move needs a significant difference: of the sampled accesses that hit in one model
 *       only, those of the better model must exceed those of the other by more than
 *       {@value #SIGMAS} standard deviations of a fair coin (McNemar's test: |larger-only -
 *       smaller-only| above 2 sqrt(larger-only + smaller-only)). Where the window makes no
 *       difference, chance alone makes the counts differ, and without the test the window moved
 *       nearly every period (39 of 40 on uniformly random keys).
 *   <li>The step does not decay and is not restarted: a comparison on the same accesses needs
 *       neither (the decay existed to damp the noise of comparing periods, and the restart to undo
 *       the decay after a shift).
 * </ul>
 * The models cost two sketch look-ups per duel and their own queue moves for sampled keys only,
 * under the policy lock (in the drain and in {@code put}, never on a reader's hit path), and
 * allocate nothing after construction; their memory is a few tens of bytes per modelled entry.
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
    private static final double STEP = 0.04;
    /** A move needs the two models' difference to exceed this many standard deviations. */
    private static final long SIGMAS = 2;
    private static final int SAMPLE_CAPACITIES = 2;
    private static final long MIN_SAMPLE = 10_000;
    /**
     * Each shadow policy models this many entries up to twice as many (the cache's expected entry
     * count over a power-of-two sampling rate; all its entries for a smaller cache).
     */
    private static final long SHADOW_ENTRIES = 1_000;
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
    /** Models of this policy with a window {@value #STEP} smaller and larger, on sampled keys. */
    private final ShadowPolicy smaller;
    private final ShadowPolicy larger;
    /** A key is replayed in the models when {@link ShadowPolicy#sampled} with this mask. */
    private final int shadowSampleMask;
    /** Sampled accesses of this period that hit in one model only. */
    private long smallerOnlyHits;
    private long largerOnlyHits;
    private long sampleAccesses;
    private long missesCounted;
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
        long sampling = Long.highestOneBit(Math.max(1, expectedEntries / SHADOW_ENTRIES));
        this.shadowSampleMask = (int) Math.min(1 << 20, sampling) - 1;
        int shadowEntries = (int) Math.min(2 * SHADOW_ENTRIES, expectedEntries / (shadowSampleMask + 1L));
        this.smaller = new ShadowPolicy(shadowEntries, PROTECTED_SHARE, sketch);
        this.larger = new ShadowPolicy(shadowEntries, PROTECTED_SHARE, sketch);
        setWindow(INITIAL_WINDOW);
    }

    /** Sets the window's share of the capacity, and the models' shares one step either side. */
    private void setWindow(double share) {
        windowShare = share;
        windowMaximum = (long) (maximum * share);
        protectedMaximum = (long) ((maximum - windowMaximum) * PROTECTED_SHARE);
        smaller.setWindow(Math.max(MIN_WINDOW, share - STEP));
        larger.setWindow(Math.min(MAX_WINDOW, share + STEP));
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
            recordAccess(key.hashCode());
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
        sampleAccesses += missesNow - missesCounted;
        missesCounted = missesNow;
        climb();
        for (int stripe = 0; stripe < STRIPES; stripe++) {
            long written = readWrites.get(stripe * COUNT_SPACING);
            long from = Math.max(readDrained[stripe], written - READ_BUFFER_SIZE);
            for (long i = from; i < written; i++) {
                int slot = stripe * READ_BUFFER_SIZE + (int) (i & (READ_BUFFER_SIZE - 1));
                Node<K, V> node = readBuffer.getAndSet(slot, null);
                if (node != null && !node.removed) {
                    recordAccess(node.key.hashCode());
                    onAccess(node);
                    sampleAccesses++;
                }
            }
            readDrained[stripe] = written;
        }
        climb();
    }

    /** Counts an access in the sketch and replays it in the climber's models if its key is sampled. */
    private void recordAccess(int hash) {
        sketch.increment(hash);
        if (ShadowPolicy.sampled(hash, shadowSampleMask)) {
            boolean smallerHit = smaller.access(hash);
            if (larger.access(hash) != smallerHit) {
                if (smallerHit) {
                    smallerOnlyHits++;
                } else {
                    largerOnlyHits++;
                }
            }
        }
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
            if (sketch.admits(candidate.key.hashCode(), victim.key.hashCode())) {
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
     * Once per sample period, moves the window one step toward the model that hit more, if the
     * difference is significant (see the class comment) and no bound stops the move; then starts
     * the next period's counts. Called with the lock held.
     */
    private void climb() {
        if (sampleAccesses < samplePeriod) {
            return;
        }
        sampleAccesses = 0;
        long difference = largerOnlyHits - smallerOnlyHits;
        long discordant = largerOnlyHits + smallerOnlyHits;
        smallerOnlyHits = 0;
        largerOnlyHits = 0;
        if (difference * difference <= SIGMAS * SIGMAS * discordant) {
            return;
        }
        double share = difference > 0 ? Math.min(MAX_WINDOW, windowShare + STEP)
                : Math.max(MIN_WINDOW, windowShare - STEP);
        if (share != windowShare) {
            setWindow(share);
            evict();
        }
    }
}
