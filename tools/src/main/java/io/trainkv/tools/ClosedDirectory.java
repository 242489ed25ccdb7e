package io.trainkv.tools;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.DirectoryLockedException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;
import java.util.stream.Stream;

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
     * lies in held closed. A path that does not exist, a directory that holds no file of a database
     * ({@link #notADatabase}) or one that is refused is reported with exit code 2 instead: as one {@code error: …} line on {@code err},
     * or with {@code json} as one JSON object with an {@code error} field on {@code out}. A file
     * named directly is always given to {@code work}.
     */
    static int whileHeld(Path fileOrDirectory, PrintWriter out, PrintWriter err, boolean json, IntSupplier work) {
        if (!Files.exists(fileOrDirectory)) {
            return unusable(fileOrDirectory, fileOrDirectory + " does not exist", out, err, json);
        }
        boolean isDirectory = Files.isDirectory(fileOrDirectory);
        Path directory = isDirectory ? fileOrDirectory : fileOrDirectory.toAbsolutePath().getParent();
        String notADatabase = isDirectory ? notADatabase(directory) : null;
        if (notADatabase != null) {
            return unusable(fileOrDirectory, notADatabase, out, err, json);
        }
        try (Hold hold = hold(directory)) {
            if (hold.refusal() != null) {
                return unusable(fileOrDirectory, hold.refusal(), out, err, json);
            }
            return work.getAsInt();
        }
    }

    /**
     * Reports why {@code target} cannot be inspected at all, as one {@code error: …} line on
     * {@code err}, or with {@code json} as one JSON object on {@code out}; returns exit code 2 (unusable).
     */
    static int unusable(Path target, String reason, PrintWriter out, PrintWriter err, boolean json) {
        if (json) {
            out.println(failure(target, Severity.UNUSABLE, reason));
        } else {
            err.println("error: " + reason);
        }
        return Severity.UNUSABLE.exitCode();
    }

    /**
     * Reports that a tool cannot go on with {@code target} and how bad that is, as one
     * {@code error: reason} line on {@code err}, or with {@code json} as one JSON object on
     * {@code out}; returns the severity's exit code.
     */
    static int fail(Path target, Severity severity, String reason, boolean json, PrintStream out, PrintStream err) {
        if (json) {
            out.println(failure(target, severity, reason));
        } else {
            err.println("error: " + reason);
        }
        return severity.exitCode();
    }

    /** The JSON object of a failure: the target, ok, exitCode, severity and the error in words. */
    private static String failure(Path target, Severity severity, String reason) {
        return Json.write(severity.addTo(Json.object("target", target.toString(), "error", reason)));
    }

    /**
     * Null if {@code directory} holds a TrainKV database's files, else the one-line reason it is
     * not a database. A directory with a {@code CURRENT} file, a manifest, a WAL, an SSTable or a
     * value log (a regular file) is a database (if {@code CURRENT} is missing, a damaged one: the tools report what
     * they find in it); an empty directory or one of unrelated files is not one.
     *
     * A directory that cannot be listed is reported as the reason (no exception is thrown).
     */
    static String notADatabase(Path directory) {
        List<Path> entries;
        try (Stream<Path> files = Files.list(directory)) {
            entries = files.toList();
        } catch (IOException e) {
            return "cannot list " + directory + ": " + e.getMessage();
        }
        for (Path entry : entries) {
            String name = entry.getFileName().toString();
            if (!Files.isRegularFile(entry)) {
                continue;
            }
            if (name.equals(FileNames.CURRENT) || FileNames.parseManifest(name) >= 0) {
                return null;
            }
            for (FileNames.Kind kind : FileNames.Kind.values()) {
                if (FileNames.parseNumber(name, kind) >= 0) {
                    return null;
                }
            }
        }
        return directory + " is not a TrainKV database (" + (entries.isEmpty() ? "it is empty"
                : "no " + FileNames.CURRENT + ", manifest, WAL, SSTable or value-log file among its "
                + entries.size() + " entries") + ")";
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

    /** Why a tool must not open a directory, and how bad that is. */
    record Refusal(Severity severity, String reason) {
    }

    /**
     * For the tools that open the database ({@code compact}, {@code vlog-gc}, {@code dump}): null
     * if {@code directory} may be opened, else why not, with the severity the inspection tools
     * give the same directory: unusable if it is not a database ({@link #notADatabase}), is
     * missing or another process holds it; damaged if it holds a database's files but no
     * {@code CURRENT} (the engine would refuse it with a {@code CorruptionException}; these tools
     * refuse it before opening, since an open of a directory without one creates a database).
     */
    static Refusal openRefusal(Path directory) {
        if (!Files.isDirectory(directory)) {
            return new Refusal(Severity.UNUSABLE, directory + " is not a TrainKV database (no such directory)");
        }
        String notADatabase = notADatabase(directory);
        if (notADatabase != null) {
            return new Refusal(Severity.UNUSABLE, notADatabase);
        }
        if (!Files.isRegularFile(directory.resolve(FileNames.CURRENT))) {
            return new Refusal(Severity.DAMAGED, directory + " holds a database's files but no " + FileNames.CURRENT
                    + " file: the database is damaged (trainkv check " + directory + " says more)");
        }
        String held = refusal(directory);
        return held == null ? null : new Refusal(Severity.UNUSABLE, held);
    }
}
