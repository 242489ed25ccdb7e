package io.trainkv.manifest;

import io.trainkv.util.ByteOutput;
import io.trainkv.util.KeyFormat;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One change to the set of tables, as logged in the manifest: tables added (with their level and
 * key range) and deleted, and the counters that must survive restarts. Encoding, a sequence of
 * tagged fields (all integers big-endian):
 * <pre>
 *   1 nextFileNumber(8)
 *   2 lastVersion(8)
 *   3 logNumber(8)                      WALs numbered below this are flushed
 *   4 level(1) fileNumber(8)            delete table
 *   5 level(1) fileNumber(8) fileSize(8) smallestLength(4) smallest largestLength(4) largest   add table
 *   6 valueLogFile(8) bytes(8)          add discarded bytes to a value-log file's count
 *   7 valueLogFile(8)                   the value-log file was collected by GC
 *   8 droppedDeletionVersion(8)         compaction discarded a tombstone or expired entry this new
 * </pre>
 */
public final class VersionEdit {

    static final int TAG_NEXT_FILE_NUMBER = 1;
    static final int TAG_LAST_VERSION = 2;
    static final int TAG_LOG_NUMBER = 3;
    static final int TAG_DELETE_TABLE = 4;
    static final int TAG_ADD_TABLE = 5;
    static final int TAG_VALUE_LOG_DISCARD = 6;
    static final int TAG_VALUE_LOG_COLLECTED = 7;
    static final int TAG_DROPPED_DELETION = 8;

    /** A table added at a level. */
    public record Added(int level, TableMeta table) {
    }

    /** A table removed from a level. */
    public record Deleted(int level, long fileNumber) {
    }

    private long nextFileNumber = -1;
    private long lastVersion = -1;
    private long logNumber = -1;
    private final List<Added> added = new ArrayList<>();
    private final List<Deleted> deleted = new ArrayList<>();
    private final Map<Long, Long> valueLogDiscard = new TreeMap<>();
    private final List<Long> valueLogsCollected = new ArrayList<>();
    private long droppedDeletionVersion;

    public VersionEdit nextFileNumber(long number) {
        this.nextFileNumber = number;
        return this;
    }

    public VersionEdit lastVersion(long version) {
        this.lastVersion = version;
        return this;
    }

    public VersionEdit logNumber(long number) {
        this.logNumber = number;
        return this;
    }

    public VersionEdit addTable(int level, TableMeta table) {
        added.add(new Added(level, table));
        return this;
    }

    public VersionEdit deleteTable(int level, long fileNumber) {
        deleted.add(new Deleted(level, fileNumber));
        return this;
    }

    /** Adds {@code bytes} of dropped values to value-log file {@code fileId}'s discard count. */
    public VersionEdit addValueLogDiscard(long fileId, long bytes) {
        valueLogDiscard.merge(fileId, bytes, Long::sum);
        return this;
    }

    /** Records that GC collected value-log file {@code fileId}: it must not be read, and goes at the next open. */
    public VersionEdit valueLogCollected(long fileId) {
        valueLogsCollected.add(fileId);
        return this;
    }

    /**
     * Raises the dropped-deletion watermark this edit carries to at least {@code version}: the
     * version of a tombstone or expired entry that compaction discarded without writing it out.
     */
    public VersionEdit droppedDeletion(long version) {
        droppedDeletionVersion = Math.max(droppedDeletionVersion, version);
        return this;
    }

    /** The highest dropped-deletion version the edit records; 0 when it records none. */
    public long droppedDeletionVersion() {
        return droppedDeletionVersion;
    }

    public Map<Long, Long> valueLogDiscard() {
        return Collections.unmodifiableMap(valueLogDiscard);
    }

    public List<Long> valueLogsCollected() {
        return Collections.unmodifiableList(valueLogsCollected);
    }

    /** -1 when the edit does not set it. */
    public long nextFileNumber() {
        return nextFileNumber;
    }

    /** -1 when the edit does not set it. */
    public long lastVersion() {
        return lastVersion;
    }

    /** -1 when the edit does not set it. */
    public long logNumber() {
        return logNumber;
    }

    public List<Added> added() {
        return Collections.unmodifiableList(added);
    }

