package io.trainkv.vlog;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.storage.EarlyWriteBack;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.Bytes;
import io.trainkv.util.ValuePointer;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;

/**
 * The value log: numbered append-only files of checksummed entries holding values too large to
 * move through compaction. One file is active (appended to by the write leader, through the
 * {@link ValueLogStage} where the storage maps files, else through {@link Storage#createLog};
 * read with positional reads, and from the stage for entries still staged); the others are
 * sealed (read through mappings where the storage mode has them). A file is fsynced, and cut to
 * its entries, before the next is created; one active when the process stopped ends where the
 * stage's last write to it ended (the next open appends the entries still staged), or, written
 * through a mapping, keeps its zero tail (reads never reach it, and GC and {@code vlog-verify}
 * tell it from a torn tail). Every read, scan and size is bounded by
 * the bytes the file holds for readers ({@link VlogFile#readableBytes()}), never by what a read
 * source saw when it was opened. Reads verify each entry's checksum and report damage with file
 * and offset; a read that finds the log closed throws {@link IllegalStateException}.
 * Thread-safe for readers; {@link #add}, {@link #publishAppended} and {@link #sync} belong to the
 * single write leader.
 */
public final class ValueLog implements Closeable {

    private static final System.Logger LOG = System.getLogger(ValueLog.class.getName());
    /** Header starts examined per read of {@link #nextSoundEntry(ReadSource, String, long, long)}. */
    private static final int SOUND_ENTRY_WINDOW = 1 << 20;
    /** Key bytes {@link #head} has room for at first; it grows to the longest key added. */
    private static final int INITIAL_KEY_BYTES = 64;

    private final Storage storage;
    private final long fileSizeLimit;
    private final boolean mmap;
    private final LongSupplier newFileNumber;
    private final BiConsumer<String, Long> deleteLater;
    /**
     * Where appended entries wait until a MiB of them goes to the active file in one write, and
     * where reads of them find them meanwhile; null where the storage cannot map files (the
     * active file is then appended to directly). Owned: closed with the log.
     */
    private final ValueLogStage stage;
    private final Map<Long, VlogFile> files = new ConcurrentHashMap<>();
    /** Files GC has collected, now or in an earlier session: pointers into them are superseded. */
    private final Set<Long> collected = ConcurrentHashMap.newKeySet();
    /**
     * The header and key of the entry {@link #add} is appending, written in front of its value;
     * reused, so that adding an entry allocates nothing.
     */
    private byte[] head = new byte[VlogFormat.HEADER_SIZE + INITIAL_KEY_BYTES];
    private final CRC32C crc = new CRC32C();
    /** Written by the leader, read by readers and GC to tell the active file from sealed ones. */
    private volatile VlogFile active;
    private WritableFile writer;
    private long writtenSize;
    /** Entry bytes {@link #add} appended since open, all files together; written by the leader. */
    private long appendedBytes;
    /** {@link #appendedBytes} as of the last {@link #publishAppended()}, for {@link #appendedBytes()}. */
    private volatile long publishedAppendedBytes;
    /** Bytes of the active file known fsynced: what a WAL's value-log durable mark records. */
    private long syncedSize;
    private boolean dirty;
    /**
     * The active file's early writeback, settled before each sync: started once the file is three
     * quarters full, or, written from the stage, every {@link EarlyWriteBack#REPEAT_BYTES}.
     */
    private EarlyWriteBack earlyWriteBack;
    /** {@link #writtenSize} when the active file's last writeback started or it was last synced (written from the stage). */
    private long writeBackFrom;
    private volatile boolean closed;

    private ValueLog(Storage storage, long fileSizeLimit, boolean mmap, LongSupplier newFileNumber,
                     BiConsumer<String, Long> deleteLater, ValueLogStage stage) {
        this.storage = storage;
        this.stage = stage;
        this.deleteLater = deleteLater;
        this.fileSizeLimit = fileSizeLimit;
        this.mmap = mmap;
        this.newFileNumber = newFileNumber;
    }

