package io.trainkv.sstable;

import io.trainkv.CorruptionException;
import io.trainkv.cache.BlockCache;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.ReadableFile;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.zip.CRC32C;

/**
 * Reads one table file. Opening checks the footer (size, magic, checksum, format version, handle
 * ranges) and loads the filter, properties and index blocks, verifying their checksums; data
 * blocks are checksummed when read, except that a mapped table trusts a block whose checksum
 * matched within the {@link BlockChecks} recheck interval (reads that fill no cache, such as
 * compaction's, check every block). Any failed check is a {@link CorruptionException} naming
 * the file and the offset of the block. Thread-safe: each read and iterator decodes independently.
 *
 * <p>{@link #close()} releases the file and, for a mapped table, unmaps it at once; the owner
 * (reference counting in the table set) calls it only when no reader or iterator can still use it.
 * Opened through a {@link TableCache}, the file may also be closed between reads: each read pins
 * it, and each iterator pins it until {@link TableIterator#close()}.
 */
public final class TableReader implements Closeable {

    private final String fileName;
    private final long fileNumber;
    private final TableFile file;
    private final long fileSize;
    private final boolean mapped;
    private final TableProperties properties;
    private final long filterOffset;
    private final int filterSize;
    private final long indexOffset;
    private final int indexSize;
    /**
     * Null for a mapped table: its data blocks are read in place, and caching them would only save
     * the block checksum, which costs less than a cache lookup and insertion (docs/benchmarks.md).
     */
    private final BlockCache blockCache;
    private final BlockCache indexCache;
    /** The filter and index, held by the reader when there is no index cache. */
    private final byte[] residentFilter;
    private final ByteBuffer residentIndex;
    /** The resident index decoded for look-ups; null with an index cache or an index not laid out by the writer. */
    private final IndexEntries entries;
    private final BlockChecks checks;
    /**
     * For a mapped table whose file stays open, per data block (by index entry), when its checksum
     * last matched: {@code checks.now() - clockOrigin}, at least 1; 0 for never. Null when every
     * read checks: the policy trusts no mapping, the file is not mapped, or it may be closed and
     * mapped again between reads (a table cache), or the index is not one restart per entry.
     */
    private final AtomicLongArray checkedAt;
    private final long clockOrigin;

    private TableReader(String fileName, long fileNumber, TableFile file, ReadSource source,
                        TableProperties properties, long filterOffset, byte[] filter, long indexOffset, ByteBuffer index,
                        IndexEntries entries, BlockCache blockCache, BlockCache indexCache, BlockChecks checks,
                        int trustedBlocks) {
        this.fileName = fileName;
        this.fileNumber = fileNumber;
        this.file = file;
        this.fileSize = source.size();
        this.mapped = source.isMapped();
        this.properties = properties;
        this.filterOffset = filterOffset;
        this.filterSize = filter.length;
        this.indexOffset = indexOffset;
        this.indexSize = index.limit();
        this.blockCache = source.isMapped() ? null : blockCache;
        this.indexCache = indexCache;
        this.entries = entries;
        this.checks = checks;
        this.checkedAt = trustedBlocks > 0 ? new AtomicLongArray(trustedBlocks) : null;
        this.clockOrigin = checks.now() - 1;
        if (indexCache == null) {
            this.residentFilter = filter;
            this.residentIndex = index;
        } else {
            this.residentFilter = null;
            this.residentIndex = null;
            indexCache.put(fileNumber, filterOffset, ByteBuffer.wrap(filter));
            indexCache.put(fileNumber, indexOffset, index);
        }
    }

    /**
     * Opens a table; takes ownership of {@code file} (closed on failure too).
     *
     * @param mmap read through a memory mapping when the file system supports it
     */
    public static TableReader open(ReadableFile file, String fileName, long fileNumber, boolean mmap) throws IOException {
        return open(file, fileName, fileNumber, mmap, null, null);
    }

    /** Opens a table as {@link #open(ReadableFile, String, long, boolean)} does, checking data blocks as {@code checks} says. */
    static TableReader open(ReadableFile file, String fileName, long fileNumber, boolean mmap, BlockChecks checks)
            throws IOException {
        return open(file, fileName, fileNumber, mmap, null, null, null, checks);
    }

    /**
     * Opens a table whose data blocks go through {@code blockCache} and whose index and filter go
     * through {@code indexCache} (each null for none: then the index and filter stay in memory
     * for the table's life); takes ownership of {@code file}.
     */
    public static TableReader open(ReadableFile file, String fileName, long fileNumber, boolean mmap,
                                   BlockCache blockCache, BlockCache indexCache) throws IOException {
        return open(file, fileName, fileNumber, mmap, blockCache, indexCache, null, BlockChecks.EVERY_READ);
    }

