package io.trainkv.sstable;

/**
 * Where a stream of {@link TableOutputs} is cut, short of the writer's own block bounds
 * ({@link TableWriter#isFull()}). Exists so that compaction can end an output table at places
 * chosen by the level below its output level (see {@code io.trainkv.compaction.GrandparentCuts})
 * while flushes cut at the target file size alone ({@link #bySize}). Both methods see user keys
 * only, in ascending order, once per user key, so a cut never falls between two versions of one
 * user key.
 */
public interface OutputCuts {

    /** Cuts a table once it holds at least {@code targetFileSize} bytes. */
    static OutputCuts bySize(long targetFileSize) {
        return (key, userKeyLength, openTableBytes) -> openTableBytes >= targetFileSize;
    }

    /**
     * Whether the open table, holding about {@code openTableBytes} bytes, should end before the
     * user key {@code key[0, userKeyLength)}. Asked only while a table is open and not full; may
     * be followed by {@link #added} with either answer, for the same key.
     */
    boolean cutBefore(byte[] key, int userKeyLength, long openTableBytes);

    /**
     * The user key {@code key[0, userKeyLength)} went into a table; {@code startsTable} says
     * whether it is the first key of that table.
     */
    default void added(byte[] key, int userKeyLength, boolean startsTable) {
    }
}
