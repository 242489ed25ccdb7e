package io.trainkv.vlog;

import io.trainkv.CorruptionException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.Storage;
import io.trainkv.util.ValuePointer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the value pointers of replayed WAL batches against the value-log files (reading only, at
 * open, before the value log itself is opened) and says of an entry that does not read back
 * whether a crash can have left it so. A crash tears only the end of a file; a value-log file is
 * created durably before anything points into it, and fsynced in full before a newer one is
 * created (by rotation, or by recovery). So an entry that does not read back is damage, not a torn
 * tail, if any of these holds:
 * <ul>
 *   <li>it lies whole in its file and its header still records the batch's version, or the
 *       batch's key and lengths: it was written in full and damaged since;</li>
 *   <li>a newer value-log file exists, or was collected;</li>
 *   <li>a sound entry follows it in its file ({@link ValueLog#nextSoundEntry}, the rule
 *       {@code vlog-verify} applies);</li>
 *   <li>its file is missing.</li>
 * </ul>
 * Not thread-safe; close it to release the files it read.
 *
 * <p>Internal: recovery ({@code io.trainkv.wal.WalReplay}) decides with it whether an open fails, and
 * it is public only so that the offline tools ({@code trainkv check}, {@code vlog-verify}) apply
 * the very same rule rather than a copy of it. Not part of the API.
 */
public final class ValuePointerCheck implements Closeable {

    /**
     * Why a pointer's entry does not read back ({@code problem} names the value-log file and the
     * entry's offset), whether a crash can have left it so, and the evidence either way.
     */
    public record Finding(CorruptionException problem, boolean mayBeTorn, String reason) {
    }

    private final Storage storage;
    private final Set<Long> present;
    private final Set<Long> collected;
    private final long newestFileId;
    private final Map<Long, ReadSource> sources = new HashMap<>();
    private final ValueLogStage stage;

    /**
     * @param fileIds the value-log files in the directory
     * @param collected the value-log files GC collected: pointers into them are superseded
     * @param stage the value-log stage opened read-only, whose pending entries count as part of
     *        their file (an open that writes applies them), or null; not closed by this check
     */
    public ValuePointerCheck(Storage storage, List<Long> fileIds, Set<Long> collected, ValueLogStage stage) {
        this.storage = storage;
        this.stage = stage;
        this.present = Set.copyOf(fileIds);
        this.collected = collected;
        long newest = -1;
        for (long id : fileIds) {
            newest = Math.max(newest, id);
        }
        for (long id : collected) {
            newest = Math.max(newest, id);
        }
        this.newestFileId = newest;
    }

    /** Whether GC collected the value-log file: pointers into it are superseded, never checked. */
    public boolean isCollected(long fileId) {
        return collected.contains(fileId);
    }

    /**
     * Null if the entry {@code pointer} names reads back (or lies in a collected file), else what
     * is wrong with it. {@code key} and {@code version} are the batch entry's that holds the pointer.
     * Reads only; the value-log file stays open until {@link #close()}.
     *
     * @throws IOException if a value-log file exists but cannot be read
     */
    public Finding check(ValuePointer pointer, byte[] key, long version) throws IOException {
        long fileId = pointer.fileId();
        if (collected.contains(fileId)) {
            return null;
        }
        String name = FileNames.name(fileId, FileNames.Kind.VALUE_LOG);
        if (!present.contains(fileId)) {
            return new Finding(new CorruptionException(name, pointer.offset(), "value log " + name + " at offset "
                    + pointer.offset() + ": the file is missing"), false,
                    "value-log files are created durably before anything points into them");
        }
        ByteBuffer staged = stage == null ? null : stage.read(fileId, pointer.offset(), pointer.length());
        if (staged != null) {
            try {
                ValueLog.check(staged, name, fileId, pointer.offset(), pointer.length());
                return null;
            } catch (CorruptionException e) {
                return new Finding(e, false, "the entry is one of those " + FileNames.VALUE_LOG_STAGE
                        + " holds, which all read back when it was opened");
            }
        }
        ReadSource source = source(fileId, name);
        CorruptionException problem;
        try {
            ValueLog.readEntry(source, name, pointer);
            return null;
        } catch (CorruptionException e) {
            problem = e;
        }
        if (writtenInFull(source, pointer, key, version)) {
            return new Finding(problem, false, "the entry lies whole in the file and its header still records the "
                    + "batch's key or version, so it was written in full");
        }
        if (fileId < newestFileId) {
            return new Finding(problem, false, "the newer value log "
                    + FileNames.name(newestFileId, FileNames.Kind.VALUE_LOG) + " exists, and a value-log file is "
                    + "fsynced in full before a newer one is created");
        }
        long sound = ValueLog.nextSoundEntry(source, name, fileId, pointer.offset() + 1);
        if (sound >= 0) {
            return new Finding(problem, false, "a sound entry follows at offset " + sound
                    + ", and a crash tears only the end of a file");
        }
        return new Finding(problem, true, "no sound entry follows it in the newest value-log file");
    }

    /**
     * Whether the entry lies whole in the file and its header records the batch entry's version,
     * or its key and the lengths the pointer implies. A crash that cut the file short or left
     * zeros or garbage at its end cannot leave that; one flipped byte does.
     */
    private static boolean writtenInFull(ReadSource source, ValuePointer pointer, byte[] key, long version)
            throws IOException {
        int headerAndKey = VlogFormat.HEADER_SIZE + key.length;
        if (pointer.offset() < 0 || pointer.length() < headerAndKey
                || pointer.offset() + pointer.length() > source.size()) {
            return false;
        }
        ByteBuffer start = source.read(pointer.offset(), headerAndKey);
        byte[] storedKey = new byte[key.length];
        start.get(VlogFormat.HEADER_SIZE, storedKey);
        boolean lengthsAndKey = start.getInt(12) == key.length
                && start.getInt(16) == pointer.length() - headerAndKey && Arrays.equals(storedKey, key);
        return start.getLong(4) == version || lengthsAndKey;
    }

    /** The value-log files the checked pointers named, that exist and are not collected. */
    public Set<Long> filesRead() {
        return Set.copyOf(sources.keySet());
    }

    private ReadSource source(long fileId, String name) throws IOException {
        ReadSource source = sources.get(fileId);
        if (source == null) {
            source = ReadSource.open(storage.openRead(name), false);
            sources.put(fileId, source);
        }
        return source;
    }

    @Override
    public void close() throws IOException {
        IOException failure = null;
        for (ReadSource source : sources.values()) {
            try {
                source.close();
            } catch (IOException e) {
                failure = failure == null ? e : failure;
            }
        }
        sources.clear();
        if (failure != null) {
            throw failure;
        }
    }
}