    /**
     * Opens the existing files {@code existing} as sealed (deleting empty ones) and starts a new
     * active file; appends never continue a file written before, whose tail may be torn. With
     * {@code readOnly}, empty files are skipped, not deleted, and there is no active file: the log
     * only serves reads. Takes ownership of {@code stage} (null for none): opened writable, its
     * pending entries already applied ({@link ValueLogStage#applyPending}), it stages the appends;
     * read-only, it serves reads of the entries it holds. It is closed with the log, or here if
     * the open fails.
     */
    public static ValueLog open(Storage storage, List<Long> existing, Set<Long> collected, long fileSizeLimit,
                                boolean mmap, LongSupplier newFileNumber, BiConsumer<String, Long> deleteLater,
                                boolean readOnly, ValueLogStage stage) throws IOException {
        if (!readOnly && stage != null && stage.pending() != null) {
            stage.close();
            throw new IllegalStateException(FileNames.VALUE_LOG_STAGE + " holds entries: apply them first");
        }
        ValueLog log = new ValueLog(storage, fileSizeLimit, mmap, newFileNumber, deleteLater, stage);
        log.collected.addAll(collected);
        try {
            for (long id : existing) {
                if (collected.contains(id)) {
                    continue;
                }
                String name = FileNames.name(id, FileNames.Kind.VALUE_LOG);
                if (storage.size(name) == 0 && (stage == null || !stage.holdsEntriesOf(id))) {
                    if (!readOnly) {
                        storage.delete(name); // an active file no value reached: nothing can point into it
                    }
                    continue;
                }
                ReadSource source = ReadSource.open(storage.openRead(name), mmap);
                log.files.put(id, new VlogFile(id, name, source, source.size(), log::released));
            }
            if (!readOnly) {
                log.startNewFile();
            }
        } catch (IOException | RuntimeException | Error e) {
            log.close();
            throw e;
        }
        return log;
    }

    private void startNewFile() throws IOException {
        long id = newFileNumber.getAsLong();
        String name = FileNames.name(id, FileNames.Kind.VALUE_LOG);
        WritableFile file = stage != null ? storage.create(name) : storage.createLog(name);
        storage.syncDirectory();
        if (stage != null) {
            stage.begin(id, 0);
        }
        VlogFile vlogFile = new VlogFile(id, name, ReadSource.open(storage.openRead(name), false), 0, this::released);
        writer = file;
        earlyWriteBack = new EarlyWriteBack(file);
        writtenSize = 0;
        writeBackFrom = 0;
        syncedSize = 0;
        dirty = false;
        active = vlogFile;
        files.put(id, vlogFile);
    }

    /**
     * Appends an entry to the active file and writes its pointer ({@link ValuePointer#SIZE}
     * bytes, {@link ValuePointer#encode(long, long, int, byte[])}) into {@code pointer};
     * {@link #publishAppended()} must run before any reader can see the pointer. Rotates to a new
     * file when the active one is full. The value is copied once, from {@code value} into the
     * stage's mapping (or the file's, without a stage), and nothing is allocated: it is in the
     * page cache when this returns, so it survives a killed process. An entry no WAL record comes
     * to point to (the write then failed) is dead bytes, as after a crash.
     *
     * @throws IOException if the append fails; the file may then end in part of the entry
     * @throws IndexOutOfBoundsException if {@code pointer} is shorter than {@link ValuePointer#SIZE}
     */
    public void add(byte[] key, long version, byte[] value, byte[] pointer) throws IOException {
        int length = VlogFormat.entryLength(key.length, value.length);
        if (writtenSize > 0 && writtenSize + length > fileSizeLimit) {
            rotate();
        }
        int headLength = VlogFormat.HEADER_SIZE + key.length;
        if (head.length < headLength) {
            head = new byte[headLength];
        }
        Bytes.putLongBigEndian(head, 4, version);
        Bytes.putIntBigEndian(head, 12, key.length);
        Bytes.putIntBigEndian(head, 16, value.length);
        System.arraycopy(key, 0, head, VlogFormat.HEADER_SIZE, key.length);
        crc.reset();
        crc.update(head, 4, headLength - 4); // everything after the checksum field
        crc.update(value, 0, value.length);
        int checksum = (int) crc.getValue();
        Bytes.putIntBigEndian(head, 0, checksum);
        long offset = writtenSize;
        if (stage == null) {
            writer.append(head, 0, headLength);
            writer.append(value, 0, value.length);
        } else {
            stageEntry(headLength, value, length, checksum);
        }
        writtenSize += length;
        appendedBytes += length;
        dirty = true;
        if (stage == null) {
            if (EarlyWriteBack.due(writtenSize, fileSizeLimit)) {
                earlyWriteBack.start();
            }
        } else if (EarlyWriteBack.dueAgain(writtenSize - writeBackFrom, fileSizeLimit) && earlyWriteBack.startAnother()) {
            writeBackFrom = writtenSize;
        }
        ValuePointer.encode(active.id, offset, length, pointer);
    }

