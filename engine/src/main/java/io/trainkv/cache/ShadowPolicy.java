package io.trainkv.cache;

/**
 * A key-only model of {@link WTinyLfuCache}'s policy with a window share of its own, replayed on a
 * sample of the cache's keys: the cache's hill climber keeps two, one with a smaller window and one
 * with a larger window than the cache's, feeds both the same sampled accesses, and moves the
 * cache's window toward the one that hit more. Comparing two windows on the same accesses measures
 * the effect of the window alone; comparing the cache's hit rate between consecutive periods (the
 * climber before) also measured every change of the workload between the periods, and a workload
 * whose phases were not aligned with the periods steered the window at random.
 *
 * <p>Sampling keys by hash and scaling the model down with them is the miniature simulation of
 * Waldspurger, Saemundsson, Ahmad and Park, "Cache Modeling and Optimization using Miniature
 * Simulations", USENIX ATC 2017: a model of a cache R times smaller, fed the accesses to one key in
 * R, predicts the full cache's hit rate closely.
 *
 * <p>The model holds keys only (their 32-bit hashes; two keys with one hash count as one), every
 * entry of weight one: its capacity is the cache's expected entry count divided by the sampling
 * rate, so it stands for a cache of entries of the typical size. It has the cache's queues (window
 * LRU, then a segmented LRU of probation and protected, 20/80) and its admission duel, decided by the
 * cache's own {@link FrequencySketch} (which counts every access, sampled or not). All storage is
 * allocated up front: an access allocates nothing.
 *
 * <p>Not thread-safe: the cache calls it with its policy lock held.
 */
final class ShadowPolicy {

    private static final int NONE = -1;
    private static final int WINDOW = 0;
    private static final int PROBATION = 1;
    private static final int PROTECTED = 2;

    private final FrequencySketch sketch;
    private final int capacity;
    private final double protectedShare;
    /** Per entry index: the key's hash, its neighbours in its queue, and which queue. */
    private final int[] keys;
    private final int[] prev;
    private final int[] next;
    private final byte[] queueOf;
    /** Indexes not in use, a stack of {@code free} entries. */
    private final int[] freeIndexes;
    private int free;
    /** Open addressing, linear probing: entry index + 1, or 0 for an empty slot. */
    private final int[] table;
    private final int tableMask;
    private final int[] head = {NONE, NONE, NONE};
    private final int[] tail = {NONE, NONE, NONE};
    private final int[] size = new int[3];
    private int windowMaximum;
    private int protectedMaximum;

    /**
     * A model holding at most {@code capacity} entries (at least 1) whose admission asks
     * {@code sketch}; {@code protectedShare} is the protected segment's share of the main space.
     */
    ShadowPolicy(int capacity, double protectedShare, FrequencySketch sketch) {
        if (capacity < 1) {
            throw new IllegalArgumentException("shadow capacity must be at least 1: " + capacity);
        }
        this.sketch = sketch;
        this.capacity = capacity;
        this.protectedShare = protectedShare;
        int entries = capacity + 1;
        keys = new int[entries];
        prev = new int[entries];
        next = new int[entries];
        queueOf = new byte[entries];
        freeIndexes = new int[entries];
        for (int i = 0; i < entries; i++) {
            freeIndexes[i] = entries - 1 - i;
        }
        free = entries;
        int slots = Integer.highestOneBit(entries * 2 - 1) << 1;
        table = new int[slots];
        tableMask = slots - 1;
    }

    /**
     * Whether the key with this hash is in the sample of {@code 1 / (sampleMask + 1)} of all keys
     * (the mask is a power of two minus one) that the models replay; independent of the sketch's
     * and the model's own hashing.
     */
    static boolean sampled(int hash, int sampleMask) {
        long h = (hash ^ 0x2545F491L) * 0x9E3779B97F4A7C15L;
        return ((int) (h >>> 40) & sampleMask) == 0;
    }

    /** Sets the window's share of the capacity (0 to 1) and evicts what no longer fits. */
    void setWindow(double share) {
        windowMaximum = (int) (capacity * share);
        protectedMaximum = (int) ((capacity - windowMaximum) * protectedShare);
        evict();
    }