    /**
     * Opens a table as {@link #open(ReadableFile, String, long, boolean, BlockCache, BlockCache)}
     * does; with a {@code tableCache}, the file (named {@code fileName} in the cache's storage) is
     * then open only while pinned or while the cache keeps it, and reopened on demand. Data blocks
     * are checked as {@code checks} says (a table under a table cache checks every read: its file
     * may be closed and mapped again between reads).
     */
    public static TableReader open(ReadableFile file, String fileName, long fileNumber, boolean mmap,
                                   BlockCache blockCache, BlockCache indexCache, TableCache tableCache,
                                   BlockChecks checks) throws IOException {
        ReadSource source;
        try {
            source = ReadSource.open(file, mmap);
        } catch (IOException | RuntimeException | Error e) {
            file.close();
            throw e;
        }
        try {
            long size = source.size();
            if (size < TableFormat.FOOTER_SIZE) {
                throw corrupt(fileName, 0, "file of " + size + " bytes is shorter than the "
                        + TableFormat.FOOTER_SIZE + "-byte footer");
            }
            long footerOffset = size - TableFormat.FOOTER_SIZE;
            ByteBuffer footer = source.read(footerOffset, TableFormat.FOOTER_SIZE);
            if (footer.getLong(TableFormat.FOOTER_SIZE - 8) != TableFormat.MAGIC) {
                throw corrupt(fileName, footerOffset, "footer magic number is wrong (not a TrainKV table, or truncated)");
            }
            CRC32C crc = new CRC32C();
            crc.update(footer.duplicate().limit(TableFormat.FOOTER_SIZE - 12));
            if ((int) crc.getValue() != footer.getInt(TableFormat.FOOTER_SIZE - 12)) {
                throw corrupt(fileName, footerOffset, "footer checksum mismatch");
            }
            int version = footer.getInt(3 * TableFormat.HANDLE_SIZE);
            if (version < TableFormat.OLDEST_READABLE_FORMAT_VERSION || version > TableFormat.FORMAT_VERSION) {
                throw corrupt(fileName, footerOffset, "unknown table format version " + version + " (this build reads "
                        + TableFormat.OLDEST_READABLE_FORMAT_VERSION + " to " + TableFormat.FORMAT_VERSION + ")");
            }
            long filterOffset = footer.getLong(0);
            int filterSize = footer.getInt(8);
            long propertiesOffset = footer.getLong(12);
            int propertiesSize = footer.getInt(20);
            long indexOffset = footer.getLong(24);
            int indexSize = footer.getInt(32);
            checkHandle(fileName, footerOffset, "filter", filterOffset, filterSize, footerOffset);
            checkHandle(fileName, footerOffset, "properties", propertiesOffset, propertiesSize, footerOffset);
            checkHandle(fileName, footerOffset, "index", indexOffset, indexSize, footerOffset);

            ByteBuffer filterBlock = readBlock(source, fileName, filterOffset, filterSize);
            byte[] filter = new byte[filterSize];
            filterBlock.get(filter);
            TableProperties properties = TableProperties.decode(
                    readBlock(source, fileName, propertiesOffset, propertiesSize), fileName, propertiesOffset);
            // in the heap: a mapped index would not survive the file's closing, and its entries are decoded from it
            ByteBuffer index = heapCopy(readBlock(source, fileName, indexOffset, indexSize));
            IndexEntries entries = indexCache == null
                    ? IndexEntries.decode(new BlockIterator(index, fileName, indexOffset), index.array(), indexOffset)
                    : null;
            int trustedBlocks = 0;
            if (source.isMapped() && tableCache == null && checks.trustsMappings()) {
                trustedBlocks = entries != null ? entries.count()
                        : entriesIfOnePerRestart(new BlockIterator(index, fileName, indexOffset));
            }
            TableFile tableFile = tableCache == null ? new TableFile.Resident(source) : tableCache.add(fileName, mmap, source);
            return new TableReader(fileName, fileNumber, tableFile, source, properties, filterOffset, filter,
                    indexOffset, index, entries, blockCache, indexCache, checks, trustedBlocks);
        } catch (IOException | RuntimeException | Error e) {
            source.close();
            throw e;
        }
    }

