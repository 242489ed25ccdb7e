package io.trainkv.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The compact batch encoding of the WAL (docs/format.md): exact sizes, round trips at the bounds
 * of every field, and payloads that must be refused before anything is allocated.
 */
class WalCompactBatchTest {

    private static final int MAX_KEY = 65536;
    private static final int MAX_VALUE = 16 * 1024 * 1024;

    record Item(byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
    }

    @Test
    void theCommonPutCostsThreeHeaderBytesAndTheBatchFiveAtTenMillionVersions() {
        byte[] record = encode(10_000_000L, List.of(new Item((byte) 0, (byte) 0, 0, new byte[16], new byte[100])));
        // record header 8, tag 1, version varint 4 (10^7 < 2^28), count 1, flags 1, key and value lengths 1 each
        assertEquals(8 + 1 + 4 + 1 + 3 + 16 + 100, record.length);
    }

    @Test
    void theDocumentedExampleIsThirtyNineBytes() {
        byte[] record = encode(1, List.of(new Item((byte) 0, (byte) 0, 0, "k0000".getBytes(),
                "value-00000000000000".getBytes())));
        assertEquals(39, record.length);
        assertArrayEquals(new byte[] {0, 0, 0, 31, (byte) 0x82, 1, 1, 0x18, 5, 20},
                Arrays.copyOfRange(record, 4, 14), "length, tag, version, count, flags, key and value lengths");
    }