    /**
     * Stages the entry in {@link #head} and {@code value}, writing the staged entries to the
     * active file first if it does not fit behind them; one longer than the stage goes to the
     * file through the stage's mapping, after them. A failed write to the file fails this and
     * every later append and sync (the stage keeps the failure, and what the file lacks for the
     * next open).
     */
    private void stageEntry(int headLength, byte[] value, int length, int checksum) throws IOException {
        if (!stage.fits(length)) {
            stage.flushTo(writer);
        }
        if (stage.fits(length)) {
            stage.add(head, headLength, value, checksum, length);
        } else {
            stage.writeThrough(writer, head, headLength, value);
        }
    }

    /**
     * In a log opened read-only, the bytes an open that writes would append to file
     * {@code fileId}, now {@code size} bytes long, from the stage a killed process left
     * ({@link ValueLogStage#lackedBy}); null if none (always, in a log that writes: its stage holds
     * entries of its active file only). A checkpoint of a read-only database appends them to its
     * copy of the file.
     */
    public ByteBuffer stagedPastEnd(long fileId, long size) {
        return stage == null || active != null ? null : stage.lackedBy(fileId, size);
    }

    /**
     * Writes the entries staged so far to the active file (no fsync), so that the file itself
     * holds every entry {@link #add} appended, for a reader of the file rather than of the log (a
     * checkpoint copies it). Leader only.
     *
     * @throws IOException if the write fails; every later append and sync fails too
     */
    public void writeStagedEntries() throws IOException {
        if (stage != null) {
            stage.flushTo(writer);
        }
    }

    /** Lets readers read every entry {@link #add} appended so far; no I/O. */
    public void publishAppended() {
        active.appendedTo(writtenSize);
        publishedAppendedBytes = appendedBytes;
    }

    /**
     * Bytes of entries appended since open and published, writes and GC rewrites alike, also
     * those in files deleted since: the value log's part of the bytes the database wrote.
     */
    public long appendedBytes() {
        return publishedAppendedBytes;
    }

    /**
     * Fsyncs the active file if anything was appended since the last sync, after its early
     * writeback if one runs.
     *
     * @throws IOException if the fsync or the file's early writeback failed (again at every later
     *         sync of the file, for the writeback: see {@link EarlyWriteBack#settle()})
     */
    public void sync() throws IOException {
        publishAppended();
        if (earlyWriteBack != null) { // null when opened read-only
            earlyWriteBack.settle();
        }
        if (dirty) {
            writeStagedEntries();
            writer.sync();
            dirty = false;
        }
        syncedSize = writtenSize;
        writeBackFrom = writtenSize; // nothing to write back before it: with every write synced, no writeback runs
    }

    /**
     * Bytes of the active file ({@link #activeFileId()}) that the last {@link #sync()} made durable:
     * 0 before the first sync of the file. The older files are durable in full. Leader only.
     */
    public long syncedBytes() {
        return syncedSize;
    }