    public List<Deleted> deleted() {
        return Collections.unmodifiableList(deleted);
    }

    void encode(ByteOutput out) {
        if (nextFileNumber >= 0) {
            out.writeByte(TAG_NEXT_FILE_NUMBER).writeLong(nextFileNumber);
        }
        if (lastVersion >= 0) {
            out.writeByte(TAG_LAST_VERSION).writeLong(lastVersion);
        }
        if (logNumber >= 0) {
            out.writeByte(TAG_LOG_NUMBER).writeLong(logNumber);
        }
        for (Deleted d : deleted) {
            out.writeByte(TAG_DELETE_TABLE).writeByte(d.level()).writeLong(d.fileNumber());
        }
        for (Map.Entry<Long, Long> e : valueLogDiscard.entrySet()) {
            out.writeByte(TAG_VALUE_LOG_DISCARD).writeLong(e.getKey()).writeLong(e.getValue());
        }
        for (long fileId : valueLogsCollected) {
            out.writeByte(TAG_VALUE_LOG_COLLECTED).writeLong(fileId);
        }
        if (droppedDeletionVersion > 0) {
            out.writeByte(TAG_DROPPED_DELETION).writeLong(droppedDeletionVersion);
        }
        for (Added a : added) {
            TableMeta t = a.table();
            out.writeByte(TAG_ADD_TABLE).writeByte(a.level()).writeLong(t.fileNumber()).writeLong(t.fileSize());
            out.writeInt(t.smallestKey().length).write(t.smallestKey());
            out.writeInt(t.largestKey().length).write(t.largestKey());
        }
    }

    /**
     * Decodes an edit.
     *
     * @throws IllegalArgumentException describing what is malformed
     */
    static VersionEdit decode(ByteBuffer in, int maxLevels) {
        VersionEdit edit = new VersionEdit();
        try {
            while (in.hasRemaining()) {
                int tag = in.get();
                switch (tag) {
                    case TAG_NEXT_FILE_NUMBER -> edit.nextFileNumber(nonNegative(in.getLong(), "next file number"));
                    case TAG_LAST_VERSION -> edit.lastVersion(version(in.getLong(), "last version"));
                    case TAG_LOG_NUMBER -> edit.logNumber(nonNegative(in.getLong(), "log number"));
                    case TAG_DELETE_TABLE -> edit.deleteTable(level(in.get(), maxLevels),
                            nonNegative(in.getLong(), "file number"));
                    case TAG_ADD_TABLE -> {
                        int level = level(in.get(), maxLevels);
                        long number = nonNegative(in.getLong(), "file number");
                        long size = nonNegative(in.getLong(), "file size");
                        byte[] smallest = KeyFormat.readLengthPrefixed(in);
                        byte[] largest = KeyFormat.readLengthPrefixed(in);
                        if (KeyFormat.compare(smallest, largest) > 0) {
                            throw new IllegalArgumentException("table " + number + " has smallest key after largest");
                        }
                        edit.addTable(level, new TableMeta(number, size, smallest, largest));
                    }
                    case TAG_VALUE_LOG_DISCARD -> edit.addValueLogDiscard(nonNegative(in.getLong(), "value-log file"),
                            nonNegative(in.getLong(), "discarded bytes"));
                    case TAG_VALUE_LOG_COLLECTED -> edit.valueLogCollected(nonNegative(in.getLong(), "value-log file"));
                    case TAG_DROPPED_DELETION -> edit.droppedDeletion(version(in.getLong(), "dropped-deletion version"));
                    default -> throw new IllegalArgumentException("unknown field tag " + tag);
                }
            }
        } catch (BufferUnderflowException e) {
            throw new IllegalArgumentException("edit truncated inside a field", e);
        }
        return edit;
    }

    private static long nonNegative(long value, String what) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " is negative: " + value);
        }
        return value;
    }

    private static long version(long value, String what) {
        if (value < 0 || value > KeyFormat.MAX_VERSION) {
            throw new IllegalArgumentException(what + " out of range: " + value);
        }
        return value;
    }

    private static int level(byte level, int maxLevels) {
        if (level < 0 || level >= maxLevels) {
            throw new IllegalArgumentException("level " + level + " outside 0.." + (maxLevels - 1));
        }
        return level;
    }
}
