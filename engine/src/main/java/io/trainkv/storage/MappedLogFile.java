package io.trainkv.storage;

import io.trainkv.util.Prepared;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.util.concurrent.ExecutionException;

/**
 * A log file appended to through a shared memory mapping, so that an append is a copy into the
 * page cache and costs no system call (a write(2) per group commit was half of a single writer's
 * time). Bytes copied into the mapping are in the page cache exactly as if written with write(2):
 * they survive the process being killed; {@link #sync()} puts them on stable storage.
 *
 * <p>The file is mapped one region of {@link #REGION_BYTES} at a time. Before a region is mapped,
 * the file is extended over it by writing zeros through the channel, so that the file system
 * reserves its blocks then (a full disk fails that write with an {@link IOException}; a store into
 * a mapped hole of a full disk would raise SIGBUS instead). When the appender moves into a region,
 * the region after it is preallocated, mapped and its pages touched on a background thread
 * ({@link Prepared}), so that the appender pays neither the system calls nor the page faults of
 * first touches (a fault per page or per page-cache folio; in a profile of small appends, more
 * than the copies themselves), nor the unmap of the region it leaves. That thread writes
 * only zeros over zeros, into a region the appender reaches only after taking it from the
 * preparation (which waits for it, or does it on the appender's thread if it has not started), so
 * it never touches a byte the appender wrote. So while the file is open, and after a crash, it
 * ends in up to two regions of zeros past the last record (the log formats read a zero tail as
 * the end of the log); {@link #close()} truncates it to the bytes appended and fsyncs the cut, so
 * a closed log is exactly its records.
 */
final class MappedLogFile implements WritableFile {

    /** Bytes mapped, and preallocated ahead of the appends, at a time: 1 MiB. */
    static final int REGION_BYTES = 1 << 20;

    /** Zeros written to preallocate a region, a chunk at a time; never written to. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);

    /** Bytes between two touches that fault a region's pages in: the smallest page size. */
    private static final int PAGE_BYTES = 4096;

    private final FileChannel channel;
    private MappedByteBuffer region;
    /** Bytes at the start of {@link #region} already forced by {@link #sync()}. */
    private int regionSynced;
    /** Bytes appended: the length of the log. Read by other threads ({@link #size()}). */
    private volatile long written;
    /**
     * Bytes the file holds on disk: {@link #written} plus the preallocated zeros. Written by the
     * preparation of the next region while it runs: read only after {@link #settleNextRegion()}.
     */
    private long allocated;
    /** The region after {@link #region}, being prepared; null if none. */
    private Prepared<MappedByteBuffer> ahead;
    /** The file offset {@link #ahead} starts at. */
    private long aheadStart;
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

    /**
     * Fdatasyncs the file from the calling thread, which need not be the appender's: the pages
     * copied into mappings are in the page cache and written with the rest. Pages it writes back
     * become read-only to the mappings until stored into again (a fault each, also for the zeros
     * of the region prepared ahead), so it suits a log whose written pages the appender has left
     * for good, as a value log's and a WAL's are (both only append).
     */
    @Override
    public void writeBack() throws IOException {
        InterruptShield.force(channel, false);
    }

    /** Shrinks the file to {@code size} bytes, preallocated zeros included; later appends continue from there. */
    @Override
    public void truncate(long size) throws IOException {
        ensureOpen();
        unmapRegion();
        unmap(settleNextRegion());
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
     * Unmaps the regions (after the next region's preparation, if one runs) and cuts the
     * preallocated zeros off, fsyncing the cut (metadata included) so that the file never again
     * ends in zeros, even after a power cut; then closes the channel, whatever failed.
     */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        boolean interrupted = InterruptShield.clear();
        try {
            unmapRegion();
            unmap(settleNextRegion());
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
     * Moves to the region that starts at the end of the log: the one prepared ahead if it starts
     * there (else it prepares it now, on this thread), then starts preparing the one after it;
     * that preparation also unmaps the region left (an unmap costs as much as a page fault per
     * page), which nothing touches any more.
     */
    private void nextRegion() throws IOException {
        MappedByteBuffer left = region;
        region = null;
        long start = written;
        boolean usable = ahead != null && aheadStart == start;
        MappedByteBuffer next = settleNextRegion();
        if (!usable) {
            unmap(next);
            next = null;
        }
        if (next == null) {
            boolean interrupted = InterruptShield.clear();
            try {
                next = preallocateAndMap(start);
            } catch (IOException | RuntimeException e) {
                unmap(left);
                throw e;
            } finally {
                InterruptShield.restore(interrupted);
            }
        }
        region = next;
        regionSynced = 0;
        long after = start + REGION_BYTES;
        aheadStart = after;
        ahead = Prepared.start(() -> {
            unmap(left);
            return faultIn(preallocateAndMap(after));
        });
    }

    /** Whether the region after the current one is prepared and waiting for the appender. */
    boolean nextRegionReady() {
        return ahead != null && ahead.isDone();
    }

    /**
     * Waits for the next region's preparation (doing it on this thread if it has not started) and
     * returns its region, or null if there is none or it failed (the appender then prepares the
     * region itself and meets the failure, a full disk, in its own call); after it, the
     * preparation has ended and {@link #allocated} holds what it wrote.
     */
    private MappedByteBuffer settleNextRegion() {
        Prepared<MappedByteBuffer> pending = ahead;
        if (pending == null) {
            return null;
        }
        ahead = null;
        boolean interrupted = InterruptShield.clear(); // the preparation may run here, on the channel
        try {
            return pending.take();
        } catch (ExecutionException e) {
            return null;
        } finally {
            InterruptShield.restore(interrupted);
        }
    }

    /**
     * Maps the region of {@link #REGION_BYTES} from {@code start}, extending the file with zeros
     * up to its end first.
     */
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

    /**
     * Stores a zero into every page of {@code mapped}, which holds only the preallocated zeros and
     * is not yet the appender's, so that its pages are mapped writable before the appender's
     * copies reach them.
     */
    private static MappedByteBuffer faultIn(MappedByteBuffer mapped) {
        for (int at = 0; at < mapped.capacity(); at += PAGE_BYTES) {
            mapped.put(at, (byte) 0);
        }
        return mapped;
    }

    /**
     * Unmaps the current region now rather than when it is garbage collected; the bytes copied
     * into it stay in the page cache.
     */
    private void unmapRegion() {
        MappedByteBuffer unmapped = region;
        region = null;
        unmap(unmapped);
    }

    private static void unmap(MappedByteBuffer mapped) {
        if (mapped != null) {
            MappedBuffers.unmap(mapped);
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new ClosedChannelException();
        }
    }
}