    private void rotate() throws IOException {
        publishAppended();
        earlyWriteBack.settle();
        writeStagedEntries();
        writer.sync();
        writer.close();
        VlogFile sealed = active;
        if (mmap) {
            sealed.seal(ReadSource.open(storage.openRead(sealed.name), true));
        }
        startNewFile();
    }

    /**
     * The live file {@code fileId} with a read reference taken (the caller must
     * {@link VlogFile#unref()} it), or null if there is none. Checks {@link #closed} only after
     * the lookup failed: close marks the log closed before it releases any file, so a file that a
     * close took away is always reported as the close.
     *
     * @throws IllegalStateException if there is no such file because the log is closed
     */
    private VlogFile acquire(long fileId) {
        VlogFile file = files.get(fileId);
        if (file != null && file.tryRef()) {
            return file;
        }
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
        return null;
    }

    /**
     * The value the pointer names, or null if its file has been collected (the caller's view is
     * stale: read again).
     *
     * @throws CorruptionException if the entry fails its checks or its file is missing
     * @throws IllegalStateException if the log is closed and the file already released
     */
    public byte[] read(ValuePointer pointer) throws IOException {
        VlogFile file = acquire(pointer.fileId());
        if (file == null) {
            if (collected.contains(pointer.fileId())) {
                return null;
            }
            String name = FileNames.name(pointer.fileId(), FileNames.Kind.VALUE_LOG);
            throw new CorruptionException(name, pointer.offset(), "value log " + name + " is missing; a value at offset "
                    + pointer.offset() + " cannot be read");
        }
        try {
            return value(file, pointer.offset(), pointer.length());
        } finally {
            file.unref();
        }
    }

    /**
     * The value of the entry at {@code offset}, {@code length} bytes long, of {@code file}, from
     * the stage if it holds it, checked as {@link #check} checks an entry but with no key or
     * {@link VlogEntry} made: a read allocates its value and the buffer over the entry only.
     *
     * @throws CorruptionException if the entry is outside the file or fails its checks
     */
    private byte[] value(VlogFile file, long offset, int length) throws IOException {
        ByteBuffer entry = stage == null ? null : stage.read(file.id, offset, length);
        if (entry == null) {
            entry = readEntryBytes(file.source(), file.name, file.readableBytes(), offset, length);
        }
        int keyLength = verify(entry, file.name, offset, length);
        byte[] value = new byte[length - VlogFormat.HEADER_SIZE - keyLength]; // the lengths add up: verified
        entry.get(VlogFormat.HEADER_SIZE + keyLength, value);
        return value;
    }

    /**
     * Reads and checks the entry a pointer names in a value-log file opened by the caller
     * (read-only; the offline tools use it).
     *
     * @throws CorruptionException if the entry is outside the file or fails its checks
     */
    public static VlogEntry readEntry(ReadSource source, String name, ValuePointer pointer) throws IOException {
        return decode(source, name, pointer.fileId(), source.size(), pointer.offset(), pointer.length());
    }

    /** Reads and checks the entry at {@code offset}, {@code length} bytes long, of a file of {@code size} bytes. */
    private static VlogEntry decode(ReadSource source, String name, long fileId, long size, long offset, int length)
            throws IOException {
        return check(readEntryBytes(source, name, size, offset, length), name, fileId, offset, length);
    }

    /**
     * The {@code length} bytes at {@code offset} of a file of {@code size} bytes, unchecked.
     *
     * @throws CorruptionException if they run past the end of the file or are too few for an entry
     */
    private static ByteBuffer readEntryBytes(ReadSource source, String name, long size, long offset, int length)
            throws IOException {
        if (offset < 0 || length < VlogFormat.HEADER_SIZE || offset + length > size) {
            throw new CorruptionException(name, offset, "value log " + name + " at offset " + offset
                    + ": entry of " + length + " bytes runs past the end of the file (" + size + " bytes)");
        }
        return source.read(offset, length);
    }

