package io.trainkv;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The file systems engine tests run on: jimfs in memory, and a temporary directory on disk. */
enum FileSystemKind {
    JIMFS {
        @Override
        Path newDirectory(Path tempDir) {
            return Jimfs.newFileSystem(Configuration.unix()).getPath("/db");
        }
    },
    DISK {
        @Override
        Path newDirectory(Path tempDir) throws IOException {
            return Files.createTempDirectory(tempDir, "db");
        }
    };

    /** A fresh, not yet existing or empty, database directory. */
    abstract Path newDirectory(Path tempDir) throws IOException;
}
