package io.trainkv.vlog;

import io.trainkv.storage.ReadSource;
import java.io.IOException;
import io.trainkv.util.RefCounts;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One value-log file as readers see it. The value log holds one reference while the file is live;
 * every read takes one for its duration. After GC retires the file and the log drops its
 * reference, the last reader closes it (unmapping it) and deletes it, so no read ever touches an
 * unmapped or deleted file.
 */
final class VlogFile {

    private static final System.Logger LOG = System.getLogger(VlogFile.class.getName());

    /** Closes the file's sources and, once retired, deletes it. */
    interface Release {
        void release(VlogFile file, boolean delete);
    }

    final long id;
    final String name;
    private final AtomicInteger refs = new AtomicInteger(1);
    private final List<ReadSource> replaced = new ArrayList<>();
    private final Release onRelease;
    private volatile ReadSource source;
    private volatile boolean retired;
    private volatile long retiredAtVersion = -1;
    /**
     * Bytes readers may read: all of a sealed file; what the leader has appended to the active
     * one. The one bound of every read and scan: the active file's source was opened when the
     * file was empty, so its own {@link ReadSource#size()} stays 0.
     */
    private volatile long readableBytes;

    VlogFile(long id, String name, ReadSource source, long readableBytes, Release onRelease) {
        this.id = id;
        this.name = name;
        this.source = source;
        this.readableBytes = readableBytes;
        this.onRelease = onRelease;
    }

    /** The file's size in bytes as readers see it. */
    long readableBytes() {
        return readableBytes;
    }

    /** The active file has {@code bytes} appended in all, each of them readable now. */
    void appendedTo(long bytes) {
        readableBytes = bytes;
    }

    /** Where the bytes are read from; reads are bounded by {@link #readableBytes()}, not by its size. */
    ReadSource source() {
        return source;
    }

    /**
     * Switches reads to {@code sealed} (a mapping of the now complete file).
     *
     * @throws IOException if {@code sealed} does not cover exactly the bytes appended (it is closed
     *         and reads stay on the current source)
     */
    synchronized void seal(ReadSource sealed) throws IOException {
        if (sealed.size() != readableBytes) {
            sealed.close();
            throw new IOException("value log " + name + " holds " + sealed.size() + " bytes once sealed, but "
                    + readableBytes + " were appended to it");
        }
        replaced.add(source);
        source = sealed;
    }

    /** Takes a read reference unless the file is already released. */
    boolean tryRef() {
        return RefCounts.tryIncrement(refs);
    }

    void unref() {
        if (refs.decrementAndGet() == 0) {
            closeSources();
            onRelease.release(this, retired);
        }
    }

    /** Marks the file as collected at {@code version}; readers older than that may still use it. */
    void retire(long version) {
        retiredAtVersion = version;
        retired = true;
    }

    boolean isRetired() {
        return retired;
    }

    long retiredAtVersion() {
        return retiredAtVersion;
    }

    private synchronized void closeSources() {
        List<ReadSource> all = new ArrayList<>(replaced);
        all.add(source);
        for (ReadSource s : all) {
            try {
                s.close();
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot close value log " + name, e);
            }
        }
    }
}
