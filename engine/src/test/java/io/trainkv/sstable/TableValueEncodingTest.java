package io.trainkv.sstable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.trainkv.CorruptionException;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The value encoding of table format version 2: the header holds only the fields that are set,
 * every field survives a round trip at its bounds, and a value that is not a value encoding, or a
 * footer of an unknown version, is reported as corruption of the table.
 */
class TableValueEncodingTest {

    private static final String NAME = "000003.sst";

    private NioStorage storage;

    @BeforeEach
    void createStorage() throws IOException {
        storage = NioStorage.open(Jimfs.newFileSystem(Configuration.unix()).getPath("/db"));
    }

    /** Entries at the bounds of every field, in internal-key order (one version per user key). */
    private static List<ValueStruct> entries(List<byte[]> keys) {
        List<ValueStruct> values = new ArrayList<>();
        byte[] pointer = new ValuePointer(12, 1L << 40, 1 << 24).encode();
        byte[] bigKey = new byte[65536];
        Arrays.fill(bigKey, (byte) 'z');
        Object[][] cases = {
            {"a-plain".getBytes(), new ValueStruct(5, (byte) 0, (byte) 0, 0, "v".getBytes())},
            {"b-empty".getBytes(), new ValueStruct(5, (byte) 0, (byte) 0, 0, new byte[0])},
            {"c-tombstone".getBytes(), new ValueStruct(5, ValueStruct.META_TOMBSTONE, (byte) 0, 0, new byte[0])},
            {"d-pointer".getBytes(), new ValueStruct(5, ValueStruct.META_VALUE_POINTER, (byte) 0, 0, pointer)},
            {"e-moved".getBytes(), new ValueStruct(5, (byte) (ValueStruct.META_VALUE_POINTER | ValueStruct.META_MOVED),
                    (byte) 3, 0, pointer)},
            {"f-user-meta".getBytes(), new ValueStruct(5, (byte) 0, (byte) 0xff, 0, "u".getBytes())},
            {"g-expiry".getBytes(), new ValueStruct(5, (byte) 0, (byte) 0, Long.MAX_VALUE, "x".getBytes())},
            {"h-both".getBytes(), new ValueStruct(5, (byte) 0, (byte) 0x42, 1_700_000_000_123L, "b".getBytes())},
            {"i-large".getBytes(), new ValueStruct(5, (byte) 0, (byte) 0, 0, new byte[16 * 1024 * 1024])},
            {bigKey, new ValueStruct(5, (byte) 0, (byte) 1, -1L, "k".getBytes())},
        };
        for (Object[] c : cases) {
            keys.add((byte[]) c[0]);
            values.add((ValueStruct) c[1]);
        }
        return values;
    }

    private List<byte[]> writeBoundaryTable() throws IOException {
        List<byte[]> keys = new ArrayList<>();
        List<ValueStruct> values = entries(keys);
        try (WritableFile file = storage.create(NAME)) {
            TableWriter writer = new TableWriter(file, 4096, 10);
            for (int i = 0; i < keys.size(); i++) {
                writer.add(keys.get(i), values.get(i));
            }
            writer.finish();
        }
        return keys;
    }

    @Test
    void everyFieldRoundTripsAndTheHeaderHoldsOnlyWhatIsSet() throws IOException {
        List<byte[]> keys = new ArrayList<>();
        List<ValueStruct> values = entries(keys);
        writeBoundaryTable();
        try (TableReader table = TableReader.open(storage.openRead(NAME), NAME, 3, false)) {
            assertEquals(2, table.layout().formatVersion());
            try (TableIterator it = table.iterator(false)) {
                it.seekToFirst();
                for (int i = 0; i < keys.size(); i++) {
                    ValueStruct want = values.get(i);
                    String where = new String(keys.get(i), 0, Math.min(12, keys.get(i).length));
                    assertTrue(it.valid(), where);
                    assertArrayEquals(KeyFormat.encode(keys.get(i), 5), Arrays.copyOf(it.keyBuffer(), it.keyLength()));
                    ValueStruct got = it.value();
                    assertEquals(want.meta(), got.meta(), where);
                    assertEquals(want.userMeta(), got.userMeta(), where);
                    assertEquals(want.expiresAtMillis(), got.expiresAtMillis(), where);
                    assertArrayEquals(want.value(), got.value(), where);
                    int header = (want.userMeta() != 0 ? 1 : 0) + (want.expiresAtMillis() != 0 ? 8 : 0) + 1;
                    assertEquals(header + want.value().length, it.valueSize(), "bytes stored for " + where);
                    ByteBuffer view = it.valueBuffer();
                    assertEquals(want.meta(), ValueStruct.meta(view, it.valueOffset()), where);
                    assertEquals(want.expiresAtMillis(), ValueStruct.expiresAtMillis(view, it.valueOffset()), where);
                    it.next();
                }
                assertTrue(!it.valid());
            }
            ValueStruct moved = table.get("e-moved".getBytes(), KeyFormat.MAX_VERSION);
            assertTrue(moved.isMoved() && moved.isValuePointer() && !moved.isTombstone());
            assertEquals(new ValuePointer(12, 1L << 40, 1 << 24), moved.pointer());
        }
    }

