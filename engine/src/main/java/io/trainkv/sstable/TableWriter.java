package io.trainkv.sstable;

import io.trainkv.storage.WritableFile;
import io.trainkv.util.ByteOutput;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.util.Varint;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.CRC32C;

/**
 * Writes one table file from entries given in internal-key order: data blocks cut at about
 * {@code blockSize} bytes, then the bloom filter, properties and index blocks and the footer (see
 * {@link TableFormat}). {@link #finish()} fsyncs the file. Not thread-safe.
 *
 * <p>No block it writes is larger than {@link TableFormat#MAX_BLOCK_SIZE}, the bound the reader
 * accepts: a data block is cut before an entry that would take it past the bound, and
 * {@link #isFull()} tells the caller ({@link TableOutputs}) to start a new table once the index,
 * filter or properties block reaches half of it. The other half is room for the rest of the
 * current key's versions, which must stay in one table: once the index is that large, a data
 * block holding versions of one key is cut only when it is {@value #RUN_BLOCK_FACTOR} times the
 * size of its index entry, so the index grows by at most 1/{@value #RUN_BLOCK_FACTOR} of those
 * versions' bytes (past the bound only after gigabytes of versions of one key: then
 * {@link #add} or {@link #finish()} throws rather than write a block no reader accepts).
 */
public final class TableWriter {

    private static final byte[] EMPTY = new byte[0];

    /** How many times its index entry a data block of one key's versions grows once the index is full. */
    static final int RUN_BLOCK_FACTOR = 64;

    /** Bytes of a block without entries: the first restart offset and the restart count. */
    private static final int EMPTY_BLOCK_SIZE = 8;

    private final WritableFile file;
    private final int blockSize;
    private final int bitsPerKey;
    private final int maxBlockSize;
    private final int fullAt;
    private final BlockBuilder dataBlock = new BlockBuilder(TableFormat.DATA_RESTART_INTERVAL);
    private final BlockBuilder indexBlock = new BlockBuilder(TableFormat.INDEX_RESTART_INTERVAL);
    private final CRC32C crc = new CRC32C();
    private final byte[] valueHeader = new byte[ValueStruct.MAX_HEADER_SIZE];
    private final byte[] handle = new byte[TableFormat.HANDLE_SIZE];
    private final Map<Long, Long> valueLogBytes = new HashMap<>();

    private byte[] scratch = new byte[64];
    private byte[] lastKey = new byte[64];
    private int lastKeyLength;
    private int[] keyHashes = new int[1024];
    private int distinctKeys;
    private long offset;
    private long entries;
    private long tombstones;
    private int dataBlocks;
    private long minVersion = Long.MAX_VALUE;
    private long maxVersion;
    private byte[] smallestKey;
    private boolean finished;

    /**
     * A writer appending to {@code file}, cutting data blocks at {@code blockSize} bytes (256 to
     * half of {@link TableFormat#MAX_BLOCK_SIZE}) with {@code bitsPerKey} (1 to 64) bloom filter
     * bits per distinct user key.
     */
    public TableWriter(WritableFile file, int blockSize, int bitsPerKey) {
        this(file, blockSize, bitsPerKey, TableFormat.MAX_BLOCK_SIZE);
    }

    /** As above, with blocks bounded by {@code maxBlockSize} bytes instead of the reader's bound (tests). */
    TableWriter(WritableFile file, int blockSize, int bitsPerKey, int maxBlockSize) {
        if (blockSize < 256 || blockSize > maxBlockSize / 2) {
            throw new IllegalArgumentException("block size out of range: " + blockSize);
        }
        if (bitsPerKey < 1 || bitsPerKey > 64) {
            throw new IllegalArgumentException("bloom bits per key out of range: " + bitsPerKey);
        }
        this.file = file;
        this.blockSize = blockSize;
        this.bitsPerKey = bitsPerKey;
        this.maxBlockSize = maxBlockSize;
        this.fullAt = maxBlockSize / 2;
    }

    /**
     * Adds {@code userKey} at {@code value.version()}; keys must come in strictly increasing
     * internal-key order.
     */
    public void add(byte[] userKey, ValueStruct value) throws IOException {
        add(internalKey(userKey, value.version()), userKey.length + KeyFormat.VERSION_SIZE, value);
    }

