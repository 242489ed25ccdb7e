package io.trainkv.sstable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.trainkv.manifest.TableMeta;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Table output cutting and the writer's block bounds, one test per block kind (data, index,
 * filter, properties) at the bound. The writer is given a small bound in place of the reader's
 * 256 MiB so that each boundary is reached with a few hundred kilobytes; every table written is
 * then opened by the real reader and every block handle checked against the bound.
 */
class TableOutputsTest {

    private static final long NO_TARGET = Long.MAX_VALUE;

    private NioStorage storage;
    private final AtomicLong fileNumbers = new AtomicLong(10);

    @BeforeEach
    void setUp() throws IOException {
        storage = NioStorage.open(Jimfs.newFileSystem(Configuration.unix()).getPath("/db"));
    }

    private TableOutputs outputs(long targetFileSize, int blockSize, int bitsPerKey, int maxBlockSize) {
        return new TableOutputs(storage, fileNumbers::incrementAndGet, targetFileSize, blockSize, bitsPerKey,
                maxBlockSize);
    }

    private static ValueStruct value(long version, byte[] bytes) {
        return new ValueStruct(version, (byte) 0, (byte) 0, ValueStruct.NO_EXPIRY, bytes);
    }

    private static void add(TableOutputs outputs, byte[] userKey, ValueStruct value) throws IOException {
        byte[] key = KeyFormat.encode(userKey, value.version());
        outputs.add(key, key.length, value);
    }

    private static byte[] key(String prefix, int i, int length) {
        byte[] key = new byte[length];
        Arrays.fill(key, (byte) 'k');
        byte[] suffix = String.format("%s%06d", prefix, i).getBytes();
        System.arraycopy(suffix, 0, key, length - suffix.length, suffix.length);
        return key;
    }

    private TableReader open(TableMeta table) throws IOException {
        String name = FileNames.name(table.fileNumber(), FileNames.Kind.TABLE);
        return TableReader.open(storage.openRead(name), name, table.fileNumber(), false);
    }

    /** Opens every table, checks every block against {@code maxBlockSize}, and that the ranges ascend without overlap. */
    private void assertBounded(List<TableMeta> tables, int maxBlockSize) throws IOException {
        byte[] previousLargest = null;
        for (TableMeta table : tables) {
            if (previousLargest != null) {
                assertTrue(Bytes.compare(previousLargest, table.smallestUserKey()) < 0,
                        "tables cut only between user keys, in key order");
            }
            previousLargest = table.largestUserKey();
            try (TableReader reader = open(table)) {
                TableLayout layout = reader.layout();
                assertTrue(layout.index().size() <= maxBlockSize, "index block " + layout.index().size());
                assertTrue(layout.filter().size() <= maxBlockSize, "filter block " + layout.filter().size());
                assertTrue(layout.properties().size() <= maxBlockSize, "properties block " + layout.properties().size());
                for (TableLayout.IndexEntry entry : layout.dataBlocks()) {
                    assertTrue(entry.handle().size() <= maxBlockSize, "data block " + entry.handle().size());
                }
            }
        }
    }

    /** Readers of the tables one output wrote, for point reads across them. */
    private final class Opened implements AutoCloseable {
        private final List<TableMeta> tables;
        private final List<TableReader> readers = new ArrayList<>();

        Opened(List<TableMeta> tables) throws IOException {
            this.tables = tables;
            for (TableMeta table : tables) {
                readers.add(open(table));
            }
        }

        /** The version from the one table whose range holds {@code userKey}. */
        ValueStruct get(byte[] userKey, long version) {
            for (int i = 0; i < tables.size(); i++) {
                if (tables.get(i).overlapsUserRange(userKey, userKey)) {
                    return readers.get(i).get(userKey, version);
                }
            }
            return null;
        }

        @Override
        public void close() throws IOException {
            for (TableReader reader : readers) {
                reader.close();
            }
        }
    }

    @Test
    void aDataBlockIsCutBeforeAnEntryWouldTakeItPastTheBound() throws IOException {
        int bound = 64 * 1024;
        TableOutputs outputs = outputs(NO_TARGET, bound / 2, 10, bound);
        byte[] first = new byte[30 * 1024];
        byte[] second = new byte[40 * 1024];
        Arrays.fill(second, (byte) 7);
        add(outputs, "a".getBytes(), value(1, first)); // below the block size: the block stays open
        add(outputs, "b".getBytes(), value(2, second)); // 70 KiB together: more than the bound
        IllegalArgumentException tooBig = assertThrows(IllegalArgumentException.class,
                () -> add(outputs, "c".getBytes(), value(3, new byte[bound])));
        assertTrue(tooBig.getMessage().contains("does not fit in a table block of at most " + bound), tooBig.getMessage());
        add(outputs, "d".getBytes(), value(4, "after the refused entry".getBytes()));
        List<TableMeta> tables = outputs.finish();
        assertEquals(1, tables.size());
        assertBounded(tables, bound);
        try (TableReader reader = open(tables.get(0))) {
            assertEquals(3, reader.layout().dataBlocks().size(), "the second entry started a block of its own");
        }
        try (Opened opened = new Opened(tables)) {
            assertArrayEquals(first, opened.get("a".getBytes(), 1).value());
            assertArrayEquals(second, opened.get("b".getBytes(), 2).value());
            assertNull(opened.get("c".getBytes(), 3), "the refused entry is not in the table");
            assertArrayEquals("after the refused entry".getBytes(), opened.get("d".getBytes(), 4).value());
        }
    }