    /**
     * The index's entry count if every entry is a restart point (the writer's layout), so that an
     * iterator's restart index names its entry; otherwise 0.
     */
    private static int entriesIfOnePerRestart(BlockIterator index) {
        int entries = 0;
        for (index.seekToFirst(); index.valid(); index.next()) {
            if (index.restartIndex() != entries) {
                return 0;
            }
            entries++;
        }
        return entries;
    }

    private static ByteBuffer heapCopy(ByteBuffer block) {
        return ByteBuffer.allocate(block.remaining()).put(block.duplicate()).flip();
    }

    public String fileName() {
        return fileName;
    }

    public long fileNumber() {
        return fileNumber;
    }

    public TableProperties properties() {
        return properties;
    }

    public long fileSize() {
        return fileSize;
    }

    /** Whether reads go through a memory mapping. */
    public boolean isMapped() {
        return mapped;
    }

    /** False when the bloom filter proves the table has no version of {@code userKey}. */
    public boolean mayContain(byte[] userKey) {
        return BloomFilter.mayContain(filter(), BloomFilter.hash(userKey, 0, userKey.length));
    }

    /**
     * The newest version of {@code userKey} at or below {@code readVersion} in this table, or null.
     * Tombstones and expired entries are returned as stored.
     */
    public ValueStruct get(byte[] userKey, long readVersion) {
        if (!mayContain(userKey)) {
            return null;
        }
        BlockIterator indexIterator = null;
        int entry = -1;
        if (entries != null) {
            entry = entries.find(userKey, readVersion);
            if (entry == entries.count()) {
                return null;
            }
        } else {
            indexIterator = new BlockIterator(index(), fileName, indexOffset);
            indexIterator.seek(userKey, readVersion);
            if (!indexIterator.valid()) {
                return null;
            }
        }
        ReadSource source = pin();
        try {
            BlockIterator data = indexIterator == null
                    ? dataBlock(source, entry, entries.offset(entry), entries.size(entry), true)
                    : dataBlock(source, indexIterator, true);
            data.seek(userKey, readVersion);
            if (!data.valid()) {
                return null;
            }
            int userLength = data.keyLength() - KeyFormat.VERSION_SIZE;
            if (!Arrays.equals(data.keyBuffer(), 0, userLength, userKey, 0, userKey.length)) {
                return null;
            }
            return decodeValue(data);
        } finally {
            file.unpin();
        }
    }

    /** Pins the file for a read ({@link TableFile#pin()}); the caller unpins it. */
    ReadSource pin() {
        try {
            return file.pin();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot reopen table " + fileName, e);
        }
    }

    /** Positions {@code index}, an iterator over this table's index, at the first entry at or after {@code (userKey, version)}. */
    void seekIndex(BlockIterator index, byte[] userKey, long version) {
        if (entries != null) {
            index.seekToEntry(entries.find(userKey, version));
        } else {
            index.seek(userKey, version);
        }
    }

    /** Ends a {@link #pin()}. */
    void unpin() {
        file.unpin();
    }

    /** A two-level iterator over every entry, in internal-key order or its reverse; not yet positioned. */
    public TableIterator iterator(boolean reverse) {
        return iterator(reverse, true);
    }

    /**
     * An iterator that adds the blocks it reads to the block cache only if {@code fillCache}:
     * compaction reads whole tables once and must not push the hot set out.
     */
    public TableIterator iterator(boolean reverse, boolean fillCache) {
        BlockIterator index = new BlockIterator(index(), fileName, indexOffset);
        return new TableIterator(this, pin(), index, reverse, fillCache);
    }

    /** The filter bits: resident, or from the index cache (re-read and checked on a miss). */
    private byte[] filter() {
        if (residentFilter != null) {
            return residentFilter;
        }
        ByteBuffer cached = indexCache.get(fileNumber, filterOffset);
        if (cached == null) {
            cached = metaBlock(filterOffset, filterSize);
        }
        return cached.array();
    }

    /** A private view of the index block: resident, or from the index cache. */
    private ByteBuffer index() {
        if (residentIndex != null) {
            return residentIndex.duplicate();
        }
        ByteBuffer cached = indexCache.get(fileNumber, indexOffset);
        return cached != null ? cached : metaBlock(indexOffset, indexSize).duplicate();
    }

