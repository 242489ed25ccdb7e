package io.trainkv.memtable;

/** Thrown when an arena's offset space is exhausted; the memtable must be rotated before that. */
public final class ArenaFullException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    ArenaFullException(String message) {
        super(message);
    }
}
