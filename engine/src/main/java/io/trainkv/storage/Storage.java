package io.trainkv.storage;

import java.io.IOException;
import java.nio.MappedByteBuffer;
import java.util.List;

/**
 * The file-system seam: every file operation the engine performs on a database directory goes
 * through this interface, so that tests can run the engine on an in-memory file system and inject
 * I/O errors or simulated crashes.
 *
 * <p>A {@code Storage} is bound to one directory; names are plain file names inside it, never
 * paths. Implementations create new files readable and writable by the owner only, where the file
 * system supports permissions.
 */
public interface Storage {

    /** Creates a new empty file for appending; fails if the file already exists. */
    WritableFile create(String name) throws IOException;

    /**
     * Creates a new empty log file (a write-ahead log, a value-log file) for appending, where
     * appends may cost no system call: a storage may map the file into memory and preallocate it
     * ahead of the appends, so that while the file is open, and after a crash, it may end in
     * zeros past the last append (never in anything else); closing it cuts the zeros off and
     * fsyncs the cut. An append is in the operating system's page cache when it returns, as with
     * {@link #create}; durable after {@link WritableFile#sync()}. By default the same as
     * {@link #create}.
     *
     * @throws java.nio.file.FileAlreadyExistsException if the file exists
     */
    default WritableFile createLog(String name) throws IOException {
        return create(name);
    }

    /**
     * Maps file {@code name}, exactly {@code bytes} long, into memory to be read and (if
     * {@code writable}) stored into in place, where the storage's mappings share the operating
     * system's page cache with its files: a store is in the page cache when it is made, as a
     * write is, and survives the process being killed. Writable, a missing file, or one of
     * another length holding only zeros (its creation never completed), is first made {@code bytes} of zeros and
     * fsynced, and the directory with it. Returns null where the storage cannot map files (the
     * caller goes without), and, read-only, when the file is missing or of another length and
     * holds only zeros. The caller unmaps the buffer ({@link MappedBuffers#unmap}).
     *
     * @throws java.nio.file.FileSystemException if the file is of another length and holds
     *         anything but zeros (it is left as it is)
     * @throws IOException if the file cannot be created, filled or mapped
     */
    default MappedByteBuffer mapFixedSize(String name, int bytes, boolean writable) throws IOException {
        return null;
    }

    /** Opens an existing file for appending at its current end. */
    WritableFile openAppend(String name) throws IOException;

    /** Opens an existing file for positional reads. */
    ReadableFile openRead(String name) throws IOException;

    /** Atomically replaces {@code target} with {@code source}. Durable only after {@link #syncDirectory()}. */
    void rename(String source, String target) throws IOException;

    /** Deletes a file; does nothing if it does not exist. Durable only after {@link #syncDirectory()}. */
    void delete(String name) throws IOException;

    /** Makes creations, renames and deletions in the directory durable. */
    void syncDirectory() throws IOException;

    /** Lists the names of the regular files in the directory, in no particular order. */
    List<String> list() throws IOException;

    /** Returns whether a file of that name exists. */
    boolean exists(String name) throws IOException;

    /** Returns the size in bytes of a file. */
    long size(String name) throws IOException;

    /**
     * Takes the exclusive lock on the directory through the named lock file, so that one process
     * (and one open database within a process) owns it.
     *
     * @throws DirectoryLockedException when another owner holds the lock
     */
    DirectoryLock lock(String name) throws IOException;

    /**
     * Makes file {@code name} of this directory appear under the same name in {@code target}'s
     * directory as a hard link (one file, two names), if both directories are on one file system
     * that supports hard links. Returns false, having changed nothing, where it cannot; the caller
     * then copies the file ({@link FileCopy}). Only for files that are never written again
     * (tables, sealed value-log files): a link shares every later change. Durable only after
     * {@code target.syncDirectory()}.
     *
     * @throws java.nio.file.FileAlreadyExistsException if {@code target} already has a file of that name
     */
    default boolean linkInto(String name, Storage target) throws IOException {
        return false;
    }

    /** A human-readable location of the directory, for messages. */
    String describe();
}
