package io.trainkv;

/** The work of a read-write transaction for {@link TrainKV#update(TransactionBody)}. */
@FunctionalInterface
public interface TransactionBody {
    void run(Transaction txn);
}
