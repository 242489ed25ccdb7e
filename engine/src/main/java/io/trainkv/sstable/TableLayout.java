package io.trainkv.sstable;

import java.util.List;

/**
 * A table's block layout as its footer and index block give it (see {@code docs/format.md}), for
 * inspection tools such as {@code sstdump --command raw}. Read-only: getting it reads the footer
 * and the index, never the data blocks. Keys are internal keys (user key then 8-byte version).
 *
 * @param fileSize       bytes of the file; the footer is its last {@link TableFormat#FOOTER_SIZE}
 * @param filter         the filter block's handle, from the footer
 * @param properties     the properties block's handle, from the footer
 * @param index          the index block's handle, from the footer
 * @param formatVersion  the footer's format version
 * @param footerChecksum the footer's CRC32C of its first 40 bytes, as stored
 * @param magic          the footer's magic number, as stored
 * @param dataBlocks     the index entries, one per data block, in file order
 */
public record TableLayout(long fileSize, BlockHandle filter, BlockHandle properties, BlockHandle index,
                          int formatVersion, int footerChecksum, long magic, List<IndexEntry> dataBlocks) {

    public TableLayout {
        dataBlocks = List.copyOf(dataBlocks);
    }

    /** Where the footer starts. */
    public long footerOffset() {
        return fileSize - TableFormat.FOOTER_SIZE;
    }

    /** One index entry: the last internal key of a data block, and the block's handle. */
    public record IndexEntry(byte[] lastKey, BlockHandle handle) {
    }

    /** What reading one data block found: its number of entries and its first and last internal keys. */
    public record DataBlock(int entryCount, byte[] firstKey, byte[] lastKey) {
    }
}
