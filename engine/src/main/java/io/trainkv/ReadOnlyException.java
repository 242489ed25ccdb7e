package io.trainkv;

/**
 * A write, flush, sync, compaction or value-log GC was asked of a database opened with
 * {@link Options#readOnly(boolean)}.
 */
public class ReadOnlyException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    public ReadOnlyException(String message) {
        super(message);
    }
}
