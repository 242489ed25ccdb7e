package io.trainkv.storage;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * Copies a file, or its first bytes, from one {@link Storage} directory to another through the
 * storage seam, so that checkpoints and backups work on any file system the engine runs on
 * (jimfs, fault-injecting storage) and never read past a length fixed in advance: a file that is
 * still being appended to (the active WAL or value-log file) is copied exactly up to the length
 * the caller captured, whatever arrives later.
 */
public final class FileCopy {

    /** Bytes read and appended per step. */
    private static final int CHUNK_BYTES = 1 << 20;

    /** Receives each chunk copied, for checksums and progress; lengths in bytes. */
    public interface ChunkListener {
        void copied(ByteBuffer chunk);
    }

    private FileCopy() {
    }

    /**
     * Creates {@code targetName} in {@code target} holding the first {@code length} bytes of
     * {@code sourceName} in {@code source}, fsynced before return (the directory entry is durable
     * only after {@code target.syncDirectory()}).
     *
     * @param listener sees every chunk in order (its position to its limit), or null
     * @throws java.io.EOFException naming the file if it holds fewer than {@code length} bytes
     * @throws java.nio.file.FileAlreadyExistsException if {@code targetName} exists in {@code target}
     */
    public static void copy(Storage source, String sourceName, long length, Storage target, String targetName,
                            ChunkListener listener) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(length, 1)));
        try (ReadableFile in = source.openRead(sourceName); WritableFile out = target.create(targetName)) {
            long position = 0;
            while (position < length) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), length - position));
                int read = in.read(position, buffer);
                if (buffer.hasRemaining()) {
                    throw new EOFException(source.describe() + "/" + sourceName + " ends at " + (position + read)
                            + " bytes, before the " + length + " to copy");
                }
                buffer.flip();
                if (listener != null) {
                    listener.copied(buffer.duplicate());
                }
                out.append(buffer);
                position += read;
            }
            out.sync();
        }
    }

    /** Fsyncs an existing file of {@code storage} (for instance a hard link just made). */
    public static void sync(Storage storage, String name) throws IOException {
        try (WritableFile file = storage.openAppend(name)) {
            file.sync();
        }
    }
}
