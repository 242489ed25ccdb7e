package io.trainkv.storage;

import java.io.IOException;

/** Thrown when a database directory is already owned by another process or another open database. */
public final class DirectoryLockedException extends IOException {
    private static final long serialVersionUID = 1L;

    public DirectoryLockedException(String message) {
        super(message);
    }
}
