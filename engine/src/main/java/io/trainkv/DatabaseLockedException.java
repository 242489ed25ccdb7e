package io.trainkv;

/** The database directory is already open, in this process or another. */
public class DatabaseLockedException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    public DatabaseLockedException(String message, Throwable cause) {
        super(message, cause);
    }
}