    @Test
    void aFullIndexStartsANewTableAtTheNextUserKey() throws IOException {
        int bound = 16 * 1024;
        TableOutputs outputs = outputs(NO_TARGET, 256, 10, bound);
        int keys = 600;
        for (int i = 0; i < keys; i++) {
            add(outputs, key("k", i, 1024), value(1, ("v" + i).getBytes())); // one data block per 1 KiB key
        }
        List<TableMeta> tables = outputs.finish();
        assertTrue(tables.size() >= keys * 1060 / bound, "index-bound tables: " + tables.size());
        assertBounded(tables, bound);
        for (TableMeta table : tables.subList(0, tables.size() - 1)) {
            try (TableReader reader = open(table)) {
                assertTrue(reader.layout().index().size() >= bound / 2 - 1100, "cut near half the bound: "
                        + reader.layout().index().size());
            }
        }
        try (Opened opened = new Opened(tables)) {
            for (int i = 0; i < keys; i++) {
                assertArrayEquals(("v" + i).getBytes(), opened.get(key("k", i, 1024), 1).value(), "key " + i);
            }
        }
    }

    @Test
    void versionsOfOneKeyStayInOneTableAndTheirIndexStaysBounded() throws IOException {
        int bound = 256 * 1024;
        TableOutputs outputs = outputs(NO_TARGET, 256, 10, bound);
        byte[] hot = key("hot", 0, 1024);
        int versions = 3_000; // as blocks of one entry each, their index would take 3 MiB
        for (int v = versions; v >= 1; v--) {
            add(outputs, hot, value(v, ("v" + v).getBytes()));
        }
        add(outputs, key("next", 0, 1024), value(1, "next".getBytes()));
        List<TableMeta> tables = outputs.finish();
        assertEquals(2, tables.size(), "the full table ends before the next key, not inside the versions");
        assertArrayEquals(hot, tables.get(0).largestUserKey());
        assertArrayEquals(hot, tables.get(0).smallestUserKey());
        assertBounded(tables, bound);
        try (TableReader reader = open(tables.get(0))) {
            TableIterator it = reader.iterator(false);
            it.seekToFirst();
            for (int v = versions; v >= 1; v--) {
                assertTrue(it.valid(), "version " + v);
                assertEquals(v, KeyFormat.getVersion(it.keyBuffer(), it.keyLength() - KeyFormat.VERSION_SIZE));
                assertArrayEquals(("v" + v).getBytes(), it.value().value());
                it.next();
            }
            assertFalse(it.valid());
            assertEquals(1, reader.get(hot, 1).version(), "a point read finds the oldest version");
            assertTrue(reader.layout().dataBlocks().size() < 200, "the versions past half the bound share blocks: "
                    + reader.layout().dataBlocks().size());
        }
    }

    @Test
    void aFullFilterStartsANewTableAtTheNextUserKey() throws IOException {
        int bound = 8 * 1024;
        TableOutputs outputs = outputs(NO_TARGET, 4 * 1024, 64, bound);
        int keys = 3_000; // 8 filter bytes per key at 64 bits per key
        for (int i = 0; i < keys; i++) {
            add(outputs, key("f", i, 8), value(1, new byte[0]));
        }
        List<TableMeta> tables = outputs.finish();
        assertTrue(tables.size() >= keys * 8 / bound, "filter-bound tables: " + tables.size());
        assertBounded(tables, bound);
        for (TableMeta table : tables.subList(0, tables.size() - 1)) {
            try (TableReader reader = open(table)) {
                assertTrue(reader.layout().filter().size() >= bound / 2, "the filter filled the table: "
                        + reader.layout().filter().size());
                assertTrue(reader.layout().index().size() < bound / 4, "not the index");
            }
        }
        try (Opened opened = new Opened(tables)) {
            for (int i = 0; i < keys; i++) {
                assertNotNull(opened.get(key("f", i, 8), 1), "key " + i);
            }
        }
    }

