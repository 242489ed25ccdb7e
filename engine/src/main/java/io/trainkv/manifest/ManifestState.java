package io.trainkv.manifest;

import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a manifest's edits add up to: the live tables, the counters and the value-log statistics.
 * {@link VersionSet} opens from it, and the offline tools read it without opening the database,
 * so both fold the edits by the same rules. Not thread-safe.
 */
public final class ManifestState {

    private final Map<Long, VersionEdit.Added> liveTables = new LinkedHashMap<>();
    private final Map<Long, Long> valueLogDiscard = new HashMap<>();
    private final Set<Long> valueLogsCollected = new HashSet<>();
    private long nextFileNumber;
    private long lastVersion;
    private long logNumber;
    private long droppedDeletionVersion;

    /** The state {@code edits} add up to, applied in order. */
    public static ManifestState of(List<VersionEdit> edits) {
        ManifestState state = new ManifestState();
        for (VersionEdit edit : edits) {
            state.apply(edit);
        }
        return state;
    }

    private void apply(VersionEdit edit) {
        for (VersionEdit.Deleted d : edit.deleted()) {
            liveTables.remove(d.fileNumber());
        }
        for (VersionEdit.Added a : edit.added()) {
            liveTables.put(a.table().fileNumber(), a);
        }
        if (edit.nextFileNumber() >= 0) {
            nextFileNumber = edit.nextFileNumber();
        }
        if (edit.lastVersion() >= 0) {
            lastVersion = edit.lastVersion();
        }
        if (edit.logNumber() >= 0) {
            logNumber = edit.logNumber();
        }
        droppedDeletionVersion = Math.max(droppedDeletionVersion, edit.droppedDeletionVersion());
        applyValueLogChanges(edit, valueLogDiscard, valueLogsCollected);
    }

    /**
     * Adds an edit's discarded value-log bytes to {@code discard} and its collected files to
     * {@code collected}: a collected file's statistics are dropped and never counted again.
     */
    static void applyValueLogChanges(VersionEdit edit, Map<Long, Long> discard, Set<Long> collected) {
        for (Map.Entry<Long, Long> e : edit.valueLogDiscard().entrySet()) {
            if (!collected.contains(e.getKey())) {
                discard.merge(e.getKey(), e.getValue(), Long::sum);
            }
        }
        for (long fileId : edit.valueLogsCollected()) {
            collected.add(fileId);
            discard.remove(fileId);
        }
    }

    /** The tables the edits leave live, by file number, in the order they were added. */
    public Map<Long, VersionEdit.Added> liveTables() {
        return Collections.unmodifiableMap(liveTables);
    }

    /** Discarded bytes per value-log file not yet collected. */
    public Map<Long, Long> valueLogDiscard() {
        return Collections.unmodifiableMap(valueLogDiscard);
    }

    /** Value-log files GC has collected. */
    public Set<Long> valueLogsCollected() {
        return Collections.unmodifiableSet(valueLogsCollected);
    }

    public long nextFileNumber() {
        return nextFileNumber;
    }

    public long lastVersion() {
        return lastVersion;
    }

    /**
     * The dropped-deletion watermark: the highest version of a tombstone or expired entry compaction
     * discarded (the highest tag 8 of any edit); 0 when none was, and in manifests older than tag 8.
     */
    public long droppedDeletionVersion() {
        return droppedDeletionVersion;
    }

    /** The oldest WAL whose writes are not all in tables yet. */
    public long logNumber() {
        return logNumber;
    }
}
