package io.trainkv.memtable;

import io.trainkv.util.Prepared;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bump allocator over heap {@code ByteBuffer} chunks, addressed by {@code int} offsets, so that a
 * memtable of millions of entries costs a handful of objects instead of millions.
 *
 * <p>The offset space is cut into slots of {@code chunkSize} bytes. A chunk's buffer holds
 * {@link #HEADROOM} bytes less than its slot, so that the array and its header fit a heap region
 * of the slot's size: G1 allocates an array of half a region or more in whole regions of its own
 * (a humongous object), and an array of exactly 1 MiB with its 16-byte header would take two
 * 1 MiB regions, doubling the heap a memtable holds. An allocation never spans two buffers: when
 * it does not fit in the current chunk, allocation moves to the next slot. An allocation larger
 * than a chunk's buffer gets a buffer of its own that covers several consecutive slots. Offset
 * {@link #NULL} is never handed out.
 *
 * <p>Once allocation has moved past the first chunk, the next chunk is allocated ahead on a
 * background thread ({@link Prepared}): a fresh chunk costs its zeroing and the page faults of
 * its first touch, as much as thousands of inserts, and the writer should not pay for them.
 * Chunks are never reused: a chunk is reachable from the arena's memtable for as long as any
 * reader holds it, and garbage after that (as is the chunk allocated ahead when the memtable
 * stops growing).
 *
 * <p>Allocation is thread-safe and lock-free within a chunk. Reads need no lock: a reader reaches an offset only through a link
 * published with release semantics after the bytes and the slot table were written.
 */
public final class Arena {

    /** The offset that means "no node". */
    public static final int NULL = 0;

    /** Every allocation is aligned to this many bytes so that int links can be updated by CAS. */
    static final int ALIGNMENT = 4;

    /** Bytes of each slot a chunk's buffer leaves unused (room for the array's header). */
    static final int HEADROOM = 64;

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
    /** The next chunk, being allocated ahead; null until the first chunk switch. Guarded by this. */
    private Prepared<ByteBuffer> nextChunk;

    /** An arena of chunks of {@code 2^chunkBits} bytes. */
    public Arena(int chunkBits) {
        if (chunkBits < 12 || chunkBits > 30) {
            throw new IllegalArgumentException("chunkBits must be in [12, 30]: " + chunkBits);
        }
        this.chunkBits = chunkBits;
        int slotCount = 1 << (31 - chunkBits);
        this.slots = new ByteBuffer[slotCount];
        this.slotBase = new int[slotCount];
        installBuffer(0, ByteBuffer.allocate(chunkCapacity()));
        nextAndEnd.set(pack(ALIGNMENT, chunkCapacity())); // offset 0 stays NULL
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
        boolean fitsAChunk = aligned <= chunkCapacity();
        long capacity = fitsAChunk ? chunkCapacity() : aligned;
        if (base + capacity > Integer.MAX_VALUE) {
            throw new ArenaFullException("memtable arena is full (2 GiB of offsets used)");
        }
        installBuffer((int) base, fitsAChunk ? takeChunk() : ByteBuffer.allocate((int) capacity));
        nextAndEnd.set(pack(base + aligned, base + capacity)); // allocations in the old chunk now fail their CAS
        usedBytes.addAndGet(aligned);
        return (int) base;
    }

    /** Bytes of a chunk's buffer: its slot less {@link #HEADROOM}. */
    int chunkCapacity() {
        return (1 << chunkBits) - HEADROOM;
    }

    private static long pack(long next, long end) {
        return end << 32 | next;
    }

    /**
     * A chunk-sized buffer: the one allocated ahead if there is one (allocated here if the
     * background thread has not started on it, or failed), and starts allocating the next.
     */
    private ByteBuffer takeChunk() {
        int size = chunkCapacity();
        ByteBuffer chunk = null;
        if (nextChunk != null) {
            try {
                chunk = nextChunk.take();
            } catch (ExecutionException e) {
                // an OutOfMemoryError on the background thread: the allocation below throws its own
            }
        }
        if (chunk == null) {
            chunk = ByteBuffer.allocate(size);
        }
        nextChunk = Prepared.start(() -> ByteBuffer.allocate(size));
        return chunk;
    }

    private void installBuffer(int base, ByteBuffer buffer) {
        int capacity = buffer.capacity();
        int first = base >>> chunkBits;
        int count = (int) ((capacity + (1L << chunkBits) - 1) >>> chunkBits);
        for (int s = first; s < first + count; s++) {
            slotBase[s] = base;
            slots[s] = buffer;
        }
        allocatedBytes += capacity;
    }

    /** Whether the next chunk has been allocated ahead and is waiting for the next chunk switch. */
    synchronized boolean nextChunkReady() {
        return nextChunk != null && nextChunk.isDone();
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
