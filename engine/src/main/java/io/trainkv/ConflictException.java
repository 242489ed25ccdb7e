package io.trainkv;

/**
 * A transaction could not commit: a key it read, or a key in a range its iterators covered, was
 * committed by someone else after the transaction's read version. Nothing was written; retry the
 * transaction ({@link TrainKV#update(TransactionBody, int)} does it for you).
 */
public class ConflictException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    public ConflictException(String message) {
        super(message);
    }
}
