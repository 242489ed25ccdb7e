package io.trainkv.memtable;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.util.AllocationCounter;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The arena bump allocator: offsets, alignment, chunk placement, oversized allocations and accounting. */
class ArenaTest {

    private static final int CHUNK_BITS = 12;
    private static final int CHUNK = 1 << CHUNK_BITS;
    /** Bytes of a chunk's buffer (the slot less the headroom for the array's header). */
    private static final int CAPACITY = CHUNK - Arena.HEADROOM;

    /** One allocation and the pattern written into it. */
    private record Block(int offset, int size, byte seed) {
    }

    /** An allocation and the alignment it asked for. */
    private record AlignedBlock(Block block, int alignment, int alignedAt) {
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 11, 31, -1})
    void rejectsChunkBitsOutsideTheSupportedRange(int chunkBits) {
        assertThrows(IllegalArgumentException.class, () -> new Arena(chunkBits));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void rejectsNonPositiveSizes(int size) {
        Arena arena = new Arena(CHUNK_BITS);
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(size));
        assertEquals(0, arena.usedBytes());
    }

    @Test
    void aFreshArenaHasOneChunkAndNothingUsed() {
        Arena arena = new Arena(CHUNK_BITS);
        assertEquals(0, arena.usedBytes());
        assertEquals(CAPACITY, arena.allocatedBytes());
    }

    @Test
    void offsetsAreNonNullAlignedAndDisjoint() {
        Arena arena = new Arena(CHUNK_BITS);
        Random random = new Random(0x5EED_1001L);
        List<Block> blocks = new ArrayList<>();
        long expectedUsed = 0;
        for (int i = 0; i < 10_000; i++) {
            int size = 1 + random.nextInt(300);
            int offset = arena.allocate(size);
            assertNotEquals(Arena.NULL, offset);
            assertEquals(0, offset % Arena.ALIGNMENT, "offset " + offset + " is not 4-aligned");
            assertEquals(offset >>> CHUNK_BITS, (offset + size - 1) >>> CHUNK_BITS,
                    "allocation of " + size + " at " + offset + " spans two chunks");
            assertEquals(offset - ((offset >>> CHUNK_BITS) << CHUNK_BITS), arena.position(offset),
                    "a chunk-sized buffer starts at its slot");
            expectedUsed += (size + 3) & ~3;
            blocks.add(new Block(offset, size, (byte) random.nextInt()));
        }
        for (int i = 1; i < blocks.size(); i++) {
            Block previous = blocks.get(i - 1);
            assertTrue(blocks.get(i).offset() >= previous.offset() + previous.size(),
                    "allocation " + i + " overlaps allocation " + (i - 1));
        }
        assertEquals(expectedUsed, arena.usedBytes());
        assertTrue(arena.allocatedBytes() >= arena.usedBytes());
        assertEquals(0, arena.allocatedBytes() % CAPACITY, "only whole chunks for allocations below the chunk size");
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
    }

    @Test
    void usedBytesCountsAlignedSizesAndAllocatedBytesGrowsByChunks() {
        Arena arena = new Arena(CHUNK_BITS);
        arena.allocate(1);
        assertEquals(4, arena.usedBytes());
        arena.allocate(5);
        assertEquals(12, arena.usedBytes());
        arena.allocate(8);
        assertEquals(20, arena.usedBytes());
        assertEquals(CAPACITY, arena.allocatedBytes());

        int rest = CAPACITY - 4 - 20;
        int filler = arena.allocate(rest);
        assertEquals(CAPACITY - rest, filler, "the last bytes of the first chunk are handed out");
        assertEquals(CAPACITY, arena.allocatedBytes());
        int next = arena.allocate(4);
        assertEquals(CHUNK, next, "a full chunk moves allocation to the next slot");
        assertEquals(2L * CAPACITY, arena.allocatedBytes());
        assertEquals(20 + rest + 4, arena.usedBytes());
    }

    @Test
    void anAllocationThatDoesNotFitSkipsToTheNextChunk() {
        Arena arena = new Arena(CHUNK_BITS);
        int first = arena.allocate(CHUNK - 100);
        int second = arena.allocate(200);
        assertTrue(first < CHUNK);
        assertEquals(CHUNK, second);
        int exact = arena.allocate(CHUNK);
        assertEquals(0, exact % CHUNK, "an allocation of exactly one chunk takes a whole slot");
        assertTrue(exact > second);
        assertEquals(CHUNK, arena.buffer(exact).capacity());
        assertEquals(0, arena.position(exact));
    }

    @ParameterizedTest
    @ValueSource(ints = {CHUNK + 1, 2 * CHUNK, 10_000, 3 * CHUNK + 7})
    void anAllocationLargerThanAChunkGetsItsOwnReadableWritableBuffer(int size) {
        Arena arena = new Arena(CHUNK_BITS);
        Block before = new Block(arena.allocate(100), 100, (byte) 1);
        long allocatedBefore = arena.allocatedBytes();
        int big = arena.allocate(size);
        assertEquals(0, big % CHUNK, "an oversized allocation starts at a slot boundary");
        assertTrue(big >= before.offset() + before.size());
        ByteBuffer buffer = arena.buffer(big);
        assertTrue(buffer.capacity() >= size);
        assertEquals(0, arena.position(big));
        for (int i = 0; i < size; i += 97) {
            assertSame(buffer, arena.buffer(big + i), "offset " + i + " of the big allocation maps to its buffer");
            assertEquals(i, arena.position(big + i));
        }
        assertSame(buffer, arena.buffer(big + size - 1));
        assertEquals(size - 1, arena.position(big + size - 1));
        assertTrue(arena.allocatedBytes() - allocatedBefore >= size);

        Block after = new Block(arena.allocate(64), 64, (byte) 3);
        assertEquals(before.offset() + before.size(), after.offset(), "the current chunk stays current");
        List<Block> blocks = List.of(before, new Block(big, size, (byte) 2), after);
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
    }

    @Test
    void alignedAllocationsPutTheirAlignedPointOnTheAlignmentAndCountTheirPadding() {
        Arena arena = new Arena(20); // one chunk holds them all, so the bytes used run from 4 to the last end
        Random random = new Random(0x5EED_1003L);
        List<Block> blocks = new ArrayList<>();
        int end = Arena.ALIGNMENT;
        for (int i = 0; i < 3_000; i++) {
            int size = 4 + random.nextInt(300);
            int alignment = 4 << random.nextInt(5);
            int alignedAt = Arena.ALIGNMENT * random.nextInt(size / Arena.ALIGNMENT);
            int offset = arena.allocate(size, alignment, alignedAt);
            assertEquals(0, (offset + alignedAt) % alignment,
                    "offset " + offset + " + " + alignedAt + " is not " + alignment + "-aligned");
            assertTrue(offset >= end && offset - end < alignment, "padding of " + (offset - end) + " bytes");
            end = offset + ((size + 3) & ~3);
            blocks.add(new Block(offset, size, (byte) random.nextInt()));
        }
        assertEquals(end - Arena.ALIGNMENT, arena.usedBytes(), "the padding counts as used");
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
    }

    @Test
    void anAlignedAllocationInANewChunkOrOfItsOwnIsPaddedFromTheSlotStart() {
        Arena arena = new Arena(CHUNK_BITS);
        arena.allocate(CAPACITY - 100);
        long used = arena.usedBytes();
        int next = arena.allocate(200, 16, 4); // does not fit: the next chunk, 12 bytes in
        assertEquals(CHUNK + 12, next);
        assertEquals(used + 12 + 200, arena.usedBytes());
        int big = arena.allocate(CAPACITY, 64, 8); // with its padding, more than a chunk: a buffer of its own
        assertEquals(56, big % CHUNK);
        assertTrue(big > next);
        assertEquals(56 + CAPACITY, arena.buffer(big).capacity());
        assertEquals(used + 12 + 200 + 56 + CAPACITY, arena.usedBytes());
        List<Block> blocks = List.of(new Block(next, 200, (byte) 1), new Block(big, CAPACITY, (byte) 2));
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
    }

    @Test
    void rejectsAlignmentsOutsideTheSupportedRange() {
        Arena arena = new Arena(CHUNK_BITS);
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(64, 2, 0));
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(64, 24, 0));
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(64, 128, 0));
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(64, 16, 6));
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(64, 16, 64));
        assertThrows(IllegalArgumentException.class, () -> arena.allocate(64, 16, -4));
        assertEquals(0, arena.usedBytes());
    }

    @Test
    void mixedSmallAndOversizedAllocationsStayIntact() {
        Arena arena = new Arena(CHUNK_BITS);
        Random random = new Random(0x5EED_1002L);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 2_000; i++) {
            int size = random.nextInt(20) == 0 ? CHUNK + random.nextInt(3 * CHUNK) : 1 + random.nextInt(1_000);
            blocks.add(new Block(arena.allocate(size), size, (byte) random.nextInt()));
        }
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
        long used = 0;
        for (Block block : blocks) {
            used += (block.size() + 3) & ~3;
        }
        assertEquals(used, arena.usedBytes());
        assertTrue(arena.allocatedBytes() >= used);
    }

    @Test
    void allocationAcrossManyChunks() {
        Arena arena = new Arena(CHUNK_BITS);
        List<Block> blocks = new ArrayList<>();
        for (int i = 0; i < 5_000; i++) {
            blocks.add(new Block(arena.allocate(1_000), 1_000, (byte) i));
        }
        int chunks = (int) (arena.allocatedBytes() / CAPACITY);
        assertEquals(1_250, chunks, "four 1000-byte blocks fit a 4 KiB chunk (the first after the NULL word)");
        assertEquals(5_000L * 1_000, arena.usedBytes());
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
    }

    @Test
    void anAllocationBeyondTheOffsetSpaceFailsAndLeavesTheArenaUsable() {
        Arena arena = new Arena(CHUNK_BITS);
        int first = arena.allocate(16);
        assertThrows(ArenaFullException.class, () -> arena.allocate(Integer.MAX_VALUE));
        assertThrows(ArenaFullException.class, () -> arena.allocate(Integer.MAX_VALUE - CHUNK));
        assertEquals(16, arena.usedBytes());
        assertEquals(CAPACITY, arena.allocatedBytes());
        int second = arena.allocate(16);
        assertEquals(first + 16, second);
    }

    @Test
    void concurrentAllocationsAreDisjoint() throws Exception {
        Arena arena = new Arena(CHUNK_BITS);
        int threads = 4;
        int perThread = 20_000;
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<List<Block>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = 0x5EED_1100L + t;
                byte tag = (byte) (t + 1);
                futures.add(executor.submit(() -> {
                    Random random = new Random(seed);
                    List<Block> mine = new ArrayList<>();
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        int size = 1 + random.nextInt(64);
                        Block block = new Block(arena.allocate(size), size, (byte) (tag * 31 + i));
                        fill(arena, block);
                        mine.add(block);
                    }
                    return mine;
                }));
            }
            start.countDown();
            List<Block> all = new ArrayList<>();
            for (Future<List<Block>> future : futures) {
                all.addAll(future.get());
            }
            all.sort((a, b) -> Integer.compare(a.offset(), b.offset()));
            long used = 0;
            for (int i = 0; i < all.size(); i++) {
                Block block = all.get(i);
                used += (block.size() + 3) & ~3;
                assertEquals(0, block.offset() % Arena.ALIGNMENT);
                if (i > 0) {
                    Block previous = all.get(i - 1);
                    assertTrue(block.offset() >= previous.offset() + previous.size(),
                            "concurrent allocations at " + previous.offset() + " and " + block.offset() + " overlap");
                }
            }
            assertEquals(used, arena.usedBytes());
            verifyAll(arena, all);
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * Threads allocating at once across hundreds of chunk switches, with aligned points and
     * oversized allocations mixed in, get disjoint offsets inside their arrays, aligned as asked,
     * whose bytes read back through the slot table on another thread; every switched-to chunk
     * and oversized array is counted once in the allocated bytes, every handed-out byte in the
     * used bytes.
     */
    @Test
    void concurrentAllocationsAcrossChunkSwitchesWithOversizedOnesAreDisjointAlignedAndCounted() throws Exception {
        Arena arena = new Arena(CHUNK_BITS, true);
        int threads = 4;
        int perThread = 5_000;
        ExecutorService executor = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<List<AlignedBlock>>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                long seed = 0x5EED_1200L + t;
                futures.add(executor.submit(() -> {
                    Random random = new Random(seed);
                    List<AlignedBlock> mine = new ArrayList<>();
                    start.await();
                    for (int i = 0; i < perThread; i++) {
                        int size = random.nextInt(100) == 0 ? CHUNK + random.nextInt(2 * CHUNK) : 4 + random.nextInt(400);
                        int alignment = 4 << random.nextInt(5);
                        int alignedAt = Arena.ALIGNMENT * random.nextInt(size / Arena.ALIGNMENT);
                        int offset = arena.allocate(size, alignment, alignedAt);
                        AlignedBlock block = new AlignedBlock(new Block(offset, size, (byte) random.nextInt()),
                                alignment, alignedAt);
                        fill(arena, block.block());
                        mine.add(block);
                    }
                    return mine;
                }));
            }
            start.countDown();
            List<AlignedBlock> all = new ArrayList<>();
            for (Future<List<AlignedBlock>> future : futures) {
                all.addAll(future.get());
            }
            all.sort((a, b) -> Integer.compare(a.block().offset(), b.block().offset()));
            long aligned = 0;
            long padding = 0;
            long oversized = 0;
            Set<ByteBuffer> chunks = Collections.newSetFromMap(new IdentityHashMap<>());
            for (int i = 0; i < all.size(); i++) {
                Block block = all.get(i).block();
                int alignment = all.get(i).alignment();
                assertNotEquals(Arena.NULL, block.offset());
                assertEquals(0, (block.offset() + all.get(i).alignedAt()) % alignment,
                        "allocation at " + block.offset() + " is not aligned as asked");
                ByteBuffer buffer = arena.buffer(block.offset());
                assertTrue(arena.position(block.offset()) + block.size() <= buffer.capacity(),
                        "allocation at " + block.offset() + " runs past its array");
                assertSame(buffer, arena.buffer(block.offset() + block.size() - 1), "allocation spans two arrays");
                if (i > 0) {
                    Block previous = all.get(i - 1).block();
                    assertTrue(block.offset() >= previous.offset() + previous.size(),
                            "concurrent allocations at " + previous.offset() + " and " + block.offset() + " overlap");
                }
                aligned += (block.size() + 3) & ~3;
                padding += alignment - Arena.ALIGNMENT;
                if (buffer.capacity() == CAPACITY) {
                    chunks.add(buffer);
                } else {
                    oversized += buffer.capacity();
                }
            }
            assertTrue(oversized > 0 && chunks.size() > 100, chunks.size() + " chunks, " + oversized + " oversized bytes");
            assertTrue(arena.usedBytes() >= aligned && arena.usedBytes() <= aligned + padding,
                    arena.usedBytes() + " bytes used for " + aligned + " bytes and at most " + padding + " of padding");
            assertEquals((long) chunks.size() * CAPACITY + oversized, arena.allocatedBytes());
            verifyAll(arena, all.stream().map(AlignedBlock::block).toList());
        } finally {
            executor.shutdownNow();
        }
    }

    /**
     * A thread stopped in the middle of a chunk switch (after installing the next chunk, before
     * its CAS: where a preempted thread would be) does not stop another thread from switching
     * and allocating; the stopped thread's allocation then completes in the new chunk.
     */
    @Test
    void aThreadStoppedInAChunkSwitchDoesNotHoldUpAnother() throws Exception {
        CountDownLatch stopped = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        AtomicReference<Thread> stoppedThread = new AtomicReference<>();
        Arena arena = new Arena(CHUNK_BITS, false, () -> {
            if (Thread.currentThread() == stoppedThread.get()) {
                stopped.countDown();
                try {
                    resume.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Block first = new Block(arena.allocate(CAPACITY - 100), CAPACITY - 100, (byte) 1);
        ExecutorService executor = Executors.newFixedThreadPool(2);
        try {
            Future<Block> stoppedAllocation = executor.submit(() -> {
                stoppedThread.set(Thread.currentThread());
                return new Block(arena.allocate(200), 200, (byte) 2);
            });
            assertTrue(stopped.await(1, TimeUnit.MINUTES), "the first thread never reached the switch");
            CountDownLatch allocated = new CountDownLatch(1);
            Future<Block> other = executor.submit(() -> {
                Block block = new Block(arena.allocate(300), 300, (byte) 3);
                allocated.countDown();
                return block;
            });
            boolean otherAllocated = allocated.await(1, TimeUnit.MINUTES);
            resume.countDown();
            assertTrue(otherAllocated, "a thread stopped in a chunk switch held up another thread's allocation");
            Block switched = other.get();
            Block late = stoppedAllocation.get();
            assertEquals(CHUNK, switched.offset(), "the other thread switched to the next chunk");
            assertEquals(CHUNK + 300, late.offset(), "the stopped thread allocated after it in the same chunk");
            assertEquals(2L * CAPACITY, arena.allocatedBytes());
            assertEquals(CAPACITY - 100 + 300 + 200, arena.usedBytes());
            List<Block> blocks = List.of(first, switched, late);
            writeAll(arena, blocks);
            verifyAll(arena, blocks);
        } finally {
            resume.countDown();
            executor.shutdownNow();
        }
    }

    /**
     * After the first chunk switch the next chunk is allocated on another thread: the writer's
     * switch to it allocates no chunk on the writer's thread (measured with the JVM's per-thread
     * allocation counter), and the chunk it gets is fresh (zeros) and its own.
     */
    @Test
    void theChunkAfterTheFirstSwitchIsAllocatedAheadOffTheWritersThread() throws InterruptedException {
        AllocationCounter allocations = AllocationCounter.orSkip();
        int chunkBits = 20;
        int chunk = 1 << chunkBits;
        Arena arena = new Arena(chunkBits);
        int capacity = chunk - Arena.HEADROOM;
        Block first = new Block(arena.allocate(capacity - 64), capacity - 64, (byte) 1);
        Block second = new Block(arena.allocate(capacity - 64), capacity - 64, (byte) 2); // the first switch
        assertEquals(chunk, second.offset());
        while (!arena.nextChunkReady()) { // the background thread allocates the third chunk
            Thread.sleep(1);
        }
        long allocatedBefore = allocations.allocatedBytes();
        int third = arena.allocate(100); // the second switch takes the chunk allocated ahead
        long writerAllocated = allocations.allocatedBytes() - allocatedBefore;
        assertEquals(2 * chunk, third);
        assertTrue(writerAllocated < chunk / 4, "the writer allocated " + writerAllocated + " bytes switching chunks");
        assertEquals(3L * capacity, arena.allocatedBytes());
        ByteBuffer buffer = arena.buffer(third);
        assertEquals(capacity, buffer.capacity());
        for (int i = 0; i < capacity; i += 509) {
            assertEquals(0, buffer.get(i), "byte " + i + " of a fresh chunk");
        }
        Block thirdBlock = new Block(third, 100, (byte) 3);
        List<Block> blocks = List.of(first, second, thirdBlock);
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
    }

    /**
     * An arena expected to outgrow its first chunk has its second chunk allocated ahead once half
     * of the first is handed out, so even the first switch allocates no chunk on the writer's
     * thread; one that is not expected to waits for its first switch.
     */
    @Test
    void anArenaExpectedToOutgrowItsFirstChunkAllocatesTheSecondAheadAtHalf() throws InterruptedException {
        AllocationCounter allocations = AllocationCounter.orSkip();
        int chunkBits = 20;
        int chunk = 1 << chunkBits;
        int capacity = chunk - Arena.HEADROOM;
        Arena small = new Arena(chunkBits, false);
        small.allocate(capacity - 64);
        assertFalse(small.nextChunkReady(), "nothing asked for ahead before the first switch");

        Arena arena = new Arena(chunkBits, true);
        Block below = new Block(arena.allocate(capacity / 2 - 64), capacity / 2 - 64, (byte) 1);
        assertFalse(arena.nextChunkReady(), "not before half of the first chunk");
        Block crossing = new Block(arena.allocate(256), 256, (byte) 2);
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (!arena.nextChunkReady()) { // the background thread allocates the second chunk
            assertTrue(System.nanoTime() < deadline, "the second chunk was never asked for ahead");
            Thread.sleep(1);
        }
        Block rest = new Block(arena.allocate(capacity / 2 - 1024), capacity / 2 - 1024, (byte) 3);
        long allocatedBefore = allocations.allocatedBytes();
        int second = arena.allocate(4096); // the first switch takes the chunk allocated ahead
        long writerAllocated = allocations.allocatedBytes() - allocatedBefore;
        assertEquals(chunk, second);
        assertTrue(writerAllocated < chunk / 4, "the writer allocated " + writerAllocated + " bytes switching chunks");
        List<Block> blocks = List.of(below, crossing, rest, new Block(second, 4096, (byte) 4));
        writeAll(arena, blocks);
        verifyAll(arena, blocks);
    }

    private static void writeAll(Arena arena, List<Block> blocks) {
        for (Block block : blocks) {
            fill(arena, block);
        }
    }

    private static void fill(Arena arena, Block block) {
        ByteBuffer buffer = arena.buffer(block.offset());
        int position = arena.position(block.offset());
        for (int i = 0; i < block.size(); i++) {
            buffer.put(position + i, pattern(block, i));
        }
    }

    private static void verifyAll(Arena arena, List<Block> blocks) {
        for (Block block : blocks) {
            ByteBuffer buffer = arena.buffer(block.offset());
            int position = arena.position(block.offset());
            for (int i = 0; i < block.size(); i++) {
                if (buffer.get(position + i) != pattern(block, i)) {
                    throw new AssertionError("byte " + i + " of the allocation at " + block.offset()
                            + " (size " + block.size() + ") was overwritten");
                }
            }
        }
    }

    private static byte pattern(Block block, int index) {
        return (byte) (block.seed() + index * 7 + (index >>> 8));
    }
}