    /** The window's capacity in entries. */
    int windowMaximum() {
        return windowMaximum;
    }

    /** Whether the key with this hash is held. */
    boolean contains(int hash) {
        return find(hash) != NONE;
    }

    /**
     * Replays one access (the cache has already counted it in the sketch): a hit moves the entry as
     * the cache would, a miss inserts it into the window and evicts as the cache would. Returns
     * whether it was a hit.
     */
    boolean access(int hash) {
        int node = find(hash);
        if (node != NONE) {
            onAccess(node);
            return true;
        }
        node = freeIndexes[--free];
        keys[node] = hash;
        int slot = home(hash);
        while (table[slot] != 0) {
            slot = (slot + 1) & tableMask;
        }
        table[slot] = node + 1;
        addLast(WINDOW, node);
        evict();
        return false;
    }

    private void onAccess(int node) {
        switch (queueOf[node]) {
            case WINDOW -> moveToLast(WINDOW, node);
            case PROBATION -> {
                remove(node);
                addLast(PROTECTED, node);
                while (size[PROTECTED] > protectedMaximum && head[PROTECTED] != NONE) {
                    int demoted = head[PROTECTED];
                    remove(demoted);
                    addLast(PROBATION, demoted);
                }
            }
            default -> moveToLast(PROTECTED, node);
        }
    }

    /** The cache's eviction: window overflow becomes candidates that duel the probation victims. */
    private void evict() {
        int candidates = 0;
        while (size[WINDOW] > windowMaximum && head[WINDOW] != NONE) {
            int node = head[WINDOW];
            remove(node);
            addLast(PROBATION, node);
            candidates++;
        }
        int candidate = candidates > 0 ? tail[PROBATION] : NONE;
        while (size[WINDOW] + size[PROBATION] + size[PROTECTED] > capacity) {
            int victim = head[PROBATION];
            if (victim == NONE) {
                drop(head[PROTECTED] != NONE ? head[PROTECTED] : head[WINDOW]);
                continue;
            }
            if (candidate == NONE || candidates == 0 || victim == candidate) {
                drop(victim);
                continue;
            }
            int previousCandidate = prev[candidate];
            if (sketch.admits(keys[candidate], keys[victim])) {
                drop(victim);
            } else {
                drop(candidate);
                candidate = previousCandidate;
                candidates--;
            }
        }
    }

    private int find(int hash) {
        int slot = home(hash);
        while (table[slot] != 0) {
            int node = table[slot] - 1;
            if (keys[node] == hash) {
                return node;
            }
            slot = (slot + 1) & tableMask;
        }
        return NONE;
    }

    /** Removes the entry from its queue and the table (closing the probe gap) and frees its index. */
    private void drop(int node) {
        remove(node);
        int gap = home(keys[node]);
        while (table[gap] != node + 1) {
            gap = (gap + 1) & tableMask;
        }
        int slot = gap;
        while (true) {
            slot = (slot + 1) & tableMask;
            if (table[slot] == 0) {
                break;
            }
            int home = home(keys[table[slot] - 1]);
            if (((slot - home) & tableMask) >= ((slot - gap) & tableMask)) {
                table[gap] = table[slot];
                gap = slot;
            }
        }
        table[gap] = 0;
        freeIndexes[free++] = node;
    }

    private int home(int hash) {
        int h = hash * 0x9E3779B9;
        return (h ^ (h >>> 16)) & tableMask;
    }

    private void addLast(int queue, int node) {
        queueOf[node] = (byte) queue;
        prev[node] = tail[queue];
        next[node] = NONE;
        if (tail[queue] == NONE) {
            head[queue] = node;
        } else {
            next[tail[queue]] = node;
        }
        tail[queue] = node;
        size[queue]++;
    }

    private void remove(int node) {
        int queue = queueOf[node];
        if (prev[node] == NONE) {
            head[queue] = next[node];
        } else {
            next[prev[node]] = next[node];
        }
        if (next[node] == NONE) {
            tail[queue] = prev[node];
        } else {
            prev[next[node]] = prev[node];
        }
        size[queue]--;
    }

    private void moveToLast(int queue, int node) {
        remove(node);
        addLast(queue, node);
    }
}
