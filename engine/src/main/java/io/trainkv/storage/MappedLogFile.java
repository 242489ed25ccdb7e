package io.trainkv.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;

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
 * crash, it ends in up to one region of zeros past the last record (the log formats read a zero
 * tail as the end of the log); {@link #close()} truncates it to the bytes appended and fsyncs the
 * cut, so a closed log is exactly its records.
 */
final class MappedLogFile implements WritableFile {

    /** Bytes mapped, and preallocated ahead of the appends, at a time: 1 MiB. */
    static final int REGION_BYTES = 1 << 20;

    /** Zeros written to preallocate a region, a chunk at a time; never written to. */
    private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(64 << 10);

    private final FileChannel channel;
    private MappedByteBuffer region;
    /** Bytes at the start of {@link #region} already forced by {@link #sync()}. */
    private int regionSynced;
    /** Bytes appended: the length of the log. Read by other threads ({@link #size()}). */
    private volatile long written;
    /** Bytes the file holds on disk: {@link #written} plus the preallocated zeros. */
    private long allocated;
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
     * Unmaps the region and cuts the preallocated zeros off, fsyncing the cut (metadata included)
     * so that the file never again ends in zeros, even after a power cut; then closes the channel,
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

    /** Maps the next region from the end of the log, preallocating it with zeros first. */
    private void nextRegion() throws IOException {
        unmapRegion();
        boolean interrupted = InterruptShield.clear();
        try {
            preallocateAndMap();
        } finally {
            InterruptShield.restore(interrupted);
        }
    }

    private void preallocateAndMap() throws IOException {
        long start = written;
        long end = start + REGION_BYTES;
        // allocated follows each write, so that a write failing part way (a full disk) leaves it
        // covering the zeros already in the file, and close() cuts them
        while (allocated < end) {
            ByteBuffer zeros = ZEROS.duplicate();
            zeros.limit((int) Math.min(zeros.capacity(), end - allocated));
            allocated += channel.write(zeros, allocated);
        }
        region = channel.map(FileChannel.MapMode.READ_WRITE, start, REGION_BYTES);
        regionSynced = 0;
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
}
