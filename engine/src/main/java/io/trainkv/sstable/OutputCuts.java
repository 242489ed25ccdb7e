package io.trainkv.sstable;

/**
 * Where a stream of {@link TableOutputs} is cut besides its own size bounds. Exists so that
 * compaction can end an output table at places chosen by the level below its output level (see
 * {@code io.trainkv.compaction.GrandparentCuts}) while flushes cut by size alone ({@link #NONE}).
 * Both methods see user keys only, in ascending order, once per user key, so a cut never falls
 * between two versions of one user key.
 */
public interface OutputCuts {

    /** Cuts by size alone. */
    OutputCuts NONE = new OutputCuts() {
        @Override
        public boolean cutBefore(byte[] key, int userKeyLength, long openTableBytes) {
            return false;
        }

        @Override
        public void added(byte[] key, int userKeyLength, boolean startsTable) {
        }
    };

    /**
     * Whether the open table should end before the user key {@code key[0, userKeyLength)}.
     * Asked only while a table is open and below its size bounds; may be followed by
     * {@link #added} with either answer, for the same key.
     *
     * @param openTableBytes estimated bytes of the open table so far
     */
    boolean cutBefore(byte[] key, int userKeyLength, long openTableBytes);

    /**
     * The user key {@code key[0, userKeyLength)} went into a table; {@code startsTable} says
     * whether it is the first key of that table.
     */
    void added(byte[] key, int userKeyLength, boolean startsTable);
}