    /**
     * Checks and decodes {@code entry}, the {@code length} bytes read from {@code offset} of
     * file {@code name}.
     *
     * @throws CorruptionException if its checksum or lengths are wrong
     */
    static VlogEntry check(ByteBuffer entry, String name, long fileId, long offset, int length) {
        int keyLength = verify(entry, name, offset, length);
        long version = entry.getLong(4);
        int valueLength = entry.getInt(16);
        byte[] key = new byte[keyLength];
        entry.get(VlogFormat.HEADER_SIZE, key);
        byte[] value = new byte[valueLength];
        entry.get(VlogFormat.HEADER_SIZE + keyLength, value);
        return new VlogEntry(fileId, offset, length, version, key, value);
    }

    /**
     * Checks the checksum and lengths of {@code entry} (an entry's {@code length} bytes from index
     * 0, read from {@code offset} of file {@code name}; its position is left as it was) and
     * returns its key length.
     *
     * @throws CorruptionException if its checksum or lengths are wrong
     */
    private static int verify(ByteBuffer entry, String name, long offset, int length) {
        CRC32C check = new CRC32C();
        int position = entry.position();
        check.update(entry.position(4));
        entry.position(position);
        if ((int) check.getValue() != entry.getInt(0)) {
            throw new CorruptionException(name, offset, "value log " + name + " at offset " + offset
                    + ": entry checksum mismatch");
        }
        int keyLength = entry.getInt(12);
        int valueLength = entry.getInt(16);
        if (keyLength < 0 || valueLength < 0 || VlogFormat.entryLength(keyLength, valueLength) != length) {
            throw new CorruptionException(name, offset, "value log " + name + " at offset " + offset
                    + ": entry lengths do not add up to " + length);
        }
        return keyLength;
    }

    /** Receives the entries of a scanned file in order. */
    @FunctionalInterface
    public interface EntryVisitor {
        /** Returns false to stop the scan. */
        boolean visit(VlogEntry entry) throws IOException;
    }

    /**
     * Where a scan of a value-log file stopped.
     *
     * @param offset    the end of the last entry visited, or where {@code damage} starts
     * @param fileBytes the bytes the scan was bounded by: all of the file as the log holds it
     * @param damage    the entry that failed its checks, or null if the entries ended cleanly or
     *                  the visitor stopped the scan
     */
    public record ScanEnd(long offset, long fileBytes, CorruptionException damage) {

        /** Whether every byte of the file was read as sound entries. */
        public boolean reachedEnd() {
            return damage == null && offset == fileBytes;
        }
    }

    /**
     * Reads the entries of a live sealed file in order, stopping at its end, at the first entry
     * that fails its checks or where the visitor asks. Whether damage is a torn tail left by a
     * crash or damage that live entries follow is the caller's to decide
     * ({@link #nextSoundEntry(long, long)}).
     *
     * @throws IllegalArgumentException if {@code fileId} is not a live sealed file
     * @throws IllegalStateException if the log is closed
     */
    public ScanEnd scan(long fileId, EntryVisitor visitor) throws IOException {
        VlogFile file = acquireSealed(fileId);
        try {
            return scanEntries(file.source(), file.readableBytes(), file.name, file.id, visitor);
        } finally {
            file.unref();
        }
    }

    /**
     * {@link #nextSoundEntry(ReadSource, String, long, long)} in a live sealed file: the offset of
     * the first sound entry at or after {@code from}, or -1 if there is none.
     *
     * @throws IllegalArgumentException if {@code fileId} is not a live sealed file
     * @throws IllegalStateException if the log is closed
     */
    public long nextSoundEntry(long fileId, long from) throws IOException {
        VlogFile file = acquireSealed(fileId);
        try {
            return nextSoundEntry(file.source(), file.readableBytes(), from);
        } finally {
            file.unref();
        }
    }

