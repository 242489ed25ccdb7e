package io.trainkv.memtable;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bump allocator over heap {@code ByteBuffer} chunks, addressed by {@code int} offsets, so that a
 * memtable of millions of entries costs a handful of objects instead of millions.
 *
 * <p>The offset space is cut into slots of {@code chunkSize} bytes. An allocation never spans two
 * buffers: when it does not fit in the current chunk, allocation moves to the next slot. An
 * allocation larger than a chunk gets a buffer of its own that covers several consecutive slots.
 * Offset {@link #NULL} is never handed out.
 *
 * <p>Allocation is thread-safe and lock-free within a chunk. Reads need no lock: a reader reaches an offset only through a link
 * published with release semantics after the bytes and the slot table were written.
 */
public final class Arena {

    /** The offset that means "no node". */
    public static final int NULL = 0;

    /** Every allocation is aligned to this many bytes so that int links can be updated by CAS. */
    static final int ALIGNMENT = 4;

    private final int chunkBits;
    private final ByteBuffer[] slots;
    private final int[] slotBase;
    /**
     * The bump pointer and the end of the current chunk, packed as {@code end << 32 | next} so that
     * one CAS hands out bytes and no allocation can straddle a chunk switch.
     */
    private final AtomicLong nextAndEnd = new AtomicLong();
    private final AtomicLong usedBytes = new AtomicLong();
    private volatile long allocatedBytes;

    /** An arena of chunks of {@code 2^chunkBits} bytes. */
    public Arena(int chunkBits) {
        if (chunkBits < 12 || chunkBits > 30) {
            throw new IllegalArgumentException("chunkBits must be in [12, 30]: " + chunkBits);
        }
        this.chunkBits = chunkBits;
        int slotCount = 1 << (31 - chunkBits);
        this.slots = new ByteBuffer[slotCount];
        this.slotBase = new int[slotCount];
        newBuffer(0, 1 << chunkBits);
        nextAndEnd.set(pack(ALIGNMENT, 1L << chunkBits)); // offset 0 stays NULL
    }

    /**
     * Reserves {@code size} bytes and returns their offset. Lock-free while the current chunk has
     * room (concurrent memtable inserts allocate in parallel); switching to a new chunk takes the
     * arena's monitor.
     *
     * @throws ArenaFullException when the 2 GiB offset space is exhausted
     */
    public int allocate(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("allocation size must be positive: " + size);
        }
        long aligned = ((long) size + ALIGNMENT - 1) & -ALIGNMENT;
        while (true) {
            long current = nextAndEnd.get();
            long next = current & 0xFFFF_FFFFL;
            long end = current >>> 32;
            if (next + aligned <= end) {
                if (nextAndEnd.compareAndSet(current, pack(next + aligned, end))) {
                    usedBytes.addAndGet(aligned);
                    return (int) next;
                }
            } else {
                int offset = allocateInNewChunk(current, aligned);
                if (offset != NULL) {
                    return offset;
                }
            }
        }
    }

    /**
     * Starts a new chunk holding the {@code aligned} bytes, unless another thread switched chunks
     * since {@code seen} was read; then returns {@link Arena#NULL} and the caller tries again.
     */
    private synchronized int allocateInNewChunk(long seen, long aligned) {
        long end = seen >>> 32;
        if (nextAndEnd.get() >>> 32 != end) {
            return NULL;
        }
        long chunkSize = 1L << chunkBits;
        long base = (end + chunkSize - 1) & -chunkSize;
        long capacity = Math.max(chunkSize, aligned);
        if (base + capacity > Integer.MAX_VALUE) {
            throw new ArenaFullException("memtable arena is full (2 GiB of offsets used)");
        }
        newBuffer((int) base, (int) capacity);
        nextAndEnd.set(pack(base + aligned, base + capacity)); // allocations in the old chunk now fail their CAS
        usedBytes.addAndGet(aligned);
        return (int) base;
    }

    private static long pack(long next, long end) {
        return end << 32 | next;
    }

    private void newBuffer(int base, int capacity) {
        ByteBuffer buffer = ByteBuffer.allocate(capacity);
        int first = base >>> chunkBits;
        int count = (int) ((capacity + (1L << chunkBits) - 1) >>> chunkBits);
        for (int s = first; s < first + count; s++) {
            slotBase[s] = base;
            slots[s] = buffer;
        }
        allocatedBytes += capacity;
    }

    /** The buffer holding {@code offset}. */
    ByteBuffer buffer(int offset) {
        return slots[offset >>> chunkBits];
    }

    /** The position of {@code offset} inside {@link #buffer(int)}. */
    int position(int offset) {
        return offset - slotBase[offset >>> chunkBits];
    }

    /** Bytes handed out so far (aligned sizes). */
    public long usedBytes() {
        return usedBytes.get();
    }

    /** Bytes of buffers allocated from the heap. */
    public long allocatedBytes() {
        return allocatedBytes;
    }
}