    /**
     * Adds the entry whose internal key is {@code key[0, keyLength)}; its version must equal
     * {@code value.version()}. Keys must come in strictly increasing internal-key order.
     *
     * @throws IllegalArgumentException if the entry alone would make a data block larger than a
     *     reader accepts (nothing is added)
     * @throws IllegalStateException if the keys are out of order, the table is finished, or the
     *     index block cannot take another data block (see the class comment)
     */
    public void add(byte[] key, int keyLength, ValueStruct value) throws IOException {
        if (finished) {
            throw new IllegalStateException("table already finished");
        }
        int userLength = keyLength - KeyFormat.VERSION_SIZE;
        if (entries > 0) {
            int order = KeyFormat.compare(lastKey, 0, lastKeyLength, key, 0, keyLength);
            if (order >= 0) {
                throw new IllegalStateException("keys out of order: " + Bytes.escape(Arrays.copyOf(key, userLength))
                        + "@" + value.version() + " after the previous key");
            }
        }
        long entrySize = 3L * Varint.MAX_LENGTH + keyLength + ValueStruct.MAX_HEADER_SIZE + value.value().length + 4;
        if (entrySize + EMPTY_BLOCK_SIZE > maxBlockSize) {
            throw new IllegalArgumentException("an entry with a " + userLength + "-byte key and a "
                    + value.value().length + "-byte value does not fit in a table block of at most "
                    + maxBlockSize + " bytes");
        }
        boolean newUserKey = !continuesUserKey(key, keyLength);
        if (!dataBlock.isEmpty() && cutBefore(newUserKey, entrySize)) {
            flushDataBlock();
        }
        if (newUserKey) {
            if (distinctKeys == keyHashes.length) {
                keyHashes = Arrays.copyOf(keyHashes, 2 * keyHashes.length);
            }
            keyHashes[distinctKeys++] = BloomFilter.hash(key, 0, userLength);
        }
        if (value.isValuePointer()) {
            ValuePointer pointer = value.pointer();
            addValueLogReference(pointer.fileId(), pointer.length());
        }
        int headerLength = ValueStruct.putHeader(valueHeader, 0, value.meta(), value.userMeta(), value.expiresAtMillis());
        dataBlock.add(key, keyLength, valueHeader, headerLength, value.value());

        if (entries == 0) {
            smallestKey = Arrays.copyOf(key, keyLength);
        }
        remember(key, keyLength);
        entries++;
        if (value.isTombstone()) {
            tombstones++;
        }
        minVersion = Math.min(minVersion, value.version());
        maxVersion = Math.max(maxVersion, value.version());
    }

    /** Whether {@code key[0, keyLength)} (an internal key) has the user key of the last entry added. */
    public boolean continuesUserKey(byte[] key, int keyLength) {
        return entries > 0 && Arrays.equals(lastKey, 0, lastKeyLength - KeyFormat.VERSION_SIZE,
                key, 0, keyLength - KeyFormat.VERSION_SIZE);
    }

    /**
     * Whether the table should be finished before the next user key: its index, filter or
     * properties block has reached half of the largest block a reader accepts.
     */
    public boolean isFull() {
        return indexSize() >= fullAt || BloomFilter.size(distinctKeys, bitsPerKey) >= fullAt
                || propertiesSize() >= fullAt;
    }

    /**
     * Whether the data block must be written before an entry of at most {@code entrySize} bytes
     * joins it: when the entry would take it past the bound, or when it has reached the block
     * size, except for versions of one key while the index is full (see the class comment).
     */
    private boolean cutBefore(boolean newUserKey, long entrySize) {
        int size = dataBlock.estimatedSize();
        if (size + entrySize > maxBlockSize) {
            return true;
        }
        if (size < blockSize) {
            return false;
        }
        return newUserKey || indexSize() < fullAt || size >= RUN_BLOCK_FACTOR * indexEntrySize(lastKeyLength);
    }

    /** Bytes of the index block with an entry for the pending data block. */
    private long indexSize() {
        return indexBlock.estimatedSize() + (dataBlock.isEmpty() ? 0 : indexEntrySize(lastKeyLength));
    }

    /** At most the bytes an index entry with a key of {@code keyLength} takes, its restart point included. */
    private static long indexEntrySize(int keyLength) {
        return 3L * Varint.MAX_LENGTH + keyLength + TableFormat.HANDLE_SIZE + 4;
    }

    private long propertiesSize() {
        return TableProperties.encodedSize(smallestKey == null ? 0 : smallestKey.length, lastKeyLength,
                valueLogBytes.size());
    }

