package io.trainkv.vlog;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.MappedBuffers;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.util.concurrent.locks.StampedLock;
import java.util.zip.CRC32C;

/**
 * The value-log stage ({@code VLOG-STAGE}, layout in {@code docs/format.md}): one reused,
 * memory-mapped file where the newest value-log entries wait, exactly as they will lie in the
 * active value-log file, until a MiB of them is written there with one {@code write(2)}.
 *
 * <p>Why: appending through a mapping of the value-log file itself faults in every new page of it
 * (6–7 µs per 4 KiB page on the machine of {@code docs/benchmarks.md}, 1.6 µs per 1 KiB value),
 * and a {@code write(2)} per entry costs 2.3 µs; the stage's pages were faulted in once and stay
 * mapped, so an entry costs one copy into memory that the page cache already holds, and the
 * value-log file receives large writes (0.2 ms per MiB). A stored entry is in the page cache when
 * it is made, so it survives the process being killed, like a write.
 *
 * <p>Recovery: the header names the value-log file and offset the staged entries start at, and
 * records, in one 8-byte store after each entry, how many bytes are staged and a 32-bit hash
 * chain over their checksums and lengths, seeded with the file and offset. An open applies the
 * staged entries ({@link #applyPending}) only if every one of them reads back and the chain
 * matches, so bytes of an earlier use of the stage (after a power cut, the file may hold pages of
 * different ages) are never taken for the entries the header describes; only if the value-log
 * file holds every byte before them; and only the bytes the file lacks. Power cuts are the value
 * log's fsyncs' business: {@link #flushTo} runs before every one of them.
 *
 * <p>Thread safety: {@link #add}, {@link #flushTo} and {@link #begin} belong to the write
 * leader; {@link #read} may run on any thread, and a flush waits for the reads inside the stage
 * before it reuses it, so a read never sees bytes of another use.
 */
public final class ValueLogStage implements AutoCloseable {

    /** Bytes of entries the stage holds at most; an entry longer than this bypasses it. */
    public static final int CAPACITY = 1 << 20;
    /** Bytes before the entries: one page, for the header. */
    static final int HEADER_BYTES = 4096;
    /** Bytes of the file: the header and the entries. */
    static final int FILE_BYTES = HEADER_BYTES + CAPACITY;
    /** "TKVSTAGE" in ASCII. */
    static final long MAGIC = 0x544B565354414745L;
    static final int FORMAT_VERSION = 1;
    static final int MAGIC_AT = 0;
    static final int VERSION_AT = 8;
    static final int CAPACITY_AT = 12;
    static final int FILE_ID_AT = 16;
    static final int BASE_AT = 24;
    /** The progress word: staged bytes in the high 32 bits, the hash chain in the low 32. */
    static final int PROGRESS_AT = 32;

    private static final VarHandle LONGS = MethodHandles.byteBufferViewVarHandle(long[].class, ByteOrder.BIG_ENDIAN);
    private static final System.Logger LOG = System.getLogger(ValueLogStage.class.getName());

    /** The file's bytes: a shared mapping, or (read-only, where the storage cannot map) a copy. */
    private final ByteBuffer map;
    private final boolean writable;
    private final StampedLock readers = new StampedLock();
    /**
     * The value-log file the staged entries belong to; changed under the write lock of
     * {@link #readers}. Volatile so that a read of another file leaves the lock alone: a reader
     * whose pointer was published after the stage began its file sees that file here or a later
     * one, and the stage moves on to a later file only after writing all of it to its file.
     */
    private volatile long fileId;
    /** The offset in that file of the first staged byte; changed under the write lock. */
    private long base;
    /** Bytes staged. Written by the leader; readers bound reads by published pointers instead. */
    private int end;
    private int chain;
    /** Set, under the write lock, when the mapping is released: reads find nothing after it. */
    private boolean closed;
    /**
     * Why a write of the stage to its file failed (the file may end in part of it), or null; every
     * later {@link #add}, {@link #flushTo} and {@link #writeThrough} fails after it, and the stage
     * keeps its entries for the next open. Leader only.
     */
    private Throwable failure;

    private ValueLogStage(ByteBuffer map, boolean writable) {
        this.map = map;
        this.writable = writable;
    }