    /** Reads and checks a filter or index block into the heap and caches it. */
    private ByteBuffer metaBlock(long offset, int size) {
        ReadSource source = pin();
        try {
            ByteBuffer heap = heapCopy(readBlock(source, fileName, offset, size));
            indexCache.put(fileNumber, offset, heap);
            return heap;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + fileName + " at offset " + offset, e);
        } finally {
            file.unpin();
        }
    }

    /**
     * The table's footer fields and index entries, for inspection tools. Reads the footer (checked
     * at open) and walks the index; does not read data blocks.
     *
     * @throws CorruptionException if an index entry is not a block handle
     */
    public TableLayout layout() throws IOException {
        long footerOffset = fileSize - TableFormat.FOOTER_SIZE;
        ByteBuffer footer = read(footerOffset, TableFormat.FOOTER_SIZE);
        List<TableLayout.IndexEntry> entries = new ArrayList<>();
        BlockIterator it = new BlockIterator(index(), fileName, indexOffset);
        for (it.seekToFirst(); it.valid(); it.next()) {
            ByteBuffer handle = it.value();
            if (handle.remaining() != TableFormat.HANDLE_SIZE) {
                throw corrupt(fileName, indexOffset, "index entry holds " + handle.remaining()
                        + " bytes, not a block handle");
            }
            entries.add(new TableLayout.IndexEntry(Arrays.copyOf(it.keyBuffer(), it.keyLength()),
                    new BlockHandle(handle.getLong(0), handle.getInt(8))));
        }
        return new TableLayout(fileSize, footerHandle(footer, 0), footerHandle(footer, TableFormat.HANDLE_SIZE),
                footerHandle(footer, 2 * TableFormat.HANDLE_SIZE), footer.getInt(3 * TableFormat.HANDLE_SIZE),
                footer.getInt(TableFormat.FOOTER_SIZE - 12), footer.getLong(TableFormat.FOOTER_SIZE - 8), entries);
    }

    /**
     * Reads the data block at {@code handle} (bypassing the block cache), checks its checksum and
     * walks its entries; for inspection tools. The keys are null for a block without entries.
     *
     * @throws CorruptionException naming the block's offset if the checksum or the contents are
     *     wrong (the index's offset if the handle lies outside the data blocks)
     */
    public TableLayout.DataBlock readDataBlock(BlockHandle handle) throws IOException {
        checkHandle(fileName, indexOffset, "data block", handle.offset(), handle.size(), indexOffset);
        ReadSource source = pin();
        BlockIterator data;
        try {
            data = new BlockIterator(heapCopy(readBlock(source, fileName, handle.offset(), handle.size())), fileName,
                    handle.offset());
        } finally {
            file.unpin();
        }
        int count = 0;
        byte[] first = null;
        for (data.seekToFirst(); data.valid(); data.next()) {
            if (count++ == 0) {
                first = Arrays.copyOf(data.keyBuffer(), data.keyLength());
            }
        }
        if (count > 0) {
            data.seekToLast();
        }
        return new TableLayout.DataBlock(count, first, count == 0 ? null : Arrays.copyOf(data.keyBuffer(), data.keyLength()));
    }

    /**
     * Whether the checksum after the block at {@code handle} matches its contents; for inspection
     * tools, to tell a checksum mismatch from contents that do not parse.
     */
    public boolean checksumMatches(BlockHandle handle) throws IOException {
        checkHandle(fileName, handle.offset(), "block", handle.offset(), handle.size(),
                fileSize - TableFormat.FOOTER_SIZE);
        ReadSource source = pin();
        try {
            return checksumMatches(source.read(handle.offset(), handle.size() + TableFormat.BLOCK_TRAILER_SIZE),
                    handle.size());
        } finally {
            file.unpin();
        }
    }

    /** A heap copy of {@code length} bytes at {@code offset}, read under a pin. */
    private ByteBuffer read(long offset, int length) throws IOException {
        ReadSource source = pin();
        try {
            return heapCopy(source.read(offset, length));
        } finally {
            file.unpin();
        }
    }

    private static BlockHandle footerHandle(ByteBuffer footer, int at) {
        return new BlockHandle(footer.getLong(at), footer.getInt(at + 8));
    }

    /**
     * Opens the data block the index iterator points at, verifying its checksum unless the block
     * is mapped and its checksum matched within the recheck interval ({@link BlockChecks}) and
     * {@code fillCache} (reads that fill no cache check every block); {@code source} is the
     * caller's pin, which must outlive the block.
     */
    BlockIterator dataBlock(ReadSource source, BlockIterator indexIterator, boolean fillCache) {
        if (indexIterator.valueLength() != TableFormat.HANDLE_SIZE) {
            throw corrupt(fileName, indexOffset, "index entry holds " + indexIterator.valueLength()
                    + " bytes, not a block handle");
        }
        ByteBuffer index = indexIterator.data();
        long offset = index.getLong(indexIterator.valueOffset());
        int size = index.getInt(indexIterator.valueOffset() + 8);
        checkHandle(fileName, indexOffset, "data block", offset, size, indexOffset);
        return dataBlock(source, indexIterator.restartIndex(), offset, size, fillCache);
    }

    /**
     * Opens the data block of index entry {@code entry} (whose handle is {@code offset} and
     * {@code size}, checked against the file) as {@link #dataBlock(ReadSource, BlockIterator, boolean)} does.
     */
    private BlockIterator dataBlock(ReadSource source, int entry, long offset, int size, boolean fillCache) {
        try {
            ByteBuffer block = blockCache == null ? null : blockCache.get(fileNumber, offset);
            if (block == null) {
                block = checkedAt != null && fillCache
                        ? mappedDataBlock(source, entry, offset, size)
                        : checkedDataBlock(source, offset, size);
                if (blockCache != null && fillCache) {
                    blockCache.put(fileNumber, offset, block);
                }
            }
            return new BlockIterator(block, fileName, offset);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + fileName + " at offset " + offset, e);
        }
    }

    /**
     * The mapped data block of index entry {@code entry}: in place, checked unless its checksum
     * matched within the recheck interval.
     */
    private ByteBuffer mappedDataBlock(ReadSource source, int entry, long offset, int size) throws IOException {
        long now = checks.now() - clockOrigin;
        long checked = checkedAt.get(entry);
        if (checked != 0 && now - checked < checks.recheckNanos()) {
            return source.read(offset, size);
        }
        ByteBuffer block = checkedDataBlock(source, offset, size);
        checkedAt.lazySet(entry, Math.max(1, now));
        return block;
    }

    private ByteBuffer checkedDataBlock(ReadSource source, long offset, int size) throws IOException {
        checks.counted();
        return readBlock(source, fileName, offset, size);
    }

    /** Decodes the value at the iterator: meta, user meta, expiry and value bytes. */
    ValueStruct decodeValue(BlockIterator data) {
        long version = KeyFormat.getVersion(data.keyBuffer(), data.keyLength() - KeyFormat.VERSION_SIZE);
        return ValueStruct.decode(version, data.data(), data.valueOffset(), valueSize(data));
    }

    /**
     * Bytes of the encoded value at the iterator (a version-1 value reads as a version-2 one, see
     * {@link TableFormat#OLDEST_READABLE_FORMAT_VERSION}).
     *
     * @throws CorruptionException if they are not a value encoding: unknown flag bits, or fewer
     *     bytes than the header its flags describe
     */
    int valueSize(BlockIterator data) {
        int length = data.valueLength();
        if (ValueStruct.checkedHeaderSize(data.data(), data.valueOffset(), length) < 0) {
            throw corrupt(fileName, indexOffset, "value of " + length + " bytes is not a value encoding"
                    + (length == 0 ? "" : " (flags byte " + (data.data().get(data.valueOffset()) & 0xff)
                    + ": unknown bits or a header longer than the value)"));
        }
        return length;
    }

    private static ByteBuffer readBlock(ReadSource source, String fileName, long offset, int size) throws IOException {
        ByteBuffer block = source.read(offset, size + TableFormat.BLOCK_TRAILER_SIZE);
        if (!checksumMatches(block, size)) {
            throw corrupt(fileName, offset, "block checksum mismatch");
        }
        return block.limit(size).slice();
    }

    /** Whether {@code block}'s first {@code size} bytes have the CRC32C stored after them. */
    private static boolean checksumMatches(ByteBuffer block, int size) {
        CRC32C crc = new CRC32C();
        crc.update(block.duplicate().limit(size));
        return (int) crc.getValue() == block.getInt(size);
    }

    private static void checkHandle(String fileName, long where, String what, long offset, int size, long limit) {
        if (offset < 0 || size < 0 || size > TableFormat.MAX_BLOCK_SIZE
                || offset + size + TableFormat.BLOCK_TRAILER_SIZE > limit) {
            throw corrupt(fileName, where, what + " handle (offset " + offset + ", size " + size
                    + ") points outside the file");
        }
    }

    private static CorruptionException corrupt(String fileName, long offset, String reason) {
        return new CorruptionException(fileName, offset, "table " + fileName + " at offset " + offset + ": " + reason);
    }

    /** Drops the table's cached blocks, then closes (and unmaps) the file. */
    @Override
    public void close() throws IOException {
        if (blockCache != null) {
            blockCache.invalidateTable(fileNumber);
        }
        if (indexCache != null) {
            indexCache.invalidateTable(fileNumber);
        }
        file.close();
    }
}