    @Test
    void fullPropertiesStartANewTableAtTheNextUserKey() throws IOException {
        int bound = 8 * 1024;
        TableOutputs outputs = outputs(NO_TARGET, 4 * 1024, 10, bound);
        int keys = 2_000; // each points into a value-log file of its own: 16 property bytes each
        for (int i = 0; i < keys; i++) {
            byte[] pointer = new ValuePointer(100 + i, 0, 50).encode();
            add(outputs, key("p", i, 8), new ValueStruct(1, ValueStruct.META_VALUE_POINTER, (byte) 0,
                    ValueStruct.NO_EXPIRY, pointer));
        }
        List<TableMeta> tables = outputs.finish();
        assertTrue(tables.size() >= keys * 16 / bound, "properties-bound tables: " + tables.size());
        assertBounded(tables, bound);
        long referenced = 0;
        for (TableMeta table : tables) {
            try (TableReader reader = open(table)) {
                referenced += reader.properties().valueLogBytes().size();
            }
        }
        assertEquals(keys, referenced, "every value-log reference is in some table's properties");
    }

    @Test
    void aWriterThatIgnoresIsFullRefusesToWriteABlockTheReaderWouldRefuse() throws IOException {
        int bound = 8 * 1024;
        try (WritableFile file = storage.create("000001.sst")) {
            TableWriter filterWriter = new TableWriter(file, 4 * 1024, 64, bound);
            for (int i = 0; i < 2_000; i++) {
                filterWriter.add(KeyFormat.encode(key("f", i, 8), 1), 16, value(1, new byte[0]));
            }
            assertTrue(filterWriter.isFull());
            IllegalStateException e = assertThrows(IllegalStateException.class, filterWriter::finish);
            assertTrue(e.getMessage().contains("filter block"), e.getMessage());
        }
        try (WritableFile file = storage.create("000002.sst")) {
            TableWriter indexWriter = new TableWriter(file, 256, 10, bound);
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
                for (int i = 0; i < 100; i++) {
                    byte[] key = KeyFormat.encode(key("k", i, 1024), 1);
                    indexWriter.add(key, key.length, value(1, new byte[0]));
                }
            });
            assertTrue(e.getMessage().contains("index block"), e.getMessage());
            assertTrue(file.size() < 10 * 1024, "it stopped at the bound: " + file.size());
        }
    }

    @Test
    void tablesAreCutAtTheTargetSizeOnlyBetweenUserKeys() throws IOException {
        TableOutputs outputs = outputs(4 * 1024, 256, 10, TableFormat.MAX_BLOCK_SIZE);
        List<byte[]> userKeys = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            byte[] userKey = key("t", i, 12);
            userKeys.add(userKey);
            for (int v = 3; v >= 1; v--) {
                add(outputs, userKey, value(v, new byte[40]));
            }
        }
        List<TableMeta> tables = outputs.finish();
        assertTrue(tables.size() > 10, "tables: " + tables.size());
        assertBounded(tables, TableFormat.MAX_BLOCK_SIZE);
        for (TableMeta table : tables) {
            assertEquals(3, KeyFormat.version(table.smallestKey()), "a table starts with a key's newest version");
            assertEquals(1, KeyFormat.version(table.largestKey()), "and ends with a key's oldest");
            assertTrue(table.fileSize() < 4 * 1024 + 1024, "near the target: " + table.fileSize());
        }
        try (Opened opened = new Opened(tables)) {
            for (byte[] userKey : userKeys) {
                for (int v = 1; v <= 3; v++) {
                    assertEquals(v, opened.get(userKey, v).version());
                }
            }
        }
        assertEquals(tables.stream().mapToLong(TableMeta::fileSize).sum(), outputs.bytesWritten());
    }

    @Test
    void withLongKeysTheIndexCountsTowardTheTargetSize() throws IOException {
        int target = 256 * 1024;
        TableOutputs outputs = outputs(target, 4096, 10, TableFormat.MAX_BLOCK_SIZE);
        for (int i = 0; i < 200; i++) { // 6,000-byte keys, a 1-byte value: each data block adds a key-sized index entry
            add(outputs, key("long", i, 6000), value(1, new byte[1]));
        }
        List<TableMeta> tables = outputs.finish();
        assertTrue(tables.size() > 2, "tables: " + tables.size());
        assertBounded(tables, TableFormat.MAX_BLOCK_SIZE);
        for (TableMeta table : tables) {
            assertTrue(table.fileSize() < target + 3 * 6100, "near the target, index included: " + table.fileSize());
        }
    }

    @Test
    void abandonDeletesEveryTableItCreated() throws IOException {
        TableOutputs outputs = outputs(1024, 256, 10, TableFormat.MAX_BLOCK_SIZE);
        for (int i = 0; i < 200; i++) {
            add(outputs, key("a", i, 12), value(1, new byte[40]));
        }
        assertFalse(storage.list().isEmpty());
        outputs.abandon(new IOException("the flush failed"));
        assertEquals(List.of(), storage.list());
    }
}