    /**
     * Opens the stage of the database in {@code storage}: writable (creating the file if it is
     * missing; null where the storage cannot map files), or read-only, to read the entries it
     * holds ({@link #pending()}): then null unless it holds entries their value-log file lacks
     * after every byte before them (what {@link #applyPending} would append). Read-only, a storage
     * that cannot map files has the file read into memory instead, so that entries a killed
     * process staged through another storage are still found.
     *
     * @throws CorruptionException if the file holds a header this version does not write (another
     *         magic number, format version or capacity) or is of another length and holds anything
     *         but zeros (named at the first such byte): its entries, if any, cannot be told; it is
     *         left as it is
     * @throws IOException if the file cannot be created, mapped or read
     */
    public static ValueLogStage open(Storage storage, boolean writable) throws IOException {
        String name = FileNames.VALUE_LOG_STAGE;
        ByteBuffer map = bytesOf(storage, writable);
        if (map == null) {
            return null;
        }
        try {
            if (map.getLong(MAGIC_AT) != 0 && !isOurs(map)) { // magic 0: never begun (it is stored last)
                throw new CorruptionException(name, 0, name + " holds a header this version does not write (magic "
                        + String.format("0x%016x", map.getLong(MAGIC_AT)) + ", format version " + map.getInt(VERSION_AT)
                        + ", capacity " + map.getInt(CAPACITY_AT) + "; this version writes magic "
                        + String.format("0x%016x", MAGIC) + " \"TKVSTAGE\", format version " + FORMAT_VERSION
                        + ", capacity " + CAPACITY + "); damaged, or written by "
                        + "another version of TrainKV? It is left as it is, and the open refused, since it may hold "
                        + "value-log entries a killed process staged");
            }
            ValueLogStage stage = new ValueLogStage(map, writable);
            Pending pending = stage.pendingIn();
            if (!writable && (pending == null || lackedFrom(pending, sizeOf(storage, pending.fileId())) < 0)) {
                MappedBuffers.unmap(map);
                return null;
            }
            if (pending != null) {
                stage.fileId = pending.fileId();
                stage.base = pending.base();
                stage.end = pending.bytes();
            }
            return stage;
        } catch (IOException | RuntimeException | Error e) {
            MappedBuffers.unmap(map);
            throw e;
        }
    }

    /**
     * Why the stage's entries are not taken, in words naming it, when they fail the checks of
     * {@link #pending()} although its header is whole, counts staged bytes, and names a value-log
     * file that holds every byte before them and not all of them: a power cut can leave a stage
     * so (its pages of different ages: it is never fsynced while in use), and so can damage to it.
     * An open then takes none of them, and the WAL batches pointing to them are judged as a torn
     * tail; this says why. Null in every other case (also for a header this version does not
     * write, which {@link #open} refuses). Reads only.
     *
     * @throws CorruptionException if the file is of another length and holds anything but zeros
     * @throws IOException if the file cannot be mapped or read
     */
    public static String refusal(Storage storage) throws IOException {
        ByteBuffer map = bytesOf(storage, false);
        if (map == null) {
            return null;
        }
        try {
            if (!isOurs(map)) {
                return null;
            }
            int staged = (int) (map.getLong(PROGRESS_AT) >>> 32);
            long file = map.getLong(FILE_ID_AT);
            long start = map.getLong(BASE_AT);
            long size = sizeOf(storage, file);
            if (staged <= 0 || size < start || size - start >= staged
                    || new ValueLogStage(map, false).pendingIn() != null) {
                return null;
            }
            return FileNames.VALUE_LOG_STAGE + " holds " + staged + " bytes of entries for "
                    + FileNames.name(file, FileNames.Kind.VALUE_LOG) + " from offset " + start + " that fail their checks (a power cut can leave it so, and so can damage "
                    + "to it): an open takes none of them, and the writes that point to them are dropped as a torn tail";
        } finally {
            MappedBuffers.unmap(map);
        }
    }

    /**
     * The stage file's bytes: mapped, or (read-only, where the storage cannot map) read into
     * memory ({@link #readWhole}); null where there are none to use (see {@link #open}).
     *
     * @throws CorruptionException if the file is of another length and holds anything but zeros
     *         (through any storage, at the offset of the first byte that is not zero)
     */
    private static ByteBuffer bytesOf(Storage storage, boolean writable) throws IOException {
        String name = FileNames.VALUE_LOG_STAGE;
        requireZerosIfOtherLength(storage, name);
        ByteBuffer map = storage.mapFixedSize(name, FILE_BYTES, writable);
        if (map == null && !writable && storage.exists(name)) {
            map = readWhole(storage, name);
        }
        return map;
    }

    /** Whether the header is one this version writes: its magic number, format version and capacity. */
    private static boolean isOurs(ByteBuffer map) {
        return map.getLong(MAGIC_AT) == MAGIC && map.getInt(VERSION_AT) == FORMAT_VERSION
                && map.getInt(CAPACITY_AT) == CAPACITY;
    }

