package io.trainkv.tools;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.DirectoryLockedException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The offline tools read a database only while no process has it open: this takes and releases
 * the directory lock to find out, without writing anything to a directory that is not a database.
 */
final class ClosedDirectory {

    private ClosedDirectory() {
    }

    /** As {@link #refusal(Path)} for the directory a tool's FILE|DIR argument names or lies in. */
    static String refusalFor(Path fileOrDirectory) {
        return refusal(Files.isDirectory(fileOrDirectory) ? fileOrDirectory : fileOrDirectory.toAbsolutePath().getParent());
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

    /**
     * Null if {@code directory} is a database nobody holds (or not a database at all, which the
     * tool reports itself), otherwise the one-line reason to refuse it.
     */
    static String refusal(Path directory) {
        if (!Files.isDirectory(directory) || !Files.exists(directory.resolve(FileNames.CURRENT))) {
            return null;
        }
        try (DirectoryLock lock = NioStorage.open(directory).lock(FileNames.LOCK)) {
            return null;
        } catch (DirectoryLockedException e) {
            return "refused: " + e.getMessage() + "; close it first (the offline tools need a closed directory)";
        } catch (IOException e) {
            return "cannot lock " + directory + ": " + e.getMessage();
        }
    }
}
