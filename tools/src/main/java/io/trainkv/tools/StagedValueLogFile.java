package io.trainkv.tools;

import io.trainkv.storage.ReadableFile;
import io.trainkv.vlog.ValueLogStage;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A value-log file read as an open that writes leaves it: its own bytes, then the bytes of its
 * entries that the value-log stage ({@code VLOG-STAGE}) holds past its end, which such an open
 * appends ({@link ValueLogStage#lackedBy}). A killed writer leaves its newest entries in the
 * stage, and a kill inside the write that moves them to the file leaves the file ending inside
 * an entry; read alone, that file would show a torn tail that an open fills and that loses
 * nothing. {@code vlog-verify} reads such a file through this view.
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
    StagedValueLogFile(ReadableFile file, ByteBuffer staged) throws IOException {
        this.file = file;
        this.fileSize = file.size();
        this.staged = staged;
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