    /**
     * Refuses a stage file of another length that holds anything but zeros (a creation a crash
     * stopped leaves only zeros, which an open that writes makes anew): it may be cut short or
     * damaged, or another version's, and its entries, if any, cannot be told.
     *
     * @throws CorruptionException naming the offset of the first byte that is not zero; the file is left as it is
     */
    private static void requireZerosIfOtherLength(Storage storage, String name) throws IOException {
        if (!storage.exists(name) || storage.size(name) == FILE_BYTES) {
            return;
        }
        try (ReadableFile file = storage.openRead(name)) {
            long size = file.size();
            long nonZero = size == FILE_BYTES ? -1 : file.firstNonZero(0, size); // cut short while read: not zeros
            if (nonZero >= 0) {
                throw new CorruptionException(name, nonZero, name + " holds " + size + " bytes, not " + FILE_BYTES
                        + ", and not only zeros (the first other byte at offset " + nonZero + "): cut short or "
                        + "damaged, or another version's file; it is left as it is, and the open refused, since it "
                        + "may hold value-log entries a killed process staged");
            }
        }
    }

    /**
     * The stage file read into memory, for a storage that cannot map it; null if it is of
     * another length (then only zeros: {@link #requireZerosIfOtherLength}) or was cut short while
     * read.
     */
    private static ByteBuffer readWhole(Storage storage, String name) throws IOException {
        try (ReadableFile file = storage.openRead(name)) {
            ByteBuffer bytes = ByteBuffer.allocate(FILE_BYTES);
            return file.size() == FILE_BYTES && file.read(0, bytes) == FILE_BYTES ? bytes.clear() : null;
        }
    }

    /** The size of value-log file {@code fileId} in bytes, -1 if it is missing. */
    private static long sizeOf(Storage storage, long fileId) throws IOException {
        String name = FileNames.name(fileId, FileNames.Kind.VALUE_LOG);
        return storage.exists(name) ? storage.size(name) : -1;
    }

    /**
     * Entries a session left staged: {@code bytes} of them, for value-log file {@code fileId}
     * from offset {@code base}.
     */
    public record Pending(long fileId, long base, int bytes) {
    }

    /**
     * The entries the stage holds if its header is whole and every entry it counts reads back
     * with the hash chain it records; null if it holds none (or cannot vouch for them).
     */
    public Pending pending() {
        long stamp = readers.readLock();
        try {
            ensureOpen();
            return pendingIn();
        } finally {
            readers.unlockRead(stamp);
        }
    }

    /** {@link #pending()}, by a caller that holds the stage (open, recovery, the leader) or its read lock. */
    private Pending pendingIn() {
        if (!isOurs(map)) {
            return null;
        }
        long progress = map.getLong(PROGRESS_AT);
        int staged = (int) (progress >>> 32);
        if (staged <= 0 || staged > CAPACITY) {
            return null;
        }
        long file = map.getLong(FILE_ID_AT);
        long start = map.getLong(BASE_AT);
        int hash = seed(file, start);
        CRC32C check = new CRC32C();
        int at = 0;
        while (at < staged) {
            int length = entryLengthAt(at, staged - at);
            if (length < 0) {
                return null;
            }
            int crc = map.getInt(HEADER_BYTES + at);
            check.reset();
            check.update(map.duplicate().position(HEADER_BYTES + at + 4).limit(HEADER_BYTES + at + length));
            if ((int) check.getValue() != crc) {
                return null;
            }
            hash = next(hash, crc, length);
            at += length;
        }
        return hash == (int) progress ? new Pending(file, start, staged) : null;
    }

    /** The length of the entry whose header is at {@code at}, or -1 if no entry the engine writes fits in {@code room}. */
    private int entryLengthAt(int at, int room) {
        if (room < VlogFormat.HEADER_SIZE) {
            return -1;
        }
        int keyLength = map.getInt(HEADER_BYTES + at + 12);
        int valueLength = map.getInt(HEADER_BYTES + at + 16);
        if (keyLength < 1 || keyLength > Options.MAX_KEY_SIZE || valueLength < 0 || valueLength > Options.MAX_VALUE_SIZE) {
            return -1;
        }
        int length = VlogFormat.entryLength(keyLength, valueLength);
        return length <= room ? length : -1;
    }