    /**
     * Whether every byte of live sealed file {@code fileId} from {@code from} to its end is zero:
     * the space preallocated ahead of the appends ({@link Storage#createLog}) when the file was
     * active and the process stopped without closing it.
     *
     * @throws IllegalArgumentException if {@code fileId} is not a live sealed file
     * @throws IllegalStateException if the log is closed
     */
    public boolean isZeros(long fileId, long from) throws IOException {
        VlogFile file = acquireSealed(fileId);
        try {
            return file.source().isZeros(from, file.readableBytes());
        } finally {
            file.unref();
        }
    }

    /** {@link #acquire(long)} of a sealed file. */
    private VlogFile acquireSealed(long fileId) {
        VlogFile file = acquire(fileId);
        if (file != null && file != active) {
            return file;
        }
        if (file != null) {
            file.unref();
        }
        throw new IllegalArgumentException("value log " + FileNames.name(fileId, FileNames.Kind.VALUE_LOG)
                + " is not a live sealed file");
    }

    /**
     * The length in bytes the storage reports for live file {@code fileId}: for a sealed file it
     * equals {@link #size(long)} unless bytes the log never wrote were added to it.
     *
     * @throws IllegalArgumentException if there is no live file of that id
     */
    public long lengthInStorage(long fileId) throws IOException {
        VlogFile file = files.get(fileId);
        if (file == null) {
            throw new IllegalArgumentException("value log " + FileNames.name(fileId, FileNames.Kind.VALUE_LOG)
                    + " is not a live file");
        }
        return storage.size(file.name);
    }

    /**
     * The offset of the first sound entry (complete, with a good checksum) starting at or after
     * {@code from}, or -1 if there is none. A crash tears only the end of a file, so damage that a
     * sound entry follows is not a torn tail. Read-only; the offline tools use it.
     *
     * <p>Only entries the engine can have written count (a key of 1 to {@link Options#MAX_KEY_SIZE}
     * bytes, a value of at most {@link Options#MAX_VALUE_SIZE}); the file is read in windows of
     * 1 MiB, and a checksum is computed only where such a header fits in the file.
     */
    public static long nextSoundEntry(ReadSource source, String name, long fileId, long from) throws IOException {
        return nextSoundEntry(source, source.size(), from);
    }

    /** {@link #nextSoundEntry(ReadSource, String, long, long)} in the first {@code size} bytes of {@code source}. */
    private static long nextSoundEntry(ReadSource source, long size, long from) throws IOException {
        CRC32C check = new CRC32C();
        long windowStart = Math.max(0, from);
        while (windowStart + VlogFormat.HEADER_SIZE <= size) {
            // header starts windowStart .. windowStart + starts - 1, each with its whole header in the window
            int bytes = (int) Math.min(size - windowStart, (long) SOUND_ENTRY_WINDOW + VlogFormat.HEADER_SIZE - 1);
            int starts = bytes - VlogFormat.HEADER_SIZE + 1;
            ByteBuffer window = source.read(windowStart, bytes);
            for (int at = 0; at < starts; at++) {
                int keyLength = window.getInt(at + 12);
                int valueLength = window.getInt(at + 16);
                if (keyLength < 1 || keyLength > Options.MAX_KEY_SIZE
                        || valueLength < 0 || valueLength > Options.MAX_VALUE_SIZE) {
                    continue;
                }
                long offset = windowStart + at;
                int length = VlogFormat.entryLength(keyLength, valueLength);
                if (offset + length > size) {
                    continue;
                }
                ByteBuffer entry = at + length <= bytes
                        ? window.duplicate().position(at).limit(at + length).slice()
                        : source.read(offset, length);
                check.reset();
                check.update(entry.duplicate().position(4));
                if ((int) check.getValue() == entry.getInt(0)) {
                    return offset;
                }
            }
            windowStart += starts;
        }
        return -1;
    }

    /**
     * Reads the entries of a complete value-log file in order until its end or the first entry
     * that fails its checks, which is returned (null when the file ends cleanly). Read-only; the
     * offline tools use it too.
     */
    public static CorruptionException scanFile(ReadSource source, String name, long fileId, EntryVisitor visitor)
            throws IOException {
        return scanEntries(source, source.size(), name, fileId, visitor).damage();
    }

