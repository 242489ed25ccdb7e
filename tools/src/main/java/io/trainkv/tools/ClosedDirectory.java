package io.trainkv.tools;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.DirectoryLockedException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The offline tools read a database only while no process has it open: a tool holds the
 * directory lock for as long as it reads, so a process cannot open the database and compact or
 * collect files under it. Taking the lock writes nothing: a directory without a lock file has
 * never been opened by a running engine and is read without one (the lock file is not created).
 * A tool that runs other tools inside it ({@code check}) holds the lock once for all of them.
 */
final class ClosedDirectory {

    /** Directories tools of this process hold, with how many tool runs hold each. */
    private static final Map<Path, Held> HELD = new HashMap<>();

    private ClosedDirectory() {
    }

    /** A database directory's lock held by this process's tools, and how many of them hold it. */
    private static final class Held {
        final DirectoryLock lock;
        int holders = 1;

        Held(DirectoryLock lock) {
            this.lock = lock;
        }
    }

    /** What {@link #hold} got: the directory held until closed, or the reason it is refused. */
    static final class Hold implements AutoCloseable {
        private final Path key;
        private final String refusal;
        private boolean closed;

        private Hold(Path key, String refusal) {
            this.key = key;
            this.refusal = refusal;
        }

        /** The one-line reason the tool must not read the directory, or null. */
        String refusal() {
            return refusal;
        }

        @Override
        public void close() {
            if (key == null || closed) {
                return;
            }
            closed = true;
            synchronized (HELD) {
                Held held = HELD.get(key);
                if (--held.holders == 0) {
                    HELD.remove(key);
                    try {
                        held.lock.close();
                    } catch (IOException e) {
                        System.err.println("warning: cannot release the lock of " + key + ": " + e.getMessage());
                    }
                }
            }
        }
    }

    /**
     * Runs a tool's {@code work} with the database directory that {@code fileOrDirectory} names or
     * lies in held closed; a refused directory is reported on {@code err} with exit code 2.
     */
    static int whileHeld(Path fileOrDirectory, PrintWriter err, IntSupplier work) {
        Path directory = Files.isDirectory(fileOrDirectory) ? fileOrDirectory : fileOrDirectory.toAbsolutePath().getParent();
        try (Hold hold = hold(directory)) {
            if (hold.refusal() != null) {
                err.println("error: " + hold.refusal());
                return 2;
            }
            return work.getAsInt();
        }
    }

    /**
     * Holds {@code directory} closed against other processes until the returned hold is closed,
     * or says why not. A directory that is not a database (no {@code CURRENT}) or has no lock file
     * is held without a lock; the tool reports what it finds there itself.
     */
    static Hold hold(Path directory) {
        if (directory == null || !Files.isDirectory(directory) || !Files.exists(directory.resolve(FileNames.CURRENT))
                || !Files.exists(directory.resolve(FileNames.LOCK))) {
            return new Hold(null, null);
        }
        synchronized (HELD) {
            Path key;
            try {
                key = directory.toRealPath();
            } catch (IOException e) {
                return new Hold(null, "cannot resolve " + directory + ": " + e.getMessage());
            }
            Held held = HELD.get(key);
            if (held != null) {
                held.holders++;
                return new Hold(key, null);
            }
            try {
                HELD.put(key, new Held(NioStorage.open(directory).lock(FileNames.LOCK)));
                return new Hold(key, null);
            } catch (DirectoryLockedException e) {
                return new Hold(null, "refused: " + e.getMessage()
                        + "; close it first (the offline tools need a closed directory)");
            } catch (IOException e) {
                return new Hold(null, "cannot lock " + directory + ": " + e.getMessage());
            }
        }
    }

    /**
     * For the tools that open the database themselves (the engine then takes the lock): null if
     * {@code directory} is free to open, else the one-line reason to refuse it.
     */
    static String refusal(Path directory) {
        try (Hold hold = hold(directory)) {
            return hold.refusal();
        }
    }

    /**
     * As {@link #refusal(Path)}, and also refuses a directory that is not a database, for the tools
     * that open the database and would otherwise create an empty one.
     */
    static String refusalOfDatabase(Path directory) {
        if (!Files.isRegularFile(directory.resolve(FileNames.CURRENT))) {
            return directory + " is not a TrainKV database (no " + FileNames.CURRENT + " file)";
        }
        return refusal(directory);
    }
}