    /**
     * Appends the pending entries to their value-log file where it lacks them, fsyncs it, and
     * then empties the stage (fsynced too); an open that will write runs it before anything reads
     * the value log. Returns the bytes appended: 0 also when nothing is pending, when the file is
     * gone (GC collected it) or holds them already, and when the file lacks bytes before them (a
     * power cut took what its last fsync did not cover; the stage cannot fill that gap, and the
     * entries are then part of the file's torn tail).
     *
     * @throws IOException if the file cannot be appended to or synced
     */
    public long applyPending(Storage storage) throws IOException {
        Pending pending = pending();
        long applied = 0;
        if (pending != null) {
            String name = FileNames.name(pending.fileId(), FileNames.Kind.VALUE_LOG);
            long size = storage.exists(name) ? storage.size(name) : -1;
            int from = lackedFrom(pending, size);
            if (from >= 0) {
                try (WritableFile file = storage.openAppend(name)) {
                    file.append(map.duplicate().position(HEADER_BYTES + from).limit(HEADER_BYTES + pending.bytes()));
                    file.sync();
                }
                applied = pending.bytes() - from;
            } else if (size >= 0 && size < pending.base()) {
                LOG.log(System.Logger.Level.WARNING, FileNames.VALUE_LOG_STAGE + " holds " + pending.bytes()
                        + " bytes for " + name + " from offset " + pending.base() + ", but the file ends at " + size
                        + ": they cannot be appended");
            }
        }
        if (writable) {
            LONGS.setRelease(map, PROGRESS_AT, 0L);
            try {
                ((MappedByteBuffer) map).force();
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
        fileId = -1;
        end = 0;
        return applied;
    }

    /**
     * Where in {@code pending}'s bytes those begin that its value-log file, {@code size} bytes
     * long (-1: missing), lacks and {@link #applyPending} appends; -1 if it appends none: the file
     * is missing, holds them all, or lacks bytes before them.
     */
    private static int lackedFrom(Pending pending, long size) {
        return size >= pending.base() && size < pending.base() + pending.bytes() ? (int) (size - pending.base()) : -1;
    }

    /**
     * A copy of the bytes {@link #applyPending} would append to value-log file {@code fileId},
     * now {@code size} bytes long: the pending entries' bytes from the file's end on; null if it
     * would append none to it (nothing pending for it, or the file holds them all or lacks bytes
     * before them). The offline tools read the file as an open that writes leaves it through it.
     * Call it before {@link #close()}.
     */
    public ByteBuffer lackedBy(long fileId, long size) {
        long stamp = readers.readLock();
        try {
            ensureOpen();
            Pending pending = pendingIn();
            int from = pending == null || pending.fileId() != fileId ? -1 : lackedFrom(pending, size);
            if (from < 0) {
                return null;
            }
            byte[] copy = new byte[pending.bytes() - from];
            map.get(HEADER_BYTES + from, copy);
            return ByteBuffer.wrap(copy);
        } finally {
            readers.unlockRead(stamp);
        }
    }

    /** @throws IllegalStateException if the stage is closed: its database is */
    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("database is closed");
        }
    }

    /** Starts staging entries for value-log file {@code fileId} from its offset {@code base}; the stage must be empty. */
    void begin(long fileId, long base) {
        long stamp = readers.writeLock();
        try {
            LONGS.setRelease(map, PROGRESS_AT, 0L);
            map.putInt(VERSION_AT, FORMAT_VERSION);
            map.putInt(CAPACITY_AT, CAPACITY);
            map.putLong(FILE_ID_AT, fileId);
            map.putLong(BASE_AT, base);
            LONGS.setRelease(map, MAGIC_AT, MAGIC); // last: a kill before it leaves a stage never begun
            VarHandle.fullFence();
            this.fileId = fileId;
            this.base = base;
            end = 0;
            chain = seed(fileId, base);
        } finally {
            readers.unlockWrite(stamp);
        }
    }

    /** Whether the stage holds entries of value-log file {@code id} (at open, before any {@link #begin}). */
    boolean holdsEntriesOf(long id) {
        return end > 0 && fileId == id;
    }

    /** Whether an entry of {@code length} bytes fits behind those staged. */
    boolean fits(int length) {
        return length <= CAPACITY - end;
    }

    /**
     * Stages an entry: {@code headLength} bytes of {@code head} (its header and key, checksum
     * {@code crc} included) and then {@code value}, {@code length} bytes together; it must
     * {@link #fits}. The progress word is stored last, so a killed process leaves it counting
     * only whole entries.
     */
    void add(byte[] head, int headLength, byte[] value, int crc, int length) throws IOException {
        requireUsable();
        int at = HEADER_BYTES + end;
        map.put(at, head, 0, headLength);
        map.put(at + headLength, value, 0, value.length);
        end += length;
        chain = next(chain, crc, length);
        LONGS.setRelease(map, PROGRESS_AT, ((long) end << 32) | (chain & 0xFFFF_FFFFL));
    }

