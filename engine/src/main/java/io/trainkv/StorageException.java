package io.trainkv;

/** An I/O operation on the database directory failed; the message names the operation and file. */
public class StorageException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
