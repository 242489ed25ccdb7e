package io.trainkv;

/** A read that returns a result, for {@link TrainKV#view(TransactionFunction)}. */
@FunctionalInterface
public interface TransactionFunction<T> {
    T apply(Transaction txn);
}
