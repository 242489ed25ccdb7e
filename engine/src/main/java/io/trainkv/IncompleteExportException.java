package io.trainkv;

/**
 * {@link TrainKV#export(java.io.OutputStream, long)} was asked for the writes since a version, but
 * compaction has already discarded a deletion (a tombstone, or an expired entry) newer than that
 * version: an incremental export would silently omit it, so none is written. A full export
 * ({@code sinceVersion} 0) is always exact; import it into an empty database instead.
 */
public class IncompleteExportException extends TrainKVException {
    private static final long serialVersionUID = 1L;

    private final long sinceVersion;
    private final long droppedDeletionVersion;

    public IncompleteExportException(long sinceVersion, long droppedDeletionVersion) {
        super("cannot export the writes since version " + sinceVersion + ": compaction has discarded deletions up to"
                + " version " + droppedDeletionVersion + ", so an incremental export would miss them; take a full"
                + " export (since 0) and load it into an empty database");
        this.sinceVersion = sinceVersion;
        this.droppedDeletionVersion = droppedDeletionVersion;
    }

    /** The {@code sinceVersion} the export was asked for. */
    public long sinceVersion() {
        return sinceVersion;
    }

    /** The highest version of a deletion compaction has discarded; incremental exports since it or later are exact. */
    public long droppedDeletionVersion() {
        return droppedDeletionVersion;
    }
}
