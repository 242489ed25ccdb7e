package io.trainkv.bench.db;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive lock on a run's {@code --db} directory for the whole run, so that a second
 * {@code scripts/bench} on the same directory stops at once instead of emptying the databases the
 * first one is using (the default directory is shared by every user of the machine's temp dir).
 * The lock file {@value #NAME} stays behind; the lock, not the file, is what counts.
 */
final class BenchDirectoryLock implements AutoCloseable {

    static final String NAME = "bench.lock";

    private final FileChannel channel;
    private final FileLock lock;

    private BenchDirectoryLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /**
     * Creates {@code dir} if needed and locks it.
     *
     * @throws IllegalStateException if another run (in this or another process) holds the lock
     * @throws IOException if the directory or its lock file cannot be created or opened
     */
    static BenchDirectoryLock take(Path dir) throws IOException {
        Files.createDirectories(dir);
        FileChannel channel = FileChannel.open(dir.resolve(NAME), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock;
        try {
            lock = channel.tryLock();
        } catch (OverlappingFileLockException e) {
            lock = null;
        }
        if (lock == null) {
            channel.close();
            throw new IllegalStateException("another scripts/bench run is using --db " + dir
                    + "; give each run a --db of its own");
        }
        return new BenchDirectoryLock(channel, lock);
    }

    @Override
    public void close() throws IOException {
        try {
            lock.release();
        } finally {
            channel.close();
        }
    }
}
