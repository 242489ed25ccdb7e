package io.trainkv.sstable;

import io.trainkv.manifest.TableMeta;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongSupplier;

/**
 * Writes a stream of entries in internal-key order to as many new table files as it takes; flush
 * and compaction both write their output through it. A table is finished where its
 * {@link OutputCuts} say (flushes: at the target file size; compaction: also by the next level's
 * tables) or once its writer says a block is near the reader's bound ({@link TableWriter#isFull()}),
 * and only between two user keys: all versions of a key land in one table, so the tables' key
 * ranges do not overlap and every table is complete for its range. Each table is fsynced when
 * finished; {@link #finish()} fsyncs the directory. Not thread-safe.
 */
public final class TableOutputs {

    private final Storage storage;
    private final LongSupplier newFileNumber;
    private final int blockSize;
    private final int bloomBitsPerKey;
    private final int maxBlockSize;
    private final OutputCuts cuts;
    private final List<TableMeta> finished = new ArrayList<>();
    private long openNumber;
    private WritableFile openFile;
    private TableWriter openWriter;
    private long bytesWritten;

    /**
     * Outputs named by numbers from {@code newFileNumber}, cut at about {@code targetFileSize}
     * bytes, with data blocks of about {@code blockSize} bytes and {@code bloomBitsPerKey} filter
     * bits per key (see {@link TableWriter}).
     */
    public TableOutputs(Storage storage, LongSupplier newFileNumber, long targetFileSize, int blockSize,
                        int bloomBitsPerKey) {
        this(storage, newFileNumber, OutputCuts.bySize(targetFileSize), blockSize, bloomBitsPerKey);
    }

    /** As above, with tables cut where {@code cuts} says instead of at a target size. */
    public TableOutputs(Storage storage, LongSupplier newFileNumber, OutputCuts cuts, int blockSize,
                        int bloomBitsPerKey) {
        this(storage, newFileNumber, cuts, blockSize, bloomBitsPerKey, TableFormat.MAX_BLOCK_SIZE);
    }

    /** As above, with blocks bounded by {@code maxBlockSize} bytes instead of the reader's bound (tests). */
    TableOutputs(Storage storage, LongSupplier newFileNumber, long targetFileSize, int blockSize, int bloomBitsPerKey,
                 int maxBlockSize) {
        this(storage, newFileNumber, OutputCuts.bySize(targetFileSize), blockSize, bloomBitsPerKey, maxBlockSize);
    }

    private TableOutputs(Storage storage, LongSupplier newFileNumber, OutputCuts cuts, int blockSize,
                         int bloomBitsPerKey, int maxBlockSize) {
        this.storage = storage;
        this.newFileNumber = newFileNumber;
        this.cuts = cuts;
        this.blockSize = blockSize;
        this.bloomBitsPerKey = bloomBitsPerKey;
        this.maxBlockSize = maxBlockSize;
    }

    /**
     * Adds the entry whose internal key is {@code key[0, keyLength)}, after every entry added so
     * far in internal-key order; before a new user key, starts a new table first if the open one
     * is full or the {@link OutputCuts} say so.
     *
     * @throws IllegalArgumentException if the entry alone is larger than a table block may be
     */
    public void add(byte[] key, int keyLength, ValueStruct value) throws IOException {
        int userKeyLength = keyLength - KeyFormat.VERSION_SIZE;
        boolean openHasEntries = openWriter != null && openWriter.entryCount() > 0;
        boolean newUserKey = !openHasEntries || !openWriter.continuesUserKey(key, keyLength);
        if (openHasEntries && newUserKey
                && (openWriter.isFull() || cuts.cutBefore(key, userKeyLength, openWriter.estimatedSize()))) {
            finishOpenTable();
        }
        if (openWriter == null) {
            openNumber = newFileNumber.getAsLong();
            openFile = storage.create(FileNames.name(openNumber, FileNames.Kind.TABLE));
            openWriter = new TableWriter(openFile, blockSize, bloomBitsPerKey, maxBlockSize);
        }
        boolean startsTable = openWriter.entryCount() == 0;
        openWriter.add(key, keyLength, value);
        if (newUserKey) {
            cuts.added(key, userKeyLength, startsTable);
        }
    }

    /**
     * Finishes the open table and, if any table was written, fsyncs the directory so that every
     * table's name is durable before a manifest edit names it.
     *
     * @return the tables written, in key order (empty if no entry was added)
     */
    public List<TableMeta> finish() throws IOException {
        if (openWriter != null) {
            finishOpenTable();
        }
        if (!finished.isEmpty()) {
            storage.syncDirectory();
        }
        return List.copyOf(finished);
    }

    /** Bytes of the tables finished so far. */
    public long bytesWritten() {
        return bytesWritten;
    }

    /**
     * After a failure, before any manifest edit names the tables: closes the open table and
     * deletes every file this created. Errors doing so are added to {@code cause} as suppressed
     * (a file left behind is an orphan that the next open deletes).
     */
    public void abandon(Throwable cause) {
        List<Long> numbers = new ArrayList<>();
        for (TableMeta table : finished) {
            numbers.add(table.fileNumber());
        }
        if (openFile != null) {
            try {
                openFile.close();
            } catch (IOException | RuntimeException | Error e) {
                cause.addSuppressed(e);
            }
            numbers.add(openNumber);
        }
        openFile = null;
        openWriter = null;
        finished.clear();
        for (long number : numbers) {
            try {
                storage.delete(FileNames.name(number, FileNames.Kind.TABLE));
            } catch (IOException | RuntimeException | Error e) {
                cause.addSuppressed(e);
            }
        }
    }

    private void finishOpenTable() throws IOException {
        TableProperties properties = openWriter.finish();
        long size = openWriter.fileSize();
        openFile.close();
        openFile = null;
        openWriter = null;
        bytesWritten += size;
        finished.add(new TableMeta(openNumber, size, properties.smallestKey(), properties.largestKey()));
    }
}
