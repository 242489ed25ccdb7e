package io.trainkv.tools;

import io.trainkv.storage.ReadSource;
import io.trainkv.storage.ReadableFile;
import io.trainkv.vlog.ValueLogStage;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A value-log file read as an open that writes leaves it: its own bytes, then the bytes of its
 * entries that the value-log stage ({@code VLOG-STAGE}) holds past its end, which such an open
 * appends ({@link ValueLogStage#lackedBy}). A killed writer leaves its newest entries in the
 * stage, and a kill inside the write that moves them to the file leaves the file ending inside
 * an entry; read alone, that file would show a torn tail that an open fills and that loses
 * nothing. {@code vlog-verify} and {@code vlog-dump} read every file through {@link #open}, and
 * say from {@link Source#fileEnd()} which bytes and entries are only in the stage.
 */
final class StagedValueLogFile implements ReadableFile {

    private final ReadableFile file;
    private final long fileSize;
    private final ByteBuffer staged;

    /**
     * @param file the value-log file, closed by {@link #close()}
     * @param staged the bytes the stage holds past the file's end, from position 0 to the limit
     * @throws IOException if the file's size cannot be read
     */
    private StagedValueLogFile(ReadableFile file, ByteBuffer staged) throws IOException {
        this.file = file;
        this.fileSize = file.size();
        this.staged = staged;
    }

    /**
     * A value-log file opened as an open that writes leaves it. {@code source} reads its
     * {@link #fileEnd} bytes of its own, then the bytes {@code VLOG-STAGE} holds for it past that
     * (none if it holds none: {@link #stagedBytes()} is then 0), to {@code source.size()}.
     */
    record Source(ReadSource source, long fileEnd) implements Closeable {

        /** Bytes read from the stage, not the file: {@code source.size() - fileEnd}; 0 if none. */
        long stagedBytes() {
            return source.size() - fileEnd;
        }

        /**
         * Of the {@code length} bytes at {@code offset} (an entry), how many are only in the
         * stage: 0 if the file holds them all, {@code length} if the file holds none of them.
         */
        long stagedOf(long offset, long length) {
            return Math.max(0, Math.min(length, offset + length - fileEnd));
        }

        @Override
        public void close() throws IOException {
            source.close();
        }
    }

    /**
     * Opens value-log file {@code fileId}, {@code file}, to be read as an open that writes leaves
     * it: followed by the bytes {@code stage} holds past its end ({@link ValueLogStage#lackedBy}),
     * if it holds any. A file without staged bytes is read through a mapping where the storage
     * supports one.
     *
     * @param file the value-log file, closed by the returned source's {@code close()} (and here, on failure)
     * @param stage the value-log stage read-only, or null when it holds nothing an open appends
     * @throws IOException if the file's size cannot be read or the file cannot be mapped or read
     */
    static Source open(ReadableFile file, ValueLogStage stage, long fileId) throws IOException {
        try {
            long fileEnd = file.size();
            ByteBuffer staged = stage == null ? null : stage.lackedBy(fileId, fileEnd);
            ReadSource source = staged == null ? ReadSource.open(file, true)
                    : ReadSource.open(new StagedValueLogFile(file, staged), false);
            return new Source(source, fileEnd);
        } catch (IOException | RuntimeException e) {
            file.close();
            throw e;
        }
    }

    @Override
    public int read(long position, ByteBuffer dst) throws IOException {
        int read = 0;
        if (position < fileSize) {
            int limit = dst.limit();
            dst.limit((int) Math.min(limit, dst.position() + (fileSize - position)));
            try {
                read = file.read(position, dst);
            } finally {
                dst.limit(limit);
            }
            if (position + read < fileSize) {
                return read;
            }
        }
        long at = position + read - fileSize;
        if (at < staged.limit()) {
            int n = (int) Math.min(dst.remaining(), staged.limit() - at);
            dst.put(dst.position(), staged, (int) at, n);
            dst.position(dst.position() + n);
            read += n;
        }
        return read;
    }

    @Override
    public long size() {
        return fileSize + staged.limit();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
