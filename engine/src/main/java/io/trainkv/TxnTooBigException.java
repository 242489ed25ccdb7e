package io.trainkv;

/**
 * A transaction's pending writes would exceed the documented bound (half the memtable size, or
 * 100,000 keys); the write that crossed it was refused and nothing was written.
 */
public class TxnTooBigException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    public TxnTooBigException(String message) {
        super(message);
    }
}