    static Stream<Arguments> entries() {
        byte[] pointer = new ValuePointer(7, 123_456_789L, 4096).encode();
        return Stream.of(
                Arguments.of("empty value", item(0, 0, 0, 1, 0)),
                Arguments.of("largest value", item(0, 0, 0, 3, MAX_VALUE)),
                Arguments.of("largest key", item(0, 0, 0, MAX_KEY, 5)),
                Arguments.of("tombstone", item(ValueStruct.META_TOMBSTONE, 0, 0, 4, 0)),
                Arguments.of("value pointer", new Item(ValueStruct.META_VALUE_POINTER, (byte) 0, 0, "p".getBytes(), pointer)),
                Arguments.of("moved value pointer", new Item((byte) (ValueStruct.META_VALUE_POINTER | ValueStruct.META_MOVED),
                        (byte) 0, 0, "m".getBytes(), pointer)),
                Arguments.of("user meta only", item(0, 0x80, 0, 2, 3)),
                Arguments.of("user meta 0xff", item(0, 0xff, 0, 2, 3)),
                Arguments.of("expiry only", item(0, 0, 1_700_000_000_123L, 2, 3)),
                Arguments.of("expiry Long.MAX_VALUE", item(0, 0, Long.MAX_VALUE, 2, 3)),
                Arguments.of("negative expiry", item(0, 0, -1L, 2, 3)),
                Arguments.of("every field", item(ValueStruct.META_BITS, 0x42, 4_102_444_800_000L, 300, 200)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void anEntryRoundTripsAtEveryVersionWidth(String description, Item item) {
        for (long version : new long[] {1, 127, 128, 16_383, 16_384, KeyFormat.MAX_VERSION}) {
            byte[] record = encode(version, List.of(item));
            int header = ValueStruct.headerSize(item.meta(), item.userMeta(), item.expiresAt());
            int lengths = varintLength(item.key().length) + varintLength(item.value().length);
            int batchHeader = 1 + varintLength(version) + 1;
            assertEquals(8 + batchHeader + header + lengths + item.key().length + item.value().length, record.length,
                    description + " at version " + version);
            List<Item> decoded = new ArrayList<>();
            assertEquals(version, decode(record, decoded));
            assertItemsEqual(List.of(item), decoded);
        }
    }

    @Test
    void theHeaderOmitsExactlyTheFieldsThatAreNotSet() {
        assertEquals(1, ValueStruct.headerSize((byte) 0, (byte) 0, ValueStruct.NO_EXPIRY));
        assertEquals(1, ValueStruct.headerSize(ValueStruct.META_TOMBSTONE, (byte) 0, ValueStruct.NO_EXPIRY));
        assertEquals(2, ValueStruct.headerSize((byte) 0, (byte) 1, ValueStruct.NO_EXPIRY));
        assertEquals(9, ValueStruct.headerSize((byte) 0, (byte) 0, 1));
        assertEquals(10, ValueStruct.headerSize((byte) 0, (byte) 1, 1));
        assertThrows(IllegalArgumentException.class, () -> ValueStruct.headerSize((byte) 0x08, (byte) 0, 0),
                "a meta byte may not carry the bits that say which fields are omitted");
    }

    @Test
    void batchesOfManyEntriesWidenTheCountWithoutDisturbingTheEntries() {
        Random random = new Random(0x5EED_C0DEL);
        for (int count : new int[] {0, 1, 127, 128, 129, 16_383, 16_384, 20_000}) {
            List<Item> items = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                byte[] key = new byte[1 + random.nextInt(20)];
                random.nextBytes(key);
                byte[] value = new byte[random.nextInt(40)];
                random.nextBytes(value);
                items.add(new Item((byte) random.nextInt(8), (byte) (random.nextBoolean() ? 0 : random.nextInt(256)),
                        random.nextBoolean() ? 0 : random.nextLong(), key, value));
            }
            WalBatchEncoder encoder = new WalBatchEncoder();
            encoder.beginBatch(5);
            items.forEach(item -> encoder.addEntry(item.meta(), item.userMeta(), item.expiresAt(), item.key(), item.value()));
            encoder.endBatch();
            encoder.beginBatch(6); // a second record right after: the widened count must not have overwritten it
            encoder.addEntry((byte) 0, (byte) 0, 0, "after".getBytes(), "x".getBytes());
            encoder.endBatch();
            ByteBuffer records = encoder.records();
            int firstLength = records.getInt(4);
            ByteBuffer first = ByteBuffer.wrap(records.array(), records.position() + 8, firstLength).slice();
            List<Item> decoded = new ArrayList<>();
            assertEquals(5, WalBatchDecoder.decode(first, (v, m, u, e, k, x) -> decoded.add(new Item(m, u, e, k, x))));
            assertItemsEqual(items, decoded);
            assertEquals(count, WalBatchDecoder.claimedEntries(ByteBuffer.wrap(records.array(), records.position() + 8,
                    Math.min(firstLength, WalFormat.MAX_COMPACT_BATCH_HEADER_SIZE)).slice(), firstLength));
            ByteBuffer second = ByteBuffer.wrap(records.array(), records.position() + 8 + firstLength + 8,
                    records.getInt(8 + firstLength + 4)).slice();
            List<Item> after = new ArrayList<>();
            assertEquals(6, WalBatchDecoder.decode(second, (v, m, u, e, k, x) -> after.add(new Item(m, u, e, k, x))));
            assertArrayEquals("after".getBytes(), after.get(0).key());
        }
    }

    /** A compact batch payload: the tag, then the given bytes. */
    private static byte[] compact(int... bytes) {
        byte[] payload = new byte[1 + bytes.length];
        payload[0] = WalFormat.COMPACT_BATCH_TAG;
        for (int i = 0; i < bytes.length; i++) {
            payload[i + 1] = (byte) bytes[i];
        }
        return payload;
    }

    static Stream<Arguments> malformedPayloads() {
        return Stream.of(
                Arguments.of("the tag alone", compact()),
                Arguments.of("version varint cut short", compact(0x80)),
                Arguments.of("version varint of ten bytes (2^63 and above)",
                        compact(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0)),
                Arguments.of("count varint missing", compact(1)),
                Arguments.of("count varint cut short", compact(1, 0x80)),
                Arguments.of("count 1 with no entry", compact(1, 1)),
                Arguments.of("count larger than the payload can hold", compact(1, 2, 0x18, 0, 0)),
                Arguments.of("count Integer.MAX_VALUE", compact(1, 0xff, 0xff, 0xff, 0xff, 0x07, 0x18, 1, 0, 'k')),
                Arguments.of("negative count", compact(1, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x18, 1, 0, 'k')),
                Arguments.of("unknown flag bit 0x20", compact(1, 1, 0x38, 1, 0, 'k')),
                Arguments.of("unknown flag bit 0x80", compact(1, 1, 0x98, 1, 0, 'k')),
                Arguments.of("expiry announced but cut short", compact(1, 1, 0x08, 0, 0, 0, 0, 1, 0, 'k')),
                Arguments.of("user meta announced, lengths missing", compact(1, 1, 0x10, 5, 1)),
                Arguments.of("key length varint runs past the end", compact(1, 1, 0x18, 0x80, 0x80)),
                Arguments.of("key overruns the payload", compact(1, 1, 0x18, 5, 0, 'k')),
                Arguments.of("value overruns by one byte", compact(1, 1, 0x18, 1, 2, 'k', 'v')),
                Arguments.of("negative key length (five-byte varint)", compact(1, 1, 0x18, 0xff, 0xff, 0xff, 0xff, 0x0f, 0, 'k')),
                Arguments.of("key length Integer.MAX_VALUE", compact(1, 1, 0x18, 0xff, 0xff, 0xff, 0xff, 0x07, 0, 'k')),
                Arguments.of("trailing byte", compact(1, 1, 0x18, 1, 1, 'k', 'v', 0)),
                Arguments.of("second entry cut short", compact(1, 2, 0x18, 1, 1, 'k', 'v', 0x18, 1)));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedPayloads")
    void theDecoderRefusesCompactPayloadsThatDoNotParse(String description, byte[] payload) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WalBatchDecoder.decode(ByteBuffer.wrap(payload), (v, m, u, x, k, value) -> { }));
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty(), description);
    }

