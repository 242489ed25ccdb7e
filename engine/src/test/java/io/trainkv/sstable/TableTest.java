package io.trainkv.sstable;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.trainkv.CorruptionException;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Table files: round trips against a model, both iteration directions, bloom filter, and corruption reports. */
class TableTest {

    private static final String NAME = "000009.sst";

    /** Where the table lives and how it is read. */
    enum Medium { JIMFS_POSITIONAL, DISK_MMAP, DISK_POSITIONAL }

    @TempDir
    Path tempDir;

    private NioStorage storage(Medium medium) throws IOException {
        if (medium == Medium.JIMFS_POSITIONAL) {
            return NioStorage.open(Jimfs.newFileSystem(Configuration.unix()).getPath("/db"));
        }
        return NioStorage.open(tempDir.resolve(medium.name()));
    }

    private static boolean mmap(Medium medium) {
        return medium == Medium.DISK_MMAP;
    }

    /** The model: internal key -> value, in KeyFormat order. */
    private static TreeMap<byte[], ValueStruct> model(long seed, int userKeys) {
        Random random = new Random(seed);
        TreeMap<byte[], ValueStruct> model = new TreeMap<>(KeyFormat::compare);
        for (int i = 0; i < userKeys; i++) {
            byte[] userKey = String.format("user-%06d", i * 2).getBytes();
            int versions = 1 + random.nextInt(3);
            long version = 1 + random.nextInt(50);
            for (int v = 0; v < versions; v++) {
                byte meta = random.nextInt(8) == 0 ? ValueStruct.META_TOMBSTONE : 0;
                byte[] value = new byte[meta != 0 ? 0 : random.nextInt(200)];
                random.nextBytes(value);
                model.put(KeyFormat.encode(userKey, version),
                        new ValueStruct(version, meta, (byte) random.nextInt(4), random.nextInt(3) == 0 ? 1234567 : 0, value));
                version += 1 + random.nextInt(5);
            }
        }
        return model;
    }

    private static TableProperties write(NioStorage storage, Map<byte[], ValueStruct> model, int blockSize) throws IOException {
        try (WritableFile file = storage.create(NAME)) {
            TableWriter writer = new TableWriter(file, blockSize, 10);
            for (Map.Entry<byte[], ValueStruct> e : model.entrySet()) {
                writer.add(KeyFormat.userKey(e.getKey()), e.getValue());
            }
            TableProperties properties = writer.finish();
            assertEquals(writer.fileSize(), file.size());
            return properties;
        }
    }

    /**
     * Opens the table trusting a mapped block for an hour after its check, so that every test here
     * also reads through the trusted path; a damaged block must still be reported on its first read.
     */
    private TableReader open(NioStorage storage, Medium medium) throws IOException {
        return TableReader.open(storage.openRead(NAME), NAME, 9, mmap(medium),
                BlockChecks.recheckingAfter(Duration.ofHours(1)));
    }

    private static void assertSame(ValueStruct expected, ValueStruct actual, String where) {
        assertEquals(expected.version(), actual.version(), where);
        assertEquals(expected.meta(), actual.meta(), where);
        assertEquals(expected.userMeta(), actual.userMeta(), where);
        assertEquals(expected.expiresAtMillis(), actual.expiresAtMillis(), where);
        assertArrayEquals(expected.value(), actual.value(), where);
    }

