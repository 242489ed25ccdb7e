package io.trainkv.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Random reads of an immutable file (a table, a sealed value log): through a memory mapping on
 * file systems that support it, positional reads elsewhere (jimfs), behind one interface.
 * Thread-safe. {@link #close()} unmaps at once; the owner calls it only when no reader can still
 * use the file (reference counting).
 */
public abstract class ReadSource implements Closeable {

    /** Mappings are made in chunks of this size, below the 2 GiB limit of one buffer. */
    static final long MAP_CHUNK = 1L << 30;

    protected final ReadableFile file;
    protected final long size;

    private ReadSource(ReadableFile file) throws IOException {
        this.file = file;
        this.size = file.size();
    }

    /** Opens a mapped source if {@code mmap} is asked for and supported, otherwise a positional one. */
    public static ReadSource open(ReadableFile file, boolean mmap) throws IOException {
        if (mmap) {
            try {
                return new Mapped(file);
            } catch (UnsupportedOperationException e) {
                return new Positional(file);
            }
        }
        return new Positional(file);
    }

    /**
     * The file's length in bytes when this source was opened. A source of a file that is still
     * appended to (the active value-log file) does not follow it: its owner bounds reads itself.
     */
    public long size() {
        return size;
    }

    public abstract boolean isMapped();

    /** {@link ReadableFile#isZeros}: whether every byte from {@code from} to {@code end} is zero. */
    public boolean isZeros(long from, long end) throws IOException {
        return file.isZeros(from, end);
    }

    /**
     * Reads {@code length} bytes at {@code offset} (the caller has checked the range against
     * {@link #size()}); the result has position 0 and limit {@code length}. A mapped source returns
     * a view of the mapping, valid until {@link #close()}.
     */
    public abstract ByteBuffer read(long offset, int length) throws IOException;

    /** Memory-mapped reads; {@link #close()} unmaps at once. */
    private static final class Mapped extends ReadSource {
        private final ByteBuffer[] chunks;

        Mapped(ReadableFile file) throws IOException {
            super(file);
            int count = (int) ((size + MAP_CHUNK - 1) / MAP_CHUNK);
            chunks = new ByteBuffer[count];
            try {
                for (int i = 0; i < count; i++) {
                    long start = i * MAP_CHUNK;
                    chunks[i] = file.map(start, Math.min(MAP_CHUNK, size - start));
                }
            } catch (IOException | RuntimeException | Error e) {
                unmapAll();
                throw e;
            }
        }

        @Override
        public boolean isMapped() {
            return true;
        }

        @Override
        public ByteBuffer read(long offset, int length) {
            int chunk = (int) (offset / MAP_CHUNK);
            int at = (int) (offset % MAP_CHUNK);
            ByteBuffer first = chunks[chunk];
            if (at + (long) length <= first.capacity()) {
                return first.slice(at, length);
            }
            ByteBuffer copy = ByteBuffer.allocate(length);
            long position = offset;
            while (copy.hasRemaining()) {
                ByteBuffer source = chunks[(int) (position / MAP_CHUNK)].duplicate();
                int from = (int) (position % MAP_CHUNK);
                int n = Math.min(copy.remaining(), source.capacity() - from);
                copy.put(source.position(from).limit(from + n));
                position += n;
            }
            return copy.flip();
        }

        @Override
        public void close() throws IOException {
            unmapAll();
            file.close();
        }

        private void unmapAll() {
            for (int i = 0; i < chunks.length; i++) {
                if (chunks[i] != null) {
                    MappedBuffers.unmap(chunks[i]);
                    chunks[i] = null;
                }
            }
        }
    }

    /** Positional reads into fresh heap buffers. */
    private static final class Positional extends ReadSource {
        Positional(ReadableFile file) throws IOException {
            super(file);
        }

        @Override
        public boolean isMapped() {
            return false;
        }

        @Override
        public ByteBuffer read(long offset, int length) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            int n = file.read(offset, buffer);
            if (n != length) {
                throw new IOException("short read: " + n + " of " + length + " bytes at offset " + offset);
            }
            return buffer.flip();
        }

        @Override
        public void close() throws IOException {
            file.close();
        }
    }
}
