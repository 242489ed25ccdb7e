package io.trainkv.memtable;

import io.trainkv.util.Prepared;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Bump allocator over heap {@code byte[]} chunks, addressed by {@code int} offsets, so that a
 * memtable of millions of entries costs a handful of objects instead of millions. Each chunk is
 * reachable as its array ({@link #array(int)}, what the memtable reads and writes) and as a
 * {@code ByteBuffer} wrapping it ({@link #buffer(int)}, what iterators hand to value decoding).
 *
 * <p>The offset space is cut into slots of {@code chunkSize} bytes. A chunk's array holds
 * {@link #HEADROOM} bytes less than its slot, so that the array and its header fit a heap region
 * of the slot's size: G1 allocates an array of half a region or more in whole regions of its own
 * (a humongous object), and an array of exactly 1 MiB with its 16-byte header would take two
 * 1 MiB regions, doubling the heap a memtable holds. An allocation never spans two arrays: when
 * it does not fit in the current chunk, allocation moves to the next slot. An allocation larger
 * than a chunk's array gets an array of its own that covers several consecutive slots. Offset
 * {@link #NULL} is never handed out.
 *
 * <p>At each chunk switch the next chunk is allocated ahead on a background thread
 * ({@link Prepared}): a fresh chunk costs its zeroing and the page faults of its first touch, as
 * much as thousands of inserts, and the writer should not pay for them. An arena expected to
 * outgrow its first chunk (see {@link #Arena(int, boolean)}) starts on the second one when half
 * of the first is handed out: otherwise the first switch allocated it on the writer (4–8 ms, once
 * per 64 MiB memtable, in a 300,000 × 1 KiB fill).
 * Chunks are never reused: a chunk is reachable from the arena's memtable for as long as any
 * reader holds it, and garbage after that (as is the chunk allocated ahead when the memtable
 * stops growing).
 *
 * <p>An allocation can ask for an aligned point inside it ({@link #allocate(int, int, int)}): the
 * memtable places the bytes a skip-list comparison reads in one aligned 16-byte window so that
 * they never straddle a cache line. Alignment is of offsets within a chunk's array; a chunk of
 * half a G1 region or more is a humongous object that starts at a region boundary, so its
 * elements are aligned in memory as their offsets are (shifted by the array header's 16 bytes).
 * Elsewhere (a smaller chunk, another collector) the window is still 8-aligned, and 16-aligned
 * when the array happens to be: fewer windows straddle a line than without alignment, never more.
 *
 * <p>Allocation is thread-safe and lock-free within a chunk. Reads need no lock: a reader reaches an offset only through a link
 * published with release semantics after the bytes and the slot table were written.
 */
public final class Arena {

    /** The offset that means "no node". */
    public static final int NULL = 0;

    /** Every allocation is aligned to this many bytes so that int links can be updated by CAS. */
    static final int ALIGNMENT = 4;

    /** Bytes of each slot a chunk's array leaves unused (room for the array's header). */
    static final int HEADROOM = 64;

    private final int chunkBits;
    private final byte[][] slots;
    /** A {@code ByteBuffer} wrapping each slot's array, one per chunk. */
    private final ByteBuffer[] buffers;
    private final int[] slotBase;
    /**
     * The bump pointer and the end of the current chunk, packed as {@code end << 32 | next} so that
     * one CAS hands out bytes and no allocation can straddle a chunk switch.
     */
    private final AtomicLong nextAndEnd = new AtomicLong();
    private final AtomicLong usedBytes = new AtomicLong();
    private volatile long allocatedBytes;
    /** The next chunk, being allocated ahead; null until it is first asked for. Guarded by this. */
    private Prepared<byte[]> nextChunk;
    /** Offset at which the second chunk is asked for ahead: half the first chunk, or never ({@link Integer#MAX_VALUE}). */
    private final int secondChunkAheadAt;

    /** An arena of chunks of {@code 2^chunkBits} bytes that allocates its second chunk only when it needs it. */
    public Arena(int chunkBits) {
        this(chunkBits, false);
    }

    /**
     * An arena of chunks of {@code 2^chunkBits} bytes; with {@code outgrowsFirstChunk} (it is
     * expected to hold more than one chunk), its second chunk is allocated ahead, on a background
     * thread, once half of the first is handed out.
     */
    public Arena(int chunkBits, boolean outgrowsFirstChunk) {
        if (chunkBits < 12 || chunkBits > 30) {
            throw new IllegalArgumentException("chunkBits must be in [12, 30]: " + chunkBits);
        }
        this.chunkBits = chunkBits;
        int slotCount = 1 << (31 - chunkBits);
        this.slots = new byte[slotCount][];
        this.buffers = new ByteBuffer[slotCount];
        this.slotBase = new int[slotCount];
        installChunk(0, new byte[chunkCapacity()]);
        nextAndEnd.set(pack(ALIGNMENT, chunkCapacity())); // offset 0 stays NULL
        secondChunkAheadAt = outgrowsFirstChunk ? chunkCapacity() / 2 : Integer.MAX_VALUE;
    }

    /**
     * Reserves {@code size} bytes and returns their offset. Lock-free while the current chunk has
     * room (concurrent memtable inserts allocate in parallel); switching to a new chunk takes the
     * arena's monitor.
     *
     * @throws ArenaFullException when the 2 GiB offset space is exhausted
     */
    public int allocate(int size) {
        return allocate(size, ALIGNMENT, 0);
    }

    /**
     * Reserves {@code size} bytes at an offset {@code o} such that {@code o + alignedAt} is a
     * multiple of {@code alignment}, and returns {@code o}. The bytes skipped to get there (at
     * most {@code alignment - }{@value #ALIGNMENT}) count as used. Thread-safety as for
     * {@link #allocate(int)}.
     *
     * @param alignment a power of two from {@value #ALIGNMENT} to 64 (bytes)
     * @param alignedAt a multiple of {@value #ALIGNMENT} below {@code size} (bytes)
     * @throws ArenaFullException when the 2 GiB offset space is exhausted
     * @throws IllegalArgumentException if {@code size} is not positive or the alignment arguments
     *     are out of range
     */
    public int allocate(int size, int alignment, int alignedAt) {
        if (size <= 0) {
            throw new IllegalArgumentException("allocation size must be positive: " + size);
        }
        if (alignment < ALIGNMENT || alignment > 64 || Integer.bitCount(alignment) != 1
                || alignedAt < 0 || alignedAt >= size || alignedAt % ALIGNMENT != 0) {
            throw new IllegalArgumentException("bad alignment " + alignment + " at " + alignedAt + " of " + size);
        }
        long aligned = ((long) size + ALIGNMENT - 1) & -ALIGNMENT;
        while (true) {
            long current = nextAndEnd.get();
            long next = current & 0xFFFF_FFFFL;
            long end = current >>> 32;
            long start = next + (-(next + alignedAt) & (alignment - 1));
            if (start + aligned <= end) {
                if (nextAndEnd.compareAndSet(current, pack(start + aligned, end))) {
                    usedBytes.addAndGet(start + aligned - next);
                    if (start < secondChunkAheadAt && start + aligned >= secondChunkAheadAt) { // one allocation crosses it
                        askForNextChunk();
                    }
                    return (int) start;
                }
            } else {
                int offset = allocateInNewChunk(current, aligned, -alignedAt & (alignment - 1));
                if (offset != NULL) {
                    return offset;
                }
            }
        }
    }

    /**
     * Starts a new chunk holding the {@code aligned} bytes after {@code padding} bytes (the new
     * chunk's base is a multiple of every alignment), unless another thread switched chunks since
     * {@code seen} was read; then returns {@link Arena#NULL} and the caller tries again.
     */
    private synchronized int allocateInNewChunk(long seen, long aligned, long padding) {
        long end = seen >>> 32;
        if (nextAndEnd.get() >>> 32 != end) {
            return NULL;
        }
        long chunkSize = 1L << chunkBits;
        long base = (end + chunkSize - 1) & -chunkSize;
        long needed = padding + aligned;
        boolean fitsAChunk = needed <= chunkCapacity();
        long capacity = fitsAChunk ? chunkCapacity() : needed;
        if (base + capacity > Integer.MAX_VALUE) {
            throw new ArenaFullException("memtable arena is full (2 GiB of offsets used)");
        }
        installChunk((int) base, fitsAChunk ? takeChunk() : new byte[(int) capacity]);
        nextAndEnd.set(pack(base + needed, base + capacity)); // allocations in the old chunk now fail their CAS
        usedBytes.addAndGet(needed);
        return (int) (base + padding);
    }

    /** Bytes of a chunk's array: its slot less {@link #HEADROOM}. */
    int chunkCapacity() {
        return (1 << chunkBits) - HEADROOM;
    }

    private static long pack(long next, long end) {
        return end << 32 | next;
    }

    /** Starts allocating the next chunk ahead unless that has started already. */
    private synchronized void askForNextChunk() {
        if (nextChunk == null) {
            int size = chunkCapacity();
            nextChunk = Prepared.start(() -> new byte[size]);
        }
    }

    /**
     * A chunk-sized array: the one allocated ahead if there is one (allocated here if the
     * background thread has not started on it, or failed), and starts allocating the next.
     */
    private byte[] takeChunk() {
        int size = chunkCapacity();
        byte[] chunk = null;
        if (nextChunk != null) {
            try {
                chunk = nextChunk.take();
            } catch (ExecutionException e) {
                // an OutOfMemoryError on the background thread: the allocation below throws its own
            }
        }
        if (chunk == null) {
            chunk = new byte[size];
        }
        nextChunk = null;
        askForNextChunk();
        return chunk;
    }

    private void installChunk(int base, byte[] chunk) {
        int capacity = chunk.length;
        ByteBuffer buffer = ByteBuffer.wrap(chunk);
        int first = base >>> chunkBits;
        int count = (int) ((capacity + (1L << chunkBits) - 1) >>> chunkBits);
        for (int s = first; s < first + count; s++) {
            slotBase[s] = base;
            buffers[s] = buffer;
            slots[s] = chunk;
        }
        allocatedBytes += capacity;
    }

    /** Whether the next chunk has been allocated ahead and is waiting for the next chunk switch. */
    synchronized boolean nextChunkReady() {
        return nextChunk != null && nextChunk.isDone();
    }

    /** The array holding {@code offset}. */
    byte[] array(int offset) {
        return slots[offset >>> chunkBits];
    }

    /** A buffer wrapping {@link #array(int)} (position 0, the whole array). */
    ByteBuffer buffer(int offset) {
        return buffers[offset >>> chunkBits];
    }

    /** The position of {@code offset} inside {@link #array(int)} and {@link #buffer(int)}. */
    int position(int offset) {
        return offset - slotBase[offset >>> chunkBits];
    }

    /** Bytes handed out so far (aligned sizes). */
    public long usedBytes() {
        return usedBytes.get();
    }

    /** Bytes of chunk arrays allocated from the heap. */
    public long allocatedBytes() {
        return allocatedBytes;
    }
}