    @ParameterizedTest
    @EnumSource(Medium.class)
    void pointReadsAndPropertiesMatchTheModel(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        TreeMap<byte[], ValueStruct> model = model(11, 3000);
        TableProperties written = write(storage, model, 1024);
        try (TableReader table = open(storage, medium)) {
            assertEquals(mmap(medium), table.isMapped());
            TableProperties p = table.properties();
            assertEquals(model.size(), p.entryCount());
            assertEquals(written.entryCount(), p.entryCount());
            assertEquals(model.values().stream().filter(ValueStruct::isTombstone).count(), p.tombstoneCount());
            assertTrue(p.dataBlockCount() > 50, "many blocks at 1 KiB: " + p.dataBlockCount());
            assertArrayEquals(model.firstKey(), p.smallestKey());
            assertArrayEquals(model.lastKey(), p.largestKey());
            assertEquals(model.values().stream().mapToLong(ValueStruct::version).min().getAsLong(), p.minVersion());
            assertEquals(model.values().stream().mapToLong(ValueStruct::version).max().getAsLong(), p.maxVersion());
            assertTrue(p.valueLogBytes().isEmpty());

            for (Map.Entry<byte[], ValueStruct> e : model.entrySet()) {
                byte[] userKey = KeyFormat.userKey(e.getKey());
                long version = e.getValue().version();
                assertSame(e.getValue(), table.get(userKey, version), "exact version");
                byte[] newest = model.ceilingKey(KeyFormat.encode(userKey, KeyFormat.MAX_VERSION));
                assertSame(model.get(newest), table.get(userKey, KeyFormat.MAX_VERSION), "newest version");
                Map.Entry<byte[], ValueStruct> older = model.higherEntry(e.getKey());
                ValueStruct below = table.get(userKey, version - 1);
                if (older != null && Arrays.equals(KeyFormat.userKey(older.getKey()), userKey)) {
                    assertSame(older.getValue(), below, "the next older version");
                } else {
                    assertNull(below, "nothing at or below version " + (version - 1));
                }
            }
            assertNull(table.get("user-000001".getBytes(), Long.MAX_VALUE - 1), "absent key between two keys");
            assertNull(table.get("user".getBytes(), Long.MAX_VALUE - 1), "a prefix of stored keys");
            assertNull(table.get("zzz".getBytes(), Long.MAX_VALUE - 1), "after the last key");
        }
    }