    /**
     * Appends the staged entries to {@code file} (one write; the file must end at the stage's
     * offset) and, once they are there, starts the stage again behind them, after any read still
     * copying from it. On failure the stage keeps its entries (an open applies them).
     *
     * @throws IOException if the append fails
     */
    void flushTo(WritableFile file) throws IOException {
        requireUsable();
        if (end == 0) {
            return;
        }
        write(file, map.duplicate().position(HEADER_BYTES).limit(HEADER_BYTES + end));
        begin(fileId, base + end);
    }

    /** Appends {@code bytes} of the mapping to {@code file}; a failure is kept ({@link #failure}). */
    private void write(WritableFile file, ByteBuffer bytes) throws IOException {
        try {
            file.append(bytes);
        } catch (IOException | RuntimeException | Error e) {
            failure = e;
            throw e;
        }
    }

    /** @throws IOException if an earlier write of the stage to its file failed ({@link #failure}) */
    private void requireUsable() throws IOException {
        if (failure != null) {
            throw new IOException("an earlier write of the value-log stage to "
                    + FileNames.name(fileId, FileNames.Kind.VALUE_LOG) + " failed", failure);
        }
    }

    /**
     * A copy of the {@code length} bytes at {@code offset} of value-log file {@code fileId} if
     * the stage holds them, else null (they are in the file). The caller read the offset from a
     * published pointer, so the bytes are whole.
     */
    ByteBuffer read(long fileId, long offset, int length) {
        if (fileId != this.fileId || length < VlogFormat.HEADER_SIZE) {
            return null; // too short to be an entry: the file's read reports it
        }
        long optimistic = readers.tryOptimisticRead();
        if (optimistic != 0 && offset < base && readers.validate(optimistic)) {
            return null; // written to the file before the stage moved past it: no lock for reads of the file
        }
        long stamp = readers.readLock();
        try {
            long limit = writable ? CAPACITY : end;
            ensureOpen();
            if (fileId != this.fileId || offset < base || offset - base + length > limit) {
                return null;
            }
            byte[] copy = new byte[length];
            map.get(HEADER_BYTES + (int) (offset - base), copy);
            return ByteBuffer.wrap(copy);
        } finally {
            readers.unlockRead(stamp);
        }
    }

    /**
     * Writes an entry longer than the stage to {@code file} through the stage's mapping, a
     * stage's length at a time (so no buffer of the entry's size is made; a heap array written to
     * a channel goes through a temporary direct buffer of its size, which the JDK keeps per
     * thread), and starts the stage again behind it. The stage must be empty ({@link #flushTo}
     * first); its progress word stays zero meanwhile, so nothing of this write is ever pending.
     * The entry is {@code headLength} bytes of {@code head} and then {@code value}.
     *
     * @throws IOException if a write fails; the file may then end in part of the entry
     */
    void writeThrough(WritableFile file, byte[] head, int headLength, byte[] value) throws IOException {
        requireUsable();
        if (end != 0) {
            throw new IllegalStateException("the stage holds entries: write them first");
        }
        map.put(HEADER_BYTES, head, 0, headLength);
        int filled = headLength;
        int at = 0;
        while (at < value.length) {
            int n = Math.min(value.length - at, CAPACITY - filled);
            map.put(HEADER_BYTES + filled, value, at, n);
            at += n;
            filled += n;
            if (filled == CAPACITY || at == value.length) {
                write(file, map.duplicate().position(HEADER_BYTES).limit(HEADER_BYTES + filled));
                filled = 0;
            }
        }
        begin(fileId, base + headLength + value.length);
    }

    /** Releases the mapping, once no read is inside it; staged entries stay in the file. */
    @Override
    public void close() {
        long stamp = readers.writeLock();
        try {
            if (!closed) {
                closed = true;
                MappedBuffers.unmap(map);
            }
        } finally {
            readers.unlockWrite(stamp);
        }
    }

    /** The hash chain's start for entries of {@code fileId} from {@code base}. */
    static int seed(long fileId, long base) {
        long h = (fileId + 0x632B_E59B_D9B4_E019L) * 0x9E37_79B9_7F4A_7C15L ^ base;
        h *= 0xBF58_476D_1CE4_E5B9L;
        return (int) (h ^ (h >>> 31));
    }

    /** The hash chain after an entry with checksum {@code crc} and {@code length} bytes. */
    static int next(int chain, int crc, int length) {
        long h = (((long) chain << 32) | (crc & 0xFFFF_FFFFL)) * 0x94D0_49BB_1331_11EBL + length;
        return (int) (h ^ (h >>> 29));
    }
}
