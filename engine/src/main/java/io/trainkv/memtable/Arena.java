package io.trainkv.memtable;

import java.nio.ByteBuffer;

/**
 * Bump allocator over heap {@code ByteBuffer} chunks, addressed by {@code int} offsets, so that a
 * memtable of millions of entries costs a handful of objects instead of millions.
 *
 * <p>The offset space is cut into slots of {@code chunkSize} bytes. An allocation never spans two
 * buffers: when it does not fit in the current chunk, allocation moves to the next slot. An
 * allocation larger than a chunk gets a buffer of its own that covers several consecutive slots.
 * Offset {@link #NULL} is never handed out.
 *
 * <p>Allocation is thread-safe. Reads need no lock: a reader reaches an offset only through a link
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
    private long next;
    private long currentEnd;
    private long allocatedBytes;
    private long usedBytes;

    /** An arena of chunks of {@code 2^chunkBits} bytes. */
    public Arena(int chunkBits) {
        if (chunkBits < 12 || chunkBits > 30) {
            throw new IllegalArgumentException("chunkBits must be in [12, 30]: " + chunkBits);
        }
        this.chunkBits = chunkBits;
        int slotCount = 1 << (31 - chunkBits);
        this.slots = new ByteBuffer[slotCount];
        this.slotBase = new int[slotCount];
        this.next = ALIGNMENT; // offset 0 stays NULL
        newBuffer(0, 1 << chunkBits);
    }

    /**
     * Reserves {@code size} bytes and returns their offset.
     *
     * @throws ArenaFullException when the 2 GiB offset space is exhausted
     */
    public synchronized int allocate(int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("allocation size must be positive: " + size);
        }
        long aligned = ((long) size + ALIGNMENT - 1) & -ALIGNMENT;
        if (next + aligned <= currentEnd) {
            int offset = (int) next;
            next += aligned;
            usedBytes += aligned;
            return offset;
        }
        long chunkSize = 1L << chunkBits;
        long base = (currentEnd + chunkSize - 1) & -chunkSize;
        long capacity = Math.max(chunkSize, aligned);
        if (base + capacity > Integer.MAX_VALUE) {
            throw new ArenaFullException("memtable arena is full (2 GiB of offsets used)");
        }
        newBuffer((int) base, (int) capacity);
        next = base + aligned;
        usedBytes += aligned;
        return (int) base;
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
        currentEnd = (long) base + capacity;
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
    public synchronized long usedBytes() {
        return usedBytes;
    }

    /** Bytes of buffers allocated from the heap. */
    public synchronized long allocatedBytes() {
        return allocatedBytes;
    }
}