    /** Records that the table points to {@code bytes} of values in value-log file {@code fileId}. */
    public void addValueLogReference(long fileId, long bytes) {
        valueLogBytes.merge(fileId, bytes, Long::sum);
    }

    public long entryCount() {
        return entries;
    }

    /**
     * Bytes written so far plus the pending data block and the index block it would end with
     * (bytes; with long keys the index is as large as the data): where {@link TableOutputs} cuts a
     * table.
     */
    public long estimatedSize() {
        return offset + dataBlock.estimatedSize() + indexSize();
    }

    /**
     * Writes the remaining blocks and the footer, and fsyncs the file.
     *
     * @throws IllegalStateException if the table has no entry, or if its index, filter or
     *     properties block would be larger than a reader accepts (a caller that finishes the table
     *     once {@link #isFull()} never sees this); nothing more is written then
     */
    public TableProperties finish() throws IOException {
        if (entries == 0) {
            throw new IllegalStateException("a table needs at least one entry");
        }
        checkBlockSize("filter", BloomFilter.size(distinctKeys, bitsPerKey));
        checkBlockSize("properties", propertiesSize());
        flushDataBlock();
        finished = true;
        byte[] filter = BloomFilter.build(keyHashes, distinctKeys, bitsPerKey);
        long filterOffset = offset;
        writeBlock(filter, filter.length);

        TableProperties properties = new TableProperties(entries, tombstones, dataBlocks, minVersion, maxVersion,
                smallestKey, Arrays.copyOf(lastKey, lastKeyLength), valueLogBytes);
        ByteOutput props = new ByteOutput(256);
        properties.encode(props);
        long propertiesOffset = offset;
        writeBlock(props.array(), props.size());

        ByteOutput index = indexBlock.finish();
        long indexOffset = offset;
        writeBlock(index.array(), index.size());

        ByteOutput footer = new ByteOutput(TableFormat.FOOTER_SIZE);
        footer.writeLong(filterOffset).writeInt(filter.length);
        footer.writeLong(propertiesOffset).writeInt(props.size());
        footer.writeLong(indexOffset).writeInt(index.size());
        footer.writeInt(TableFormat.FORMAT_VERSION);
        crc.reset();
        crc.update(footer.array(), 0, footer.size());
        footer.writeInt((int) crc.getValue());
        footer.writeLong(TableFormat.MAGIC);
        file.append(footer.asBuffer());
        offset += footer.size();
        file.sync();
        return properties;
    }

    /** Bytes of the finished file. */
    public long fileSize() {
        return offset;
    }

    private void flushDataBlock() throws IOException {
        if (dataBlock.isEmpty()) {
            return;
        }
        checkBlockSize("index", indexSize());
        ByteOutput contents = dataBlock.finish();
        long blockOffset = offset;
        writeBlock(contents.array(), contents.size());
        ByteBuffer.wrap(handle).putLong(0, blockOffset).putInt(8, contents.size());
        indexBlock.add(lastKey, lastKeyLength, handle, handle.length, EMPTY);
        dataBlock.reset();
        dataBlocks++;
    }

    private void checkBlockSize(String block, long size) {
        if (size > maxBlockSize) {
            throw new IllegalStateException("the " + block + " block of this table would take " + size
                    + " bytes, more than the " + maxBlockSize + " a reader accepts");
        }
    }

    private void writeBlock(byte[] contents, int length) throws IOException {
        crc.reset();
        crc.update(contents, 0, length);
        ByteBuffer trailer = ByteBuffer.allocate(TableFormat.BLOCK_TRAILER_SIZE).putInt(0, (int) crc.getValue());
        file.append(ByteBuffer.wrap(contents, 0, length));
        file.append(trailer);
        offset += length + TableFormat.BLOCK_TRAILER_SIZE;
    }

    private byte[] internalKey(byte[] userKey, long version) {
        int length = userKey.length + KeyFormat.VERSION_SIZE;
        if (scratch.length < length) {
            scratch = new byte[Math.max(length, 2 * scratch.length)];
        }
        System.arraycopy(userKey, 0, scratch, 0, userKey.length);
        KeyFormat.putVersion(scratch, userKey.length, version);
        return scratch;
    }

    private void remember(byte[] key, int keyLength) {
        if (lastKey.length < keyLength) {
            lastKey = new byte[Math.max(keyLength, 2 * lastKey.length)];
        }
        System.arraycopy(key, 0, lastKey, 0, keyLength);
        lastKeyLength = keyLength;
    }
}