    @Test
    void aPlainValueCostsOneHeaderByteWhereVersionOneSpentTen() throws IOException {
        try (WritableFile file = storage.create(NAME)) {
            TableWriter writer = new TableWriter(file, 4096, 10);
            writer.add("k".getBytes(), new ValueStruct(1, (byte) 0, (byte) 0, 0, new byte[100]));
            writer.finish();
        }
        try (TableReader table = TableReader.open(storage.openRead(NAME), NAME, 3, false)) {
            TableLayout.IndexEntry block = table.layout().dataBlocks().get(0);
            // shared, unshared and value-length varints, the 9-byte internal key, 1 + 100 value bytes,
            // then one restart offset and the restart count
            assertEquals(3 + 9 + 101 + 4 + 4, block.handle().size());
        }
    }

    @Test
    void aValueWithUnknownFlagBitsOrCutShortIsCorruptionOfTheTable() throws IOException {
        for (int[] damage : new int[][] {{0x20}, {0x80}, {0x00}}) { // 0x00 announces a 10-byte header on a 2-byte value
            writeSmallTable();
            TableLayout.IndexEntry block;
            try (TableReader table = TableReader.open(storage.openRead(NAME), NAME, 3, false)) {
                block = table.layout().dataBlocks().get(0);
            }
            ByteBuffer contents = read(block.handle().offset(), block.handle().size());
            BlockIterator it = new BlockIterator(contents.duplicate(), NAME, block.handle().offset());
            it.seekToFirst();
            int flagsAt = it.valueOffset();
            byte flags = contents.get(flagsAt);
            contents.put(flagsAt, (byte) (damage[0] == 0 ? 0 : flags | damage[0]));
            rewriteBlock(block.handle(), contents);
            try (TableReader table = TableReader.open(storage.openRead(NAME), NAME, 3, false)) {
                CorruptionException e = assertThrows(CorruptionException.class,
                        () -> table.get("k".getBytes(), KeyFormat.MAX_VERSION), "flags " + damage[0]);
                assertEquals(NAME, e.fileName());
                assertTrue(e.getMessage().contains("not a value encoding"), e.getMessage());
            }
            storage.delete(NAME);
        }
    }

    @Test
    void aFooterOfAnUnknownVersionIsRefusedAndVersionOneIsRead() throws IOException {
        writeSmallTable();
        for (int version : new int[] {0, 3}) {
            setFooterVersion(version);
            CorruptionException e = assertThrows(CorruptionException.class,
                    () -> TableReader.open(storage.openRead(NAME), NAME, 3, false));
            assertTrue(e.getMessage().contains("unknown table format version " + version), e.getMessage());
        }
    }

    private void writeSmallTable() throws IOException {
        try (WritableFile file = storage.create(NAME)) {
            TableWriter writer = new TableWriter(file, 4096, 10);
            writer.add("k".getBytes(), new ValueStruct(1, (byte) 0, (byte) 0, 0, "vv".getBytes()));
            writer.finish();
        }
    }

    /** Writes {@code version} into the footer and seals it with a matching checksum. */
    private void setFooterVersion(int version) throws IOException {
        long footerAt = storage.size(NAME) - TableFormat.FOOTER_SIZE;
        ByteBuffer footer = read(footerAt, TableFormat.FOOTER_SIZE);
        footer.putInt(3 * TableFormat.HANDLE_SIZE, version);
        CRC32C crc = new CRC32C();
        crc.update(footer.array(), 0, TableFormat.FOOTER_SIZE - 12);
        footer.putInt(TableFormat.FOOTER_SIZE - 12, (int) crc.getValue());
        write(footerAt, footer);
    }

    /** Replaces the contents of the block at {@code handle} and its checksum, so only the contents are wrong. */
    private void rewriteBlock(BlockHandle handle, ByteBuffer contents) throws IOException {
        ByteBuffer block = ByteBuffer.allocate(handle.size() + TableFormat.BLOCK_TRAILER_SIZE);
        block.put(contents.duplicate().clear());
        CRC32C crc = new CRC32C();
        crc.update(block.array(), 0, handle.size());
        block.putInt((int) crc.getValue());
        write(handle.offset(), block);
    }

    private ByteBuffer read(long offset, int length) throws IOException {
        try (var file = storage.openRead(NAME)) {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            file.read(offset, buffer);
            return buffer.flip();
        }
    }

    private void write(long offset, ByteBuffer bytes) throws IOException {
        byte[] all;
        try (var file = storage.openRead(NAME)) {
            ByteBuffer whole = ByteBuffer.allocate((int) file.size());
            file.read(0, whole);
            all = whole.array();
        }
        System.arraycopy(bytes.array(), 0, all, (int) offset, bytes.capacity());
        storage.delete(NAME);
        try (WritableFile file = storage.create(NAME)) {
            file.append(ByteBuffer.wrap(all));
        }
    }
}
