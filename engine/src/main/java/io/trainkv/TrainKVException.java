package io.trainkv;

/** Root of every exception the engine throws for database-level failures. Unchecked. */
public class TrainKVException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public TrainKVException(String message) {
        super(message);
    }

    public TrainKVException(String message, Throwable cause) {
        super(message, cause);
    }
}
