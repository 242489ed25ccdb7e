package io.trainkv.replication;

import io.trainkv.TrainKVException;

/**
 * The cluster did not answer a request in time (no leader elected, a majority unreachable), or a
 * replica failed to apply it. For a write or a commit the outcome is then unknown: it may have been
 * applied. Unchecked, like every TrainKV failure.
 */
public class ReplicationException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    public ReplicationException(String message, Throwable cause) {
        super(message, cause);
    }

    public ReplicationException(String message) {
        super(message);
    }
}