    @Test
    void theFirstByteTellsTheEncodingsApart() {
        ByteBuffer legacy = ByteBuffer.allocate(12 + 18 + 2).putLong(3).putInt(1)
                .put((byte) 0).put((byte) 5).putLong(0).putInt(1).putInt(1).put((byte) 'k').put((byte) 'v').flip();
        List<Item> decoded = new ArrayList<>();
        assertEquals(3, WalBatchDecoder.decode(legacy, (v, m, u, e, k, x) -> decoded.add(new Item(m, u, e, k, x))));
        assertItemsEqual(List.of(new Item((byte) 0, (byte) 5, 0, "k".getBytes(), "v".getBytes())), decoded);
        assertEquals(1, WalBatchDecoder.claimedEntries(legacy.rewind(), legacy.limit()));

        ByteBuffer mark = ByteBuffer.allocate(WalFormat.DURABLE_MARK_PAYLOAD_SIZE)
                .putLong(WalFormat.DURABLE_MARK_VERSION).putInt(0).putLong(2).putLong(53_771).flip();
        long[] seen = new long[2];
        assertEquals(WalFormat.DURABLE_MARK_VERSION, WalBatchDecoder.decode(mark, new WalBatchDecoder.Visitor() {
            @Override
            public void entry(long v, byte m, byte u, long e, byte[] k, byte[] x) {
                throw new AssertionError("a mark holds no entry");
            }

            @Override
            public void durableMark(long fileId, long durableLength) {
                seen[0] = fileId;
                seen[1] = durableLength;
            }
        }));
        assertArrayEquals(new long[] {2, 53_771}, seen);
        assertEquals(0, WalBatchDecoder.claimedEntries(mark.rewind(), mark.limit()));
    }

    private static Item item(int meta, int userMeta, long expiresAt, int keyLength, int valueLength) {
        byte[] key = new byte[keyLength];
        byte[] value = new byte[valueLength];
        Random random = new Random(keyLength * 31L + valueLength);
        random.nextBytes(key);
        random.nextBytes(value);
        return new Item((byte) meta, (byte) userMeta, expiresAt, key, value);
    }

    private static byte[] encode(long version, List<Item> items) {
        WalBatchEncoder encoder = new WalBatchEncoder();
        encoder.beginBatch(version);
        for (Item item : items) {
            encoder.addEntry(item.meta(), item.userMeta(), item.expiresAt(), item.key(), item.value());
        }
        encoder.endBatch();
        ByteBuffer records = encoder.records();
        return Arrays.copyOfRange(records.array(), records.position(), records.limit());
    }

    /** Decodes the payload of the one record in {@code record} into {@code into}; returns its version. */
    private static long decode(byte[] record, List<Item> into) {
        ByteBuffer payload = ByteBuffer.wrap(record, 8, record.length - 8).slice();
        return WalBatchDecoder.decode(payload, (v, m, u, e, k, x) -> into.add(new Item(m, u, e, k, x)));
    }

    private static int varintLength(long value) {
        int length = 1;
        while ((value >>>= 7) != 0) {
            length++;
        }
        return length;
    }

    private static void assertItemsEqual(List<Item> expected, List<Item> actual) {
        assertEquals(expected.size(), actual.size(), "entries");
        for (int i = 0; i < expected.size(); i++) {
            Item want = expected.get(i);
            Item got = actual.get(i);
            assertEquals(want.meta(), got.meta(), "meta of entry " + i);
            assertEquals(want.userMeta(), got.userMeta(), "user meta of entry " + i);
            assertEquals(want.expiresAt(), got.expiresAt(), "expiry of entry " + i);
            assertArrayEquals(want.key(), got.key(), "key of entry " + i);
            assertArrayEquals(want.value(), got.value(), "value of entry " + i);
        }
    }
}
