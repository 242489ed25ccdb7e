package io.trainkv.memtable;

import io.trainkv.util.Prepared;
import java.nio.ByteBuffer;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

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
 * it does not fit in the current chunk, allocation moves to the next chunk. An allocation larger
 * than a chunk's array gets an array of its own that covers several fresh slots, and the current
 * chunk stays current. Offset {@link #NULL} is never handed out.
 *
 * <p>The next chunk is asked for ahead: its slot is taken then, and its array is allocated on a
 * background thread ({@link Prepared}): a fresh chunk costs its zeroing and the page faults of its
 * first touch, as much as thousands of inserts, and the writer should not pay for them. An arena
 * expected to outgrow its first chunk (see {@link #Arena(int, boolean)}) asks for the second one
 * when half of the first is handed out: otherwise the first switch allocated it on the writer
 * (4–8 ms, once per 64 MiB memtable, in a 300,000 × 1 KiB fill). Each chunk switch asks for the
 * one after, so one chunk at most is ahead.
 *
 * <p>A chunk switch takes no lock: every thread that finds the current chunk full installs the
 * chunk ahead in its slot (the same array in the same slot, so any number may) and then tries
 * one CAS of the bump pointer to it; the winner hands out its first bytes and asks for the next
 * chunk, the others allocate in the new chunk. A thread stopped (preempted) before its CAS holds
 * up no other, as the thread holding a monitor did. A switch still waits for an array that is not
 * made yet (it makes it itself if the background thread has not started on it, and otherwise
 * waits for the thread making it), and yields while the winner of the last switch asks for the
 * next chunk (a few instructions, unless the winner is stopped there and the new chunk fills up
 * meanwhile). If asking for a chunk fails, none is left asked for, and the next switch asks again.
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
 * <p>Allocation is thread-safe and takes no lock. Reads need no lock: a reader reaches an offset
 * only through a link published with release semantics after the bytes were written, and the slot
 * table entries of an array are written before any offset in it is handed out (for a chunk,
 * before the CAS that switches to it).
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
     * one CAS hands out bytes, no allocation can straddle a chunk switch, and one CAS switches chunks.
     */
    private final AtomicLong nextAndEnd = new AtomicLong();
    private final AtomicLong usedBytes = new AtomicLong();
    private final AtomicLong allocatedBytes = new AtomicLong();
    /** The first slot no array has been given yet: chunks ahead and oversized allocations take slots from it. */
    private final AtomicInteger freeSlot = new AtomicInteger(1);
    /**
     * The next chunk, its slot taken and its array being made ahead; null when none is asked for
     * (before the first ask, and after an ask failed), {@link #ASKING} while one is being asked for
     * from null. Set by the thread that moved it from null to {@link #ASKING}, by the thread that
     * wins each chunk switch, and, same slot, by a thread that found making its array failed.
     */
    private final AtomicReference<ChunkAhead> ahead = new AtomicReference<>();
    /** Offset at which the second chunk is asked for ahead: half the first chunk, or never ({@link Integer#MAX_VALUE}). */
    private final int secondChunkAheadAt;
    /** Runs in every chunk switch between installing the next chunk and the CAS that switches to it (a test hook). */
    private final Runnable inSwitch;

    /**
     * A chunk asked for ahead: the offset of the slot taken for it, and its array being made on
     * the background thread. One instance per slot, so installing it is idempotent.
     */
    private static final class ChunkAhead {
        /** Offset of the chunk's slot, or -1 when the offset space has no slot left for it. */
        final int base;
        /** Makes the chunk's array and its buffer; null when {@code base} is -1. */
        final Prepared<ByteBuffer> buffer;

        ChunkAhead(int base, Prepared<ByteBuffer> buffer) {
            this.base = base;
            this.buffer = buffer;
        }
    }

    /** {@link #ahead} while a chunk is being asked for where none was (the second, or after a failed ask). */
    private static final ChunkAhead ASKING = new ChunkAhead(-1, null);

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
        this(chunkBits, outgrowsFirstChunk, () -> { });
    }

    /** As {@link #Arena(int, boolean)}, running {@code inSwitch} in every chunk switch before its CAS. */
    Arena(int chunkBits, boolean outgrowsFirstChunk, Runnable inSwitch) {
        if (chunkBits < 12 || chunkBits > 30) {
            throw new IllegalArgumentException("chunkBits must be in [12, 30]: " + chunkBits);
        }
        this.chunkBits = chunkBits;
        int slotCount = 1 << (31 - chunkBits);
        this.slots = new byte[slotCount][];
        this.buffers = new ByteBuffer[slotCount];
        this.slotBase = new int[slotCount];
        this.inSwitch = inSwitch;
        install(0, ByteBuffer.wrap(new byte[chunkCapacity()]));
        allocatedBytes.set(chunkCapacity());
        nextAndEnd.set(pack(ALIGNMENT, chunkCapacity())); // offset 0 stays NULL
        secondChunkAheadAt = outgrowsFirstChunk ? chunkCapacity() / 2 : Integer.MAX_VALUE;
    }

    /**
     * Reserves {@code size} bytes and returns their offset. Takes no lock: concurrent memtable
     * inserts allocate in parallel, and a chunk switch is a CAS that no thread waits for another
     * to finish. An allocation waits only when the next chunk's array is still being made on
     * another thread, or for the few instructions between a switch and its asking for the next.
     *
     * @throws ArenaFullException when the 2 GiB offset space is exhausted
     * @throws OutOfMemoryError when making the next chunk's array failed (the next allocation that
     *     needs it asks again)
     */
    public int allocate(int size) {
        return allocate(size, ALIGNMENT, 0);
    }

    /**
     * Reserves {@code size} bytes at an offset {@code o} such that {@code o + alignedAt} is a
     * multiple of {@code alignment}, and returns {@code o}. The bytes skipped to get there (at
     * most {@code alignment - }{@value #ALIGNMENT}) count as used. Thread-safety and exceptions as
     * for {@link #allocate(int)}.
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
                        askForSecondChunk();
                    }
                    return (int) start;
                }
            } else {
                int offset = allocateOutsideChunk(current, aligned, -alignedAt & (alignment - 1));
                if (offset != NULL) {
                    return offset;
                }
            }
        }
    }

    /**
     * Places the {@code aligned} bytes after {@code padding} bytes (a slot's base is a multiple of
     * every alignment) in the next chunk or, if they do not fit a chunk, in an array of their own;
     * returns the offset after the padding, or {@link #NULL} when the caller must try again (see
     * {@link #switchChunk}). Out of line so that the fast path stays small enough to inline.
     */
    private int allocateOutsideChunk(long seen, long aligned, long padding) {
        if (padding + aligned > chunkCapacity()) {
            return allocateOwnArray(aligned, padding);
        }
        return switchChunk(seen, padding + aligned, padding);
    }

    /**
     * Switches allocation to the chunk ahead, handing out its first {@code needed} bytes, and
     * returns the offset {@code padding} bytes into them; returns {@link #NULL} when the caller
     * must try again: another thread switched since {@code seen} was read, or the chunk ahead is
     * not asked for yet. Every thread that gets here installs the chunk ahead (the same array in
     * the same slot) before its CAS, so a thread stopped before its CAS holds up no other; a
     * winner stopped between its CAS and asking for the next chunk holds up the next switch.
     */
    private int switchChunk(long seen, long needed, long padding) {
        ChunkAhead chunk = ahead.get();
        if (chunk == null) {
            // the first switch of an arena not expected to outgrow its first chunk, or asking failed
            if (ahead.compareAndSet(null, ASKING)) {
                Throwable failure = askAhead();
                if (failure instanceof Error error) {
                    throw error;
                } else if (failure != null) {
                    throw (RuntimeException) failure;
                }
            }
            return NULL;
        }
        if (chunk == ASKING || (chunk.base >= 0 && chunk.base < seen >>> 32)) {
            Thread.yield(); // the thread asking for it, or that has just switched to it, sets the next one
            return NULL;
        }
        if (chunk.base < 0) {
            throw new ArenaFullException("memtable arena is full (2 GiB of offsets used)");
        }
        if (nextAndEnd.get() != seen) {
            return NULL; // another thread switched or allocated: no need to make or wait for the array
        }
        install(chunk.base, take(chunk));
        inSwitch.run();
        long capacity = chunkCapacity();
        if (!nextAndEnd.compareAndSet(seen, pack(chunk.base + needed, chunk.base + capacity))) {
            return NULL;
        }
        usedBytes.addAndGet(needed);
        allocatedBytes.addAndGet(capacity);
        askAhead(); // a failure leaves none asked for: the next switch asks again and meets it
        return (int) (chunk.base + padding);
    }

    /**
     * The chunk's buffer: made on the background thread, or here if it has not started on it,
     * waiting for it if it is being made on another thread. If making it failed, asks again (the
     * same slot) for the next allocation and throws the failure.
     */
    private ByteBuffer take(ChunkAhead chunk) {
        try {
            return chunk.buffer.take();
        } catch (ExecutionException e) {
            if (ahead.get() == chunk) { // asks again (two threads may both: the loser's array is garbage)
                ahead.compareAndSet(chunk, new ChunkAhead(chunk.base, prepareChunk()));
            }
            if (e.getCause() instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("making a memtable arena chunk failed", e.getCause());
        }
    }

    /**
     * Gives the {@code aligned} bytes after {@code padding} bytes an array of their own over as
     * many fresh slots as they need, and returns the offset after the padding. The current chunk
     * stays current.
     */
    private int allocateOwnArray(long aligned, long padding) {
        long needed = padding + aligned;
        int base = takeSlots(needed);
        if (base < 0) {
            throw new ArenaFullException("memtable arena is full (2 GiB of offsets used)");
        }
        install(base, ByteBuffer.wrap(new byte[(int) needed]));
        usedBytes.addAndGet(needed);
        allocatedBytes.addAndGet(needed);
        return (int) (base + padding);
    }

    /** Bytes of a chunk's array: its slot less {@link #HEADROOM}. */
    int chunkCapacity() {
        return (1 << chunkBits) - HEADROOM;
    }

    private static long pack(long next, long end) {
        return end << 32 | next;
    }

    /**
     * Asks for the second chunk ahead when half the first is handed out, unless one is asked for;
     * a failure leaves none asked for, and the first switch asks again and meets it.
     */
    private void askForSecondChunk() {
        if (ahead.compareAndSet(null, ASKING)) {
            askAhead();
        }
    }

    /**
     * Asks for the next chunk ahead, in place of the one just switched to (or of {@link #ASKING});
     * if asking fails (no memory even for its bookkeeping), leaves none asked for, so that the
     * next switch asks again instead of waiting for a chunk that never comes, and returns the
     * failure (else null).
     */
    private Throwable askAhead() {
        try {
            ahead.set(chunkAhead());
            return null;
        } catch (RuntimeException | Error e) {
            ahead.set(null);
            return e;
        }
    }

    /** The next chunk: a slot taken for it and its array being made on the background thread. */
    private ChunkAhead chunkAhead() {
        Prepared<ByteBuffer> buffer = prepareChunk(); // first: a failure here takes no slot
        int base = takeSlots(chunkCapacity());
        return base < 0 ? new ChunkAhead(-1, null) : new ChunkAhead(base, buffer);
    }

    private Prepared<ByteBuffer> prepareChunk() {
        int size = chunkCapacity();
        return Prepared.start(() -> ByteBuffer.wrap(new byte[size]));
    }

    /**
     * Takes the fresh slots an array of {@code bytes} needs and returns the offset of the first,
     * or -1 if its last byte would lie beyond the 2 GiB offset space (then takes none).
     */
    private int takeSlots(long bytes) {
        int count = (int) ((bytes + (1L << chunkBits) - 1) >>> chunkBits);
        while (true) {
            int first = freeSlot.get();
            if (((long) first << chunkBits) + bytes > Integer.MAX_VALUE) {
                return -1;
            }
            if (freeSlot.compareAndSet(first, first + count)) {
                return first << chunkBits;
            }
        }
    }

    /**
     * Points the slots of {@code buffer}'s array, from {@code base}, at it. Idempotent: a chunk
     * ahead is installed by every thread that tries to switch to it, each writing the same values.
     */
    private void install(int base, ByteBuffer buffer) {
        byte[] array = buffer.array();
        int first = base >>> chunkBits;
        int count = (int) ((array.length + (1L << chunkBits) - 1) >>> chunkBits);
        for (int s = first; s < first + count; s++) {
            slotBase[s] = base;
            buffers[s] = buffer;
            slots[s] = array;
        }
    }

    /** Whether the next chunk has been allocated ahead and is waiting for the next chunk switch. */
    boolean nextChunkReady() {
        ChunkAhead chunk = ahead.get();
        return chunk != null && chunk.buffer != null && chunk.buffer.isDone()
                && chunk.base >= nextAndEnd.get() >>> 32;
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
        return allocatedBytes.get();
    }
}