    @ParameterizedTest
    @EnumSource(Medium.class)
    void iteratorsWalkBothWaysAndSeek(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        TreeMap<byte[], ValueStruct> model = model(12, 2000);
        write(storage, model, 512);
        try (TableReader table = open(storage, medium)) {
            List<byte[]> expected = new ArrayList<>(model.keySet());
            TableIterator it = table.iterator(false);
            int i = 0;
            for (it.seekToFirst(); it.valid(); it.next()) {
                assertArrayEquals(expected.get(i), KeyFormat.encode(it.userKey(), it.version()), "forward " + i);
                assertSame(model.get(expected.get(i)), it.value(), "forward value " + i);
                i++;
            }
            assertEquals(expected.size(), i);
            TableIterator back = table.iterator(true);
            i = expected.size() - 1;
            for (back.seekToFirst(); back.valid(); back.next()) {
                assertArrayEquals(expected.get(i), KeyFormat.encode(back.userKey(), back.version()), "backward " + i);
                i--;
            }
            assertEquals(-1, i);

            Random random = new Random(5);
            for (int n = 0; n < 2000; n++) {
                byte[] userKey = String.format("user-%06d", random.nextInt(4100)).getBytes();
                long version = random.nextInt(80);
                byte[] target = KeyFormat.encode(userKey, version);
                it.seek(userKey, version);
                byte[] ceiling = model.ceilingKey(target);
                if (ceiling == null) {
                    assertFalse(it.valid());
                } else {
                    assertArrayEquals(ceiling, KeyFormat.encode(it.userKey(), it.version()));
                }
                back.seek(userKey, version);
                byte[] floor = model.floorKey(target);
                if (floor == null) {
                    assertFalse(back.valid());
                } else {
                    assertArrayEquals(floor, KeyFormat.encode(back.userKey(), back.version()));
                    back.next();
                    byte[] before = model.lowerKey(floor);
                    assertEquals(before != null, back.valid(), "a step back from a seek");
                    if (before != null) {
                        assertArrayEquals(before, KeyFormat.encode(back.userKey(), back.version()));
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = Medium.class, names = "JIMFS_POSITIONAL")
    void theBloomFilterSkipsAbsentKeysAboutNinetyNinePercentOfTheTime(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        TreeMap<byte[], ValueStruct> model = new TreeMap<>(KeyFormat::compare);
        for (int i = 0; i < 20_000; i++) {
            model.put(KeyFormat.encode(String.format("present-%08d", i).getBytes(), 1),
                    new ValueStruct(1, (byte) 0, (byte) 0, 0, new byte[] {1}));
        }
        write(storage, model, 4096);
        try (TableReader table = open(storage, medium)) {
            for (byte[] key : model.keySet()) {
                assertTrue(table.mayContain(KeyFormat.userKey(key)), "no false negatives");
            }
            int falsePositives = 0;
            int probes = 100_000;
            for (int i = 0; i < probes; i++) {
                if (table.mayContain(String.format("absent-%08d", i).getBytes())) {
                    falsePositives++;
                }
            }
            double rate = falsePositives / (double) probes;
            assertTrue(rate < 0.02, "false-positive rate " + rate);
        }
    }

    @ParameterizedTest
    @EnumSource(Medium.class)
    void aFlippedByteInADataBlockIsReportedWithFileAndBlockOffset(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        TreeMap<byte[], ValueStruct> model = model(13, 500);
        write(storage, model, 1024);
        BlockIterator index = indexBlock(storage);
        index.seekToFirst();
        index.next();
        long secondBlock = index.value().getLong(0);
        byte[] keyInSecondBlock = KeyFormat.userKey(Arrays.copyOf(index.keyBuffer(), index.keyLength()));
        flipByte(storage, medium, secondBlock + 3);
        try (TableReader table = open(storage, medium)) {
            byte[] key = keyInSecondBlock;
            CorruptionException e = assertThrows(CorruptionException.class, () -> table.get(key, Long.MAX_VALUE - 1));
            assertEquals(NAME, e.fileName());
            assertEquals(secondBlock, e.offset());
            assertTrue(e.getMessage().contains(NAME) && e.getMessage().contains("offset " + secondBlock), e.getMessage());
            TableIterator it = table.iterator(false);
            CorruptionException scan = assertThrows(CorruptionException.class, () -> {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    it.value();
                }
            });
            assertEquals(secondBlock, scan.offset());
        }
    }

    @ParameterizedTest
    @EnumSource(Medium.class)
    void damageToTheIndexFilterPropertiesOrFooterFailsTheOpenNamingTheBlock(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        write(storage, model(14, 300), 1024);
        long size = storage.size(NAME);
        ByteBuffer footer = readBytes(storage, size - TableFormat.FOOTER_SIZE, TableFormat.FOOTER_SIZE);
        long filterOffset = footer.getLong(0);
        long propertiesOffset = footer.getLong(12);
        long indexOffset = footer.getLong(24);
        long footerOffset = size - TableFormat.FOOTER_SIZE;
        long[][] cases = {
            {indexOffset + 1, indexOffset},
            {filterOffset + 2, filterOffset},
            {propertiesOffset + 5, propertiesOffset},
            {footerOffset + 2, footerOffset},
            {size - 1, footerOffset},
        };
        for (long[] c : cases) {
            flipByte(storage, medium, c[0]);
            CorruptionException e = assertThrows(CorruptionException.class, () -> open(storage, medium),
                    "flip at " + c[0]);
            assertEquals(NAME, e.fileName());
            assertEquals(c[1], e.offset(), e.getMessage());
            flipByte(storage, medium, c[0]);
            open(storage, medium).close();
        }
    }

    @ParameterizedTest
    @EnumSource(Medium.class)
    void aTruncatedTableFailsTheOpen(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        write(storage, model(15, 100), 1024);
        long size = storage.size(NAME);
        for (long cut : new long[] {size - 1, size - TableFormat.FOOTER_SIZE, 10, 0}) {
            try (WritableFile file = storage.openAppend(NAME)) {
                file.truncate(cut);
            }
            CorruptionException e = assertThrows(CorruptionException.class, () -> open(storage, medium));
            assertEquals(NAME, e.fileName(), e.getMessage());
        }
    }

    /** A clock the test moves by hand, in nanoseconds. */
    private static final class ManualClock implements LongSupplier {
        long nanos = 1_000;

        @Override
        public long getAsLong() {
            return nanos;
        }
    }

    @ParameterizedTest
    @EnumSource(Medium.class)
    void aMappedBlockIsCheckedOnceWithinTheRecheckIntervalPositionalReadsEveryTime(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        TreeMap<byte[], ValueStruct> model = model(16, 1000);
        write(storage, model, 1024);
        BlockChecks checks = BlockChecks.recheckingAfter(Duration.ofSeconds(1), new ManualClock());
        try (TableReader table = TableReader.open(storage.openRead(NAME), NAME, 9, mmap(medium), checks)) {
            int blocks = table.properties().dataBlockCount();
            readAll(table, model);
            long first = checks.checksums();
            assertTrue(first >= blocks && first <= model.size(), first + " checks for " + blocks + " blocks");
            readAll(table, model);
            assertEquals(mmap(medium) ? first : 2 * first, checks.checksums(),
                    "a mapped block checked within the interval is not checked again; a block read from the file is");
            TableIterator compaction = table.iterator(false, false);
            for (compaction.seekToFirst(); compaction.valid(); compaction.next()) {
                compaction.value();
            }
            compaction.close();
            assertEquals((mmap(medium) ? first : 2 * first) + blocks, checks.checksums(),
                    "a read that fills no cache (compaction) checks every block");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Medium.class, names = "DISK_MMAP")
    void aMappedBlockDamagedAfterItsCheckIsReportedByTheFirstReadAfterTheInterval(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        TreeMap<byte[], ValueStruct> model = model(17, 500);
        write(storage, model, 1024);
        BlockIterator index = indexBlock(storage);
        index.seekToFirst();
        index.next();
        long secondBlock = index.value().getLong(0);
        int secondSize = index.value().getInt(8);
        byte[] key = KeyFormat.userKey(Arrays.copyOf(index.keyBuffer(), index.keyLength()));
        ManualClock clock = new ManualClock();
        BlockChecks checks = BlockChecks.recheckingAfter(Duration.ofSeconds(1), clock);
        try (TableReader table = TableReader.open(storage.openRead(NAME), NAME, 9, true, checks)) {
            ValueStruct before = table.get(key, Long.MAX_VALUE - 1);
            flipByte(storage, medium, secondBlock + secondSize); // the block's stored checksum: contents intact
            clock.nanos += Duration.ofMillis(999).toNanos();
            assertSame(before, table.get(key, Long.MAX_VALUE - 1), "within the interval the checked block is trusted");
            TableIterator compaction = table.iterator(false, false);
            CorruptionException scan = assertThrows(CorruptionException.class, () -> {
                for (compaction.seekToFirst(); compaction.valid(); compaction.next()) {
                    compaction.value();
                }
            }, "compaction checks every block, trusted or not");
            compaction.close();
            assertEquals(secondBlock, scan.offset());
            clock.nanos += Duration.ofMillis(1).toNanos();
            CorruptionException e = assertThrows(CorruptionException.class, () -> table.get(key, Long.MAX_VALUE - 1));
            assertEquals(NAME, e.fileName());
            assertEquals(secondBlock, e.offset(), e.getMessage());
            TableIterator it = table.iterator(false);
            assertThrows(CorruptionException.class, () -> it.seek(key, Long.MAX_VALUE - 1),
                    "a failed check leaves the block untrusted");
            it.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Medium.class, names = "DISK_MMAP")
    void aTableUnderATableCacheChecksEveryRead(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        TreeMap<byte[], ValueStruct> model = model(18, 300);
        write(storage, model, 1024);
        BlockChecks checks = BlockChecks.recheckingAfter(Duration.ofHours(1), new ManualClock());
        try (TableReader table = TableReader.open(storage.openRead(NAME), NAME, 9, true, null, null,
                new TableCache(storage, 1), checks)) {
            readAll(table, model);
            long first = checks.checksums();
            readAll(table, model);
            assertEquals(2 * first, checks.checksums(), "a file that may be closed and mapped again is checked each read");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Medium.class, names = "JIMFS_POSITIONAL")
    void theDecodedIndexFindsTheBlockAnIndexSeekFinds(Medium medium) throws IOException {
        NioStorage storage = storage(medium);
        byte[] alphabet = {0x00, 0x01, 0x7f, (byte) 0x80, (byte) 0xff};
        Random random = new Random(19);
        TreeMap<byte[], ValueStruct> model = new TreeMap<>(KeyFormat::compare);
        while (model.size() < 3000) {
            byte[] userKey = randomKey(random, alphabet);
            long version = 1 + random.nextInt(5);
            model.put(KeyFormat.encode(userKey, version), new ValueStruct(version, (byte) 0, (byte) 0, 0, new byte[40]));
        }
        write(storage, model, 256);
        BlockIterator index = indexBlock(storage);
        IndexEntries entries = IndexEntries.decode(index, index.data().array(), Long.MAX_VALUE);
        assertTrue(entries != null && entries.count() > 100, "decoded, many blocks");
        for (int n = 0; n < 20_000; n++) {
            byte[] userKey = randomKey(random, alphabet);
            long version = random.nextInt(7);
            index.seek(userKey, version);
            int expected = index.valid() ? index.restartIndex() : entries.count();
            assertEquals(expected, entries.find(userKey, version), () -> Arrays.toString(userKey) + " @" + version);
            if (index.valid()) {
                assertEquals(index.data().getLong(index.valueOffset()), entries.offset(expected));
                assertEquals(index.data().getInt(index.valueOffset() + 8), entries.size(expected));
            }
        }
    }

    /** 1 to 12 bytes from {@code alphabet}: short keys, shared 8-byte prefixes, bytes above 0x7f. */
    private static byte[] randomKey(Random random, byte[] alphabet) {
        byte[] key = new byte[1 + random.nextInt(12)];
        for (int i = 0; i < key.length; i++) {
            key[i] = alphabet[random.nextInt(i < 6 ? 2 : alphabet.length)];
        }
        return key;
    }

    private static void readAll(TableReader table, TreeMap<byte[], ValueStruct> model) {
        for (Map.Entry<byte[], ValueStruct> e : model.entrySet()) {
            assertSame(e.getValue(), table.get(KeyFormat.userKey(e.getKey()), e.getValue().version()), "read back");
        }
    }

    /** The table's index block, read by hand from the footer's handle. */
    private static BlockIterator indexBlock(NioStorage storage) throws IOException {
        long size = storage.size(NAME);
        ByteBuffer footer = readBytes(storage, size - TableFormat.FOOTER_SIZE, TableFormat.FOOTER_SIZE);
        return new BlockIterator(readBytes(storage, footer.getLong(24), footer.getInt(32)), NAME, footer.getLong(24));
    }

    private static ByteBuffer readBytes(NioStorage storage, long offset, int length) throws IOException {
        try (var file = storage.openRead(NAME)) {
            ByteBuffer buffer = ByteBuffer.allocate(length);
            file.read(offset, buffer);
            return buffer.flip();
        }
    }

    private static void flipByte(NioStorage storage, Medium medium, long offset) throws IOException {
        Path path = storage.directory().resolve(NAME);
        try (FileChannel channel = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x20)).rewind();
            channel.write(one, offset);
        }
    }
}