    /** {@link #scanFile} over the first {@code size} bytes of {@code source}, saying where it stopped. */
    private static ScanEnd scanEntries(ReadSource source, long size, String name, long fileId, EntryVisitor visitor)
            throws IOException {
        long offset = 0;
        while (offset < size) {
            if (size - offset < VlogFormat.HEADER_SIZE) {
                return new ScanEnd(offset, size, new CorruptionException(name, offset, "value log " + name
                        + " at offset " + offset + ": " + (size - offset) + " bytes are too few for an entry header"));
            }
            ByteBuffer header = source.read(offset, VlogFormat.HEADER_SIZE);
            long length = (long) VlogFormat.HEADER_SIZE + header.getInt(12) + header.getInt(16);
            VlogEntry entry;
            try {
                if (header.getInt(12) < 0 || header.getInt(16) < 0 || length > Integer.MAX_VALUE) {
                    throw new CorruptionException(name, offset, "value log " + name + " at offset " + offset
                            + ": impossible entry lengths");
                }
                entry = decode(source, name, fileId, size, offset, (int) length);
            } catch (CorruptionException e) {
                return new ScanEnd(offset, size, e);
            }
            offset += length;
            if (!visitor.visit(entry)) {
                break;
            }
        }
        return new ScanEnd(offset, size, null);
    }

    /** Ids of the files GC may collect: every live file but the active one, oldest first. */
    public List<Long> sealedFileIds() {
        List<Long> ids = new ArrayList<>();
        for (VlogFile file : files.values()) {
            if (file != active && !file.isRetired()) {
                ids.add(file.id);
            }
        }
        Collections.sort(ids);
        return ids;
    }

    /** Size in bytes of a live file, or 0 if there is none of that id. */
    public long size(long fileId) {
        VlogFile file = files.get(fileId);
        return file == null ? 0 : file.readableBytes();
    }

    /** Ids of all live files, the active one included. */
    public List<Long> fileIds() {
        List<Long> ids = new ArrayList<>(files.keySet());
        Collections.sort(ids);
        return ids;
    }

    /** The file new entries go to, or -1 if there is none (opened read-only). */
    public long activeFileId() {
        return active == null ? -1 : active.id;
    }

    /**
     * Marks a collected file: readers at versions below {@code version} may still need it, so it
     * is deleted by {@link #deleteRetired(long)} once none remain.
     */
    public void retire(long fileId, long version) {
        VlogFile file = files.get(fileId);
        if (file != null && file != active) {
            collected.add(fileId);
            file.retire(version);
        }
    }

    /**
     * Drops retired files that no reader at or above {@code oldestReadVersion} can need: they are
     * closed when the last read finishes and handed to {@code deleteLater}.
     */
    public void deleteRetired(long oldestReadVersion) {
        for (VlogFile file : List.copyOf(files.values())) {
            if (file.isRetired() && file.retiredAtVersion() <= oldestReadVersion && files.remove(file.id, file)) {
                file.unref();
            }
        }
    }

    private void released(VlogFile file, boolean delete) {
        if (!delete || closed) {
            return;
        }
        try {
            deleteLater.accept(file.name, storage.size(file.name));
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot size collected value log " + file.name
                    + "; it is deleted at the next open", e);
        }
    }

    /**
     * Writes the staged entries to the active file, fsyncs and closes it, and releases the stage
     * and every file (readers still inside finish first).
     */
    @Override
    public void close() throws IOException {
        closed = true;
        try {
            if (writer != null) {
                try (WritableFile closing = writer) {
                    sync();
                }
            }
        } finally {
            if (stage != null) {
                stage.close();
            }
            for (VlogFile file : List.copyOf(files.values())) {
                if (files.remove(file.id, file)) {
                    file.unref();
                }
            }
        }
    }
}
