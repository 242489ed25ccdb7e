package io.trainkv.storage;

import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A log file appended to through a shared memory mapping, so that an append is a copy into the
 * page cache and costs no system call (a write(2) per group commit was half of a single writer's
 * time). Bytes copied into the mapping are in the page cache exactly as if written with write(2):
 * they survive the process being killed; {@link #sync()} puts them on stable storage.
 *
 * <p>The file is mapped one region of {@link #REGION_BYTES} at a time. Before a region is mapped,
 * the file is extended over it by writing zeros through the channel, so that the file system
 * reserves its blocks then (a full disk fails that write with an {@link IOException}; a store into
 * a mapped hole of a full disk would raise SIGBUS instead). So while the file is open, and after a
 * crash, it ends in up to two regions of zeros past the last record (the log formats read a zero
 * tail as the end of the log); {@link #close()} truncates it to the bytes appended and fsyncs the
 * cut, so a closed log is exactly its records.
 *
 * <p>Once the log is appended to, the region after the current one is prepared ahead on a
 * background thread ({@value #PREPARER_NAME}): preallocated, mapped, and each of its pages
 * touched with a write.
 * The first store into a page of a shared file mapping takes a page fault in which the file
 * system makes the page writable (on ext4 about 8 µs a 4 KiB page, several times the cost of
 * copying the page): taken ahead, the appender's copies find the pages mapped and writable. The
 * touch is an atomic add of 0, which changes no byte. If the appender reaches a region whose
 * preparation has not started, it prepares it itself; if the preparation is running, it waits
 * for it.
 */
final class MappedLogFile implements WritableFile {

    /** Bytes mapped, and preallocated ahead of the appends, at a time: 1 MiB. */
    static final int REGION_BYTES = 1 << 20;

    static final String PREPARER_NAME = "trainkv-log-prefault";

    /** Bytes between two touches of a region: the smallest page size of the platforms we run on. */
    private static final int PAGE_BYTES = 4096;

    /** Zeros written to preallocate a region, a chunk at a time; never written to. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);

    private static final VarHandle INTS = MethodHandles.byteBufferViewVarHandle(int[].class, ByteOrder.nativeOrder());

    /**
     * Prepares regions ahead for every mapped log of the process: one daemon thread, which ends
     * after a second without work.
     */
    private static final ThreadPoolExecutor PREPARER = preparer();

    private final FileChannel channel;
    private MappedByteBuffer region;
    /** Bytes at the start of {@link #region} already forced by {@link #sync()}. */
    private int regionSynced;
    /** The region after {@link #region}, being prepared; null if none was asked for. */
    private Preparation next;
    /** Bytes appended: the length of the log. Read by other threads ({@link #size()}). */
    private volatile long written;
    /**
     * Bytes the file holds on disk: {@link #written} plus the preallocated zeros. Changed by the
     * thread running a preparation, and by the appender while none runs.
     */
    private volatile long allocated;
    private boolean closed;

    /** Takes ownership of {@code channel}, open for reading and writing on a new, empty file. */
    MappedLogFile(FileChannel channel) {
        this.channel = channel;
    }

    @Override
    public void append(ByteBuffer data) throws IOException {
        ensureOpen();
        while (data.hasRemaining()) {
            if (region == null || !region.hasRemaining()) {
                nextRegion();
            }
            int n = Math.min(data.remaining(), region.remaining());
            if (n == data.remaining()) {
                region.put(data);
            } else {
                region.put(data.slice(data.position(), n));
                data.position(data.position() + n);
            }
            written += n;
        }
    }

    /** Copies {@code length} bytes of {@code array} from {@code offset} into the mapping (one copy). */
    @Override
    public void append(byte[] array, int offset, int length) throws IOException {
        ensureOpen();
        int at = offset;
        int end = offset + length;
        while (at < end) {
            if (region == null || !region.hasRemaining()) {
                nextRegion();
            }
            int n = Math.min(end - at, region.remaining());
            region.put(array, at, n);
            at += n;
            written += n;
        }
    }

    /**
     * Forces the appended bytes of the current region (msync) and then the file (fdatasync): the
     * latter makes durable the file length a preallocation changed, and the pages of regions
     * already unmapped, which a mapping leaves dirty in the page cache where fdatasync writes them
     * back (Linux's page cache is one for mappings and channels). The first sync after a
     * preallocation also writes that region's zeros.
     */
    @Override
    public void sync() throws IOException {
        ensureOpen();
        if (region != null && region.position() > regionSynced) {
            region.force(regionSynced, region.position() - regionSynced);
            regionSynced = region.position();
        }
        InterruptShield.force(channel, false);
    }

    /** Shrinks the file to {@code size} bytes, preallocated zeros included; later appends continue from there. */
    @Override
    public void truncate(long size) throws IOException {
        ensureOpen();
        dropNext();
        unmapRegion();
        boolean interrupted = InterruptShield.clear();
        try {
            channel.truncate(size);
        } finally {
            InterruptShield.restore(interrupted);
        }
        allocated = Math.min(allocated, size);
        written = size;
    }

    @Override
    public long size() {
        return written;
    }

    /**
     * Drops the region being prepared (waiting for a preparation already running), unmaps the
     * region, and cuts the preallocated zeros off, fsyncing the cut (metadata included) so that
     * the file never again ends in zeros, even after a power cut; then closes the channel,
     * whatever failed.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        boolean interrupted = InterruptShield.clear();
        try {
            dropNext();
            unmapRegion();
            if (allocated > written) {
                channel.truncate(written);
                channel.force(true);
            }
        } finally {
            channel.close();
            InterruptShield.restore(interrupted);
        }
    }

    /**
     * Waits until the region prepared ahead, if any, is ready (or failed); for tests that look at
     * the file's length.
     */
    void awaitPreparedAhead() {
        if (next != null) {
            next.await();
        }
    }

    /**
     * Moves to the region prepared ahead (preparing it here if its preparation has not started)
     * and asks for the one after it, whose preparation also unmaps the full region.
     */
    private void nextRegion() throws IOException {
        MappedByteBuffer full = region;
        region = null;
        long start = written;
        // next starts where the full region ends; there is none after a truncate or a failed preparation
        Preparation prepared = next != null ? next : new Preparation(start, null);
        next = null;
        try {
            region = prepared.take();
        } catch (IOException | RuntimeException | Error e) {
            if (full != null) {
                MappedBuffers.unmap(full);
            }
            throw e;
        }
        regionSynced = 0;
        prepareAhead(start + REGION_BYTES, full);
    }

    /**
     * Starts preparing the region at {@code start} on the background thread, which first unmaps
     * {@code retired} (a region the appender is done with; null for none): an unmap of a 1 MiB
     * mapping, which tears down its page tables, was half of what the appender spent on regions.
     */
    private void prepareAhead(long start, MappedByteBuffer retired) {
        next = new Preparation(start, retired);
        try {
            PREPARER.execute(next);
        } catch (RejectedExecutionException e) {
            // no thread could be started: the preparation stays pending, and the appender runs it
        }
    }

    /** Cancels the preparation ahead, or waits for it and unmaps what it mapped. */
    private void dropNext() {
        if (next != null) {
            next.drop();
            next = null;
        }
    }

    /**
     * Unmaps the current region now rather than when it is garbage collected; the bytes copied
     * into it stay in the page cache.
     */
    private void unmapRegion() {
        if (region != null) {
            MappedByteBuffer unmapped = region;
            region = null;
            MappedBuffers.unmap(unmapped);
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }

    private static ThreadPoolExecutor preparer() {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(1, 1, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                task -> {
                    Thread thread = new Thread(task, PREPARER_NAME);
                    thread.setDaemon(true);
                    return thread;
                });
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    /**
     * The preparation of one region: unmap the region the appender left, preallocate this one with
     * zeros, map it and touch its pages. Run once, by the background thread or by the appender,
     * whichever claims it first; the appender takes the result; one dropped before it ran only
     * unmaps. Every state change is made holding the object's monitor.
     */
    private final class Preparation implements Runnable {
        private static final int PENDING = 0;
        private static final int RUNNING = 1;
        private static final int DONE = 2;
        private static final int DROPPED = 3;

        private final long start;
        private MappedByteBuffer retired;
        private int state = PENDING;
        private MappedByteBuffer mapping;
        private IOException failure;

        Preparation(long start, MappedByteBuffer retired) {
            this.start = start;
            this.retired = retired;
        }

        /** Run by the background thread: prepares the region, touching its pages, if still pending. */
        @Override
        public void run() {
            if (claim()) {
                prepare(true);
            }
        }

        /**
         * The prepared mapping: prepared here (without touching) if nobody started it, else once
         * the background thread is done.
         *
         * @throws IOException if preallocating or mapping failed
         */
        MappedByteBuffer take() throws IOException {
            if (claim()) {
                prepare(false);
            }
            await();
            if (failure != null) {
                throw failure;
            }
            return mapping;
        }

        /** Makes sure it never runs, or waits until it ran and unmaps its mapping. */
        void drop() {
            synchronized (this) {
                if (state == PENDING) {
                    state = DROPPED;
                    unmapRetired();
                    return;
                }
            }
            await();
            if (mapping != null) {
                MappedBuffers.unmap(mapping);
                mapping = null;
            }
        }

        /** Waits until it ran, unless it was dropped. */
        synchronized void await() {
            boolean interrupted = false;
            while (state == PENDING || state == RUNNING) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }

        private void unmapRetired() {
            if (retired != null) {
                MappedBuffers.unmap(retired);
                retired = null;
            }
        }

        private synchronized boolean claim() {
            if (state != PENDING) {
                return false;
            }
            state = RUNNING;
            return true;
        }

        private void prepare(boolean touch) {
            MappedByteBuffer mapped = null;
            IOException error = null;
            boolean interrupted = InterruptShield.clear();
            try {
                unmapRetired();
                mapped = preallocateAndMap(start);
                if (touch) {
                    // from the first page boundary: a region starts mid-page only after a truncate
                    int first = (int) ((PAGE_BYTES - mapped.alignmentOffset(0, PAGE_BYTES)) % PAGE_BYTES);
                    for (int page = first; page + Integer.BYTES <= REGION_BYTES; page += PAGE_BYTES) {
                        INTS.getAndAdd(mapped, page, 0); // a write fault that changes nothing
                    }
                }
            } catch (IOException e) {
                error = e;
            } catch (RuntimeException | Error e) {
                error = new IOException("cannot prepare the log's next region: " + e, e);
            } finally {
                InterruptShield.restore(interrupted);
            }
            synchronized (this) {
                mapping = mapped;
                failure = error;
                state = DONE;
                notifyAll();
            }
        }
    }

    /** Preallocates the region from {@code start} with zeros and maps it. */
    private MappedByteBuffer preallocateAndMap(long start) throws IOException {
        long end = start + REGION_BYTES;
        // allocated follows each write, so that a write failing part way (a full disk) leaves it
        // covering the zeros already in the file, and close() cuts them
        while (allocated < end) {
            ByteBuffer zeros = ZEROS.duplicate();
            zeros.limit((int) Math.min(zeros.capacity(), end - allocated));
            allocated += channel.write(zeros, allocated);
        }
        return channel.map(FileChannel.MapMode.READ_WRITE, start, REGION_BYTES);
    }
}
