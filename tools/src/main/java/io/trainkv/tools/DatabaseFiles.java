package io.trainkv.tools;

import io.trainkv.storage.FileNames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** The files a tool works on: one named file, or every file of a kind in a database directory. */
final class DatabaseFiles {

    private DatabaseFiles() {
    }

    /**
     * {@code target} itself if it is a file of {@code kind} (named as the engine names them, a
     * number and the kind's suffix: the tools judge a file by its kind's rules, and the number
     * tells the newest), else its files of {@code kind} in file-number order.
     *
     * @throws IOException if {@code target} does not exist, cannot be listed, or is a file not named as one of {@code kind}
     */
    static List<Path> of(Path target, FileNames.Kind kind) throws IOException {
        if (!Files.exists(target)) {
            throw new IOException(target + " does not exist");
        }
        if (!Files.isDirectory(target)) {
            if (FileNames.parseNumber(target.getFileName().toString(), kind) < 0) {
                throw new IOException(target + " is not a " + kind.suffix() + " file (the engine names them with a "
                        + "number and " + kind.suffix() + ", e.g. " + FileNames.name(2, kind) + "); name a database "
                        + "directory or one such file");
            }
            return List.of(target);
        }
        try (Stream<Path> files = Files.list(target)) {
            return files.filter(p -> FileNames.parseNumber(p.getFileName().toString(), kind) >= 0)
                    .sorted(Comparator.comparingLong(p -> FileNames.parseNumber(p.getFileName().toString(), kind))).toList();
        }
    }

    /**
     * Whether {@code file} has the highest number among the files of its kind in its directory: the
     * only one of them a crash can have left with a torn tail.
     */
    static boolean isNewest(Path file, FileNames.Kind kind) throws IOException {
        long number = FileNames.parseNumber(file.getFileName().toString(), kind);
        try (Stream<Path> files = Files.list(file.toAbsolutePath().getParent())) {
            return files.noneMatch(p -> FileNames.parseNumber(p.getFileName().toString(), kind) > number);
        }
    }
}
