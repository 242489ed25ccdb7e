package io.trainkv.wal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.Bytes;
import io.trainkv.util.ValueStruct;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileSystem;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** WAL framing end to end: encoder, reader and decoder over NioStorage on jimfs, torn tails and corruption. */
class WalReaderTest {

    private static final String NAME = "000001.wal";

    private FileSystem fileSystem;
    private NioStorage storage;

    private record TestEntry(byte meta, byte userMeta, long expiresAt, byte[] key, byte[] value) {
    }

    private record TestBatch(long version, List<TestEntry> entries) {
    }

    /** An encoded log and the offset at which each of its records starts. */
    private record Log(byte[] bytes, long[] recordOffsets) {
        long end() {
            return bytes.length;
        }
    }

    /** What a reader delivered before it stopped, cleanly or not. */
    private static final class ReadResult {
        final List<TestBatch> batches = new ArrayList<>();
        final List<Long> offsets = new ArrayList<>();
        long tornTailOffset;
        String tornTailReason;
        boolean tornTailIsZeros;
        long validEnd;
    }

    @BeforeEach
    void openStorage() throws IOException {
        fileSystem = Jimfs.newFileSystem(Configuration.unix());
        storage = NioStorage.open(fileSystem.getPath("/db"));
    }

    @AfterEach
    void closeFileSystem() throws IOException {
        fileSystem.close();
    }

    @Test
    void aRecordIsLaidOutAsDocumented() {
        WalBatchEncoder encoder = new WalBatchEncoder();
        encoder.beginBatch(300);
        encoder.addEntry((byte) 1, (byte) 0x7f, 0x1122334455667788L, Bytes.utf8("k"), Bytes.utf8("vv"));
        encoder.addEntry((byte) 0, (byte) 0, 0, Bytes.utf8("k2"), Bytes.utf8("v"));
        encoder.endBatch();
        byte[] record = toArray(encoder.records());

        ByteBuffer expected = ByteBuffer.allocate(8 + 25);
        expected.putInt(0).putInt(25);
        expected.put((byte) 0x82).put((byte) 0xac).put((byte) 0x02).put((byte) 2); // tag, varint 300, count 2
        expected.put((byte) 0x01).put((byte) 0x7f).putLong(0x1122334455667788L).put((byte) 1).put((byte) 2);
        expected.put((byte) 'k').put((byte) 'v').put((byte) 'v');
        expected.put((byte) 0x18).put((byte) 2).put((byte) 1); // no user meta, no expiry: the flags alone
        expected.put((byte) 'k').put((byte) '2').put((byte) 'v');
        CRC32C crc = new CRC32C();
        crc.update(expected.array(), 4, 4 + 25);
        expected.putInt(0, (int) crc.getValue());
        assertArrayEquals(expected.array(), record);
    }

    @Test
    void aLegacyRecordAsBuildsBeforeTheCompactEncodingWroteItStillDecodes() throws IOException {
        ByteBuffer legacy = ByteBuffer.allocate(8 + 33);
        legacy.putInt(0).putInt(33);
        legacy.putLong(0x0102030405060708L).putInt(1);
        legacy.put((byte) 1).put((byte) 0x7f).putLong(0x1122334455667788L).putInt(1).putInt(2);
        legacy.put((byte) 'k').put((byte) 'v').put((byte) 'v');
        CRC32C crc = new CRC32C();
        crc.update(legacy.array(), 4, 4 + 33);
        legacy.putInt(0, (int) crc.getValue());
        Log compact = encodeLog(List.of(new TestBatch(9, List.of(
                new TestEntry((byte) 0, (byte) 0, 0, Bytes.utf8("new"), Bytes.utf8("x"))))));
        write(concat(legacy.array(), compact.bytes()));

        ReadResult result = read(false);
        assertEquals(List.of(0L, 41L), result.offsets);
        assertBatchesEqual(List.of(
                new TestBatch(0x0102030405060708L, List.of(
                        new TestEntry((byte) 1, (byte) 0x7f, 0x1122334455667788L, Bytes.utf8("k"), Bytes.utf8("vv")))),
                new TestBatch(9, List.of(new TestEntry((byte) 0, (byte) 0, 0, Bytes.utf8("new"), Bytes.utf8("x"))))),
                result.batches);
    }

    @Test
    void severalBatchesRoundTripThroughWriterReaderAndDecoder() throws IOException {
        Random random = new Random(0x5EED_3001L);
        List<TestBatch> batches = new ArrayList<>(randomBatches(random, 3, 1));
        byte[] bigValue = new byte[100_000];
        random.nextBytes(bigValue);
        batches.add(new TestBatch(40, List.of(
                new TestEntry((byte) 0, (byte) 0xff, Long.MAX_VALUE, new byte[0], new byte[0]),
                new TestEntry(ValueStruct.META_TOMBSTONE, (byte) 0, 1_700_000_000_000L, Bytes.utf8("gone"), new byte[0]),
                new TestEntry((byte) 0, (byte) 0x80, ValueStruct.NO_EXPIRY, new byte[] {0, (byte) 0xff}, bigValue))));
        batches.add(new TestBatch(41, List.of()));
        batches.addAll(randomBatches(random, 4, 42));

        WalBatchEncoder encoder = new WalBatchEncoder();
        long[] offsets = new long[batches.size()];
        long written = 0;
        try (WalWriter writer = new WalWriter(storage.create(NAME), 1, NAME)) {
            assertEquals(1, writer.number());
            assertEquals(NAME, writer.name());
            int next = 0;
            for (int group : new int[] {3, 2, 4}) {
                encoder.reset();
                long groupStart = written;
                for (int i = next; i < next + group; i++) {
                    offsets[i] = groupStart + encoder.records().remaining();
                    encode(encoder, batches.get(i));
                }
                int length = encoder.records().remaining();
                written += length;
                assertEquals(length, encoder.appendTo(writer), "appends every encoded record");
                writer.sync();
                next += group;
            }
            assertEquals(written, writer.size());
        }
        assertEquals(written, storage.size(NAME));

        ReadResult result = read(true);
        assertBatchesEqual(batches, result.batches);
        assertEquals(asList(offsets), result.offsets);
        assertEquals(-1, result.tornTailOffset);
        assertNull(result.tornTailReason);
        assertEquals(written, result.validEnd);
        assertEquals(asList(offsets), read(false).offsets);
    }

    @Test
    void encodingBatchByBatchAndAsOneGroupGivesTheSameBytes() {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_3002L), 5, 1);
        Log grouped = encodeLog(batches);
        WalBatchEncoder encoder = new WalBatchEncoder();
        ByteArrayOutputStream separately = new ByteArrayOutputStream();
        for (TestBatch batch : batches) {
            encoder.reset();
            encode(encoder, batch);
            separately.writeBytes(toArray(encoder.records()));
        }
        assertArrayEquals(grouped.bytes(), separately.toByteArray());
    }

    @Test
    void theEncoderRefusesUnfinishedBatches() {
        WalBatchEncoder encoder = new WalBatchEncoder();
        encoder.beginBatch(1);
        assertThrows(IllegalStateException.class, () -> encoder.beginBatch(2));
        assertThrows(IllegalStateException.class, encoder::records);
        encoder.endBatch();
        assertEquals(WalFormat.HEADER_SIZE + 3, encoder.records().remaining(), "tag, one-byte version and count varints");
    }

    @Test
    void anEmptyFileIsAnEmptyLog() throws IOException {
        write(new byte[0]);
        for (boolean tolerate : new boolean[] {true, false}) {
            ReadResult result = read(tolerate);
            assertTrue(result.batches.isEmpty());
            assertEquals(-1, result.tornTailOffset);
            assertEquals(0, result.validEnd);
        }
    }

    @Test
    void aLogTruncatedAnywhereInsideItsLastRecordReadsAsTheGoodPrefix() throws IOException {
        List<TestBatch> batches = new ArrayList<>(randomBatches(new Random(0x5EED_3003L), 3, 1));
        batches.add(new TestBatch(4, List.of(
                new TestEntry((byte) 0, (byte) 1, 99L, Bytes.utf8("last-key-one"), Bytes.utf8("a value of some length")),
                new TestEntry(ValueStruct.META_TOMBSTONE, (byte) 2, 0L, Bytes.utf8("last-key-two"), new byte[0]),
                new TestEntry((byte) 0, (byte) 3, 0L, new byte[0], Bytes.utf8("value under the empty key")))));
        Log log = encodeLog(batches);
        long lastStart = log.recordOffsets()[batches.size() - 1];
        List<TestBatch> prefix = batches.subList(0, batches.size() - 1);
        assertTrue(log.end() - lastStart > 60, "the last record should be long enough to cut in many places");

        write(Arrays.copyOf(log.bytes(), (int) lastStart));
        ReadResult clean = read(false);
        assertBatchesEqual(prefix, clean.batches);
        assertEquals(-1, clean.tornTailOffset, "a cut exactly at a record boundary is a clean end");

        for (long cut = lastStart + 1; cut < log.end(); cut++) {
            write(Arrays.copyOf(log.bytes(), (int) cut));
            ReadResult result = read(true);
            long at = cut;
            assertBatchesEqual(prefix, result.batches);
            assertEquals(lastStart, result.tornTailOffset, () -> "torn tail offset for a log cut at " + at);
            assertEquals(lastStart, result.validEnd);
            assertNotNull(result.tornTailReason);
            expectCorruption(false, lastStart, prefix);
        }
    }

    @Test
    void zerosAfterTheLastRecordAreATornTail() throws IOException {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_3004L), 3, 1);
        Log log = encodeLog(batches);
        write(concat(log.bytes(), new byte[4096]));
        ReadResult result = read(true);
        assertBatchesEqual(batches, result.batches);
        assertEquals(log.end(), result.tornTailOffset);
        assertEquals(log.end(), result.validEnd);
        assertTrue(result.tornTailIsZeros, "zeros after the last record are preallocated space, no record");
        expectCorruption(false, log.end(), batches);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 8, 4096})
    void aFileOfOnlyZerosIsAnEmptyLogWithATornTail(int zeros) throws IOException {
        write(new byte[zeros]);
        ReadResult result = read(true);
        assertTrue(result.batches.isEmpty());
        assertEquals(0, result.tornTailOffset);
        assertEquals(0, result.validEnd);
        assertTrue(result.tornTailIsZeros);
        expectCorruption(false, 0, List.of());
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 7, 8, 9, 100, 4096, 65_536})
    void randomGarbageAfterTheLastRecordIsATornTail(int length) throws IOException {
        Random random = new Random(0x5EED_3005L + length);
        List<TestBatch> batches = randomBatches(random, 3, 1);
        Log log = encodeLog(batches);
        byte[] garbage = new byte[length];
        random.nextBytes(garbage);
        write(concat(log.bytes(), garbage));
        ReadResult result = read(true);
        assertBatchesEqual(batches, result.batches);
        assertEquals(log.end(), result.tornTailOffset);
        assertFalse(result.tornTailIsZeros);
        expectCorruption(false, log.end(), batches);
    }

    @Test
    void aZeroTailLongerThanTheScanWindowIsStillATornTail() throws IOException {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_300AL), 2, 1);
        Log log = encodeLog(batches);
        write(concat(log.bytes(), new byte[3 * 1024 * 1024 + 5]));
        ReadResult result = read(true);
        assertBatchesEqual(batches, result.batches);
        assertEquals(log.end(), result.tornTailOffset);
        assertTrue(result.tornTailIsZeros);
    }

    @Test
    void aValidRecordBeyondTheFirstScanWindowMakesADamagedRecordCorruption() throws IOException {
        List<TestBatch> first = randomBatches(new Random(0x5EED_300BL), 2, 1);
        List<TestBatch> later = randomBatches(new Random(0x5EED_300CL), 1, 10);
        Log head = encodeLog(first);
        byte[] damaged = head.bytes().clone();
        long secondRecord = head.recordOffsets()[1];
        damaged[(int) secondRecord + WalFormat.HEADER_SIZE] ^= 0x10;
        byte[] zeros = new byte[2 * 1024 * 1024 + 3];
        write(concat(concat(damaged, zeros), encodeLog(later).bytes()));
        expectCorruption(true, secondRecord, first.subList(0, 1));
    }

    @Test
    void aHalfWrittenRecordFollowedByZerosIsATornTail() throws IOException {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_3006L), 4, 1);
        Log log = encodeLog(batches);
        long lastStart = log.recordOffsets()[3];
        int half = (int) (lastStart + (log.end() - lastStart) / 2);
        write(concat(Arrays.copyOf(log.bytes(), half), new byte[4096]));
        ReadResult result = read(true);
        assertBatchesEqual(batches.subList(0, 3), result.batches);
        assertEquals(lastStart, result.tornTailOffset);
        assertFalse(result.tornTailIsZeros, "a record cut short is a torn write, whatever follows it");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 2})
    void aDamagedRecordFollowedByValidRecordsIsCorruptionEvenWhenToleratingTornTails(int damaged) throws IOException {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_3007L + damaged), 5, 1);
        Log log = encodeLog(batches);
        long start = log.recordOffsets()[damaged];
        long end = log.recordOffsets()[damaged + 1];
        List<TestBatch> before = batches.subList(0, damaged);
        for (long at = start; at < end; at++) {
            for (int mask : new int[] {0x01, 0xff}) {
                byte[] bytes = log.bytes().clone();
                bytes[(int) at] ^= (byte) mask;
                write(bytes);
                expectCorruption(true, start, before);
                expectCorruption(false, start, before);
            }
        }
    }

    @Test
    void aDamagedLastRecordIsATornTailOnlyWhenTolerated() throws IOException {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_3008L), 3, 1);
        Log log = encodeLog(batches);
        long lastStart = log.recordOffsets()[2];
        byte[] bytes = log.bytes().clone();
        bytes[(int) log.end() - 1] ^= 0x40;
        write(bytes);
        ReadResult result = read(true);
        assertBatchesEqual(batches.subList(0, 2), result.batches);
        assertEquals(lastStart, result.tornTailOffset);
        expectCorruption(false, lastStart, batches.subList(0, 2));
    }

    @ParameterizedTest
    @ValueSource(ints = {0x7fffffff, 0x80000000, 0xffffffff, -4096, WalFormat.MAX_PAYLOAD_LENGTH,
            WalFormat.MAX_PAYLOAD_LENGTH + 1, 0, 1_000})
    void anImplausibleLengthAtTheEndIsATornTailAndAllocatesNothing(int length) throws IOException {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_3009L), 2, 1);
        Log log = encodeLog(batches);
        byte[] tail = new byte[WalFormat.HEADER_SIZE + 100];
        new Random(0x5EED_3010L).nextBytes(tail);
        ByteBuffer.wrap(tail).putInt(4, length);
        write(concat(log.bytes(), tail));
        ReadResult result = read(true);
        assertBatchesEqual(batches, result.batches);
        assertEquals(log.end(), result.tornTailOffset);
        expectCorruption(false, log.end(), batches);
    }

    @ParameterizedTest
    @ValueSource(ints = {0x7fffffff, 0x80000000, 0xffffffff, WalFormat.MAX_PAYLOAD_LENGTH + 1, 0})
    void anImplausibleLengthFollowedByValidRecordsIsCorruption(int length) throws IOException {
        List<TestBatch> batches = randomBatches(new Random(0x5EED_3011L), 3, 1);
        Log log = encodeLog(batches);
        long second = log.recordOffsets()[1];
        byte[] bytes = log.bytes().clone();
        ByteBuffer.wrap(bytes).putInt((int) second + 4, length);
        write(bytes);
        expectCorruption(true, second, batches.subList(0, 1));
        expectCorruption(false, second, batches.subList(0, 1));
    }

    @Test
    void anImplausibleLengthAtTheStartOfAFileAllocatesNothing() throws IOException {
        byte[] header = ByteBuffer.allocate(WalFormat.HEADER_SIZE).putInt(0x12345678).putInt(0x7fffffff).array();
        write(header);
        ReadResult result = read(true);
        assertTrue(result.batches.isEmpty());
        assertEquals(0, result.tornTailOffset);
        expectCorruption(false, 0, List.of());
    }

    @Test
    void aChecksummedRecordWithAMalformedPayloadIsRejectedByTheDecoder() throws IOException {
        byte[] payload = ByteBuffer.allocate(WalFormat.LEGACY_BATCH_HEADER_SIZE).putLong(5).putInt(3).array();
        ByteBuffer record = ByteBuffer.allocate(WalFormat.HEADER_SIZE + payload.length);
        record.putInt(0).putInt(payload.length).put(payload);
        CRC32C crc = new CRC32C();
        crc.update(record.array(), 4, 4 + payload.length);
        record.putInt(0, (int) crc.getValue());
        write(record.array());
        try (ReadableFile file = storage.openRead(NAME)) {
            WalReader reader = new WalReader(file, NAME, false);
            ByteBuffer read = reader.next();
            assertNotNull(read);
            assertEquals(0, reader.recordOffset());
            assertThrows(IllegalArgumentException.class, () -> WalBatchDecoder.decode(read, (v, m, u, e, k, x) -> { }));
        }
    }

    static Stream<Arguments> malformedPayloads() {
        byte[] key40 = new byte[40];
        return Stream.of(
                Arguments.of("empty payload", new byte[0]),
                Arguments.of("batch header cut short", new byte[WalFormat.LEGACY_BATCH_HEADER_SIZE - 1]),
                Arguments.of("negative count", payload(-1).array()),
                Arguments.of("count Integer.MAX_VALUE", payload(Integer.MAX_VALUE).array()),
                Arguments.of("count Integer.MIN_VALUE", payload(Integer.MIN_VALUE).array()),
                Arguments.of("count 2 with one entry", entry(payload(2), 0, key40, new byte[0]).array()),
                Arguments.of("count 1 with no entry", payload(1).array()),
                Arguments.of("second entry header cut short",
                        cut(entry(entry(payload(2), 0, key40, new byte[0]), 0, new byte[1], new byte[1]), 4)),
                Arguments.of("negative key length", rawEntry(payload(1), -1, 0, 30).array()),
                Arguments.of("negative value length", rawEntry(payload(1), 0, -1, 30).array()),
                Arguments.of("key length Integer.MAX_VALUE", rawEntry(payload(1), Integer.MAX_VALUE, 0, 30).array()),
                Arguments.of("both lengths Integer.MAX_VALUE",
                        rawEntry(payload(1), Integer.MAX_VALUE, Integer.MAX_VALUE, 30).array()),
                Arguments.of("value overruns by one byte", cut(entry(payload(1), 0, Bytes.utf8("key"), new byte[10]), 1)),
                Arguments.of("key overruns the payload", rawEntry(payload(1), 31, 0, 30).array()),
                Arguments.of("meta byte with a bit outside the meta bits", entry(payload(1), 0x08, key40, new byte[0]).array()),
                Arguments.of("trailing byte", concat(entry(payload(1), 0, Bytes.utf8("k"), Bytes.utf8("v")).array(),
                        new byte[1])));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedPayloads")
    void theDecoderRejectsPayloadsThatOverrunTheirLength(String description, byte[] payload) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> WalBatchDecoder.decode(ByteBuffer.wrap(payload), (v, m, u, x, k, value) -> { }));
        assertNotNull(e.getMessage());
    }

    @Test
    void theDecoderHandsOverEntriesInOrderAndHonoursTheBufferPosition() {
        ByteBuffer encoded = entry(entry(payload(2), 3, Bytes.utf8("a"), Bytes.utf8("1")), 4, Bytes.utf8("b"), Bytes.utf8("22"));
        byte[] body = encoded.array();
        byte[] host = new byte[body.length + 5];
        Arrays.fill(host, (byte) 0xee);
        System.arraycopy(body, 0, host, 5, body.length);
        ByteBuffer buffer = ByteBuffer.wrap(host);
        buffer.position(5);
        List<TestEntry> seen = new ArrayList<>();
        long version = WalBatchDecoder.decode(buffer, (v, meta, userMeta, expiresAt, key, value) -> {
            assertEquals(77, v);
            seen.add(new TestEntry(meta, userMeta, expiresAt, key, value));
        });
        assertEquals(77, version);
        assertEquals(0, buffer.remaining());
        assertEquals(2, seen.size());
        assertEquals(3, seen.get(0).meta());
        assertArrayEquals(Bytes.utf8("a"), seen.get(0).key());
        assertArrayEquals(Bytes.utf8("1"), seen.get(0).value());
        assertEquals(4, seen.get(1).meta());
        assertArrayEquals(Bytes.utf8("b"), seen.get(1).key());
        assertArrayEquals(Bytes.utf8("22"), seen.get(1).value());
    }

    /** A legacy payload header with version 77 and the given count, with room for entries appended later. */
    private static ByteBuffer payload(int count) {
        ByteBuffer buffer = ByteBuffer.allocate(WalFormat.LEGACY_BATCH_HEADER_SIZE);
        buffer.putLong(77).putInt(count);
        return buffer;
    }

    /** Appends a legacy entry (user meta 9, expiry 123). */
    private static ByteBuffer entry(ByteBuffer payload, int meta, byte[] key, byte[] value) {
        ByteBuffer grown = ByteBuffer.allocate(payload.position() + WalFormat.LEGACY_ENTRY_HEADER_SIZE + key.length + value.length);
        grown.put(payload.array(), 0, payload.position());
        grown.put((byte) meta).put((byte) 9).putLong(123).putInt(key.length).putInt(value.length).put(key).put(value);
        return grown;
    }

    /** A legacy entry header claiming the given lengths, followed by {@code bodyBytes} bytes. */
    private static ByteBuffer rawEntry(ByteBuffer payload, int keyLength, int valueLength, int bodyBytes) {
        ByteBuffer grown = ByteBuffer.allocate(payload.position() + WalFormat.LEGACY_ENTRY_HEADER_SIZE + bodyBytes);
        grown.put(payload.array(), 0, payload.position());
        grown.put((byte) 0).put((byte) 0).putLong(0).putInt(keyLength).putInt(valueLength);
        return grown;
    }

    private static byte[] cut(ByteBuffer buffer, int bytes) {
        return Arrays.copyOf(buffer.array(), buffer.capacity() - bytes);
    }

    private void expectCorruption(boolean tolerate, long offset, List<TestBatch> deliveredFirst) throws IOException {
        ReadResult partial = new ReadResult();
        WalCorruptionException e = assertThrows(WalCorruptionException.class, () -> readInto(partial, tolerate),
                () -> "expected corruption at offset " + offset + " (tolerate torn tail: " + tolerate + ")");
        assertEquals(NAME, e.fileName());
        assertEquals(offset, e.offset(), () -> "offset reported by: " + e.getMessage());
        assertTrue(e.getMessage().contains(NAME), e.getMessage());
        assertTrue(e.getMessage().contains("offset " + offset), e.getMessage());
        assertBatchesEqual(deliveredFirst, partial.batches);
    }

    private ReadResult read(boolean tolerate) throws IOException {
        ReadResult result = new ReadResult();
        readInto(result, tolerate);
        return result;
    }

    private void readInto(ReadResult result, boolean tolerate) throws IOException {
        try (ReadableFile file = storage.openRead(NAME)) {
            WalReader reader = new WalReader(file, NAME, tolerate);
            assertEquals(file.size(), reader.fileSize());
            ByteBuffer payload;
            while ((payload = reader.next()) != null) {
                result.offsets.add(reader.recordOffset());
                result.batches.add(decode(payload));
            }
            assertNull(reader.next(), "the end of a log stays the end");
            result.tornTailOffset = reader.tornTailOffset();
            result.tornTailReason = reader.tornTailReason();
            result.tornTailIsZeros = reader.tornTailIsZeros();
            result.validEnd = reader.validEnd();
        }
    }

    private static TestBatch decode(ByteBuffer payload) {
        List<TestEntry> entries = new ArrayList<>();
        long[] versions = new long[1];
        long version = WalBatchDecoder.decode(payload, (v, meta, userMeta, expiresAt, key, value) -> {
            versions[0] = v;
            entries.add(new TestEntry(meta, userMeta, expiresAt, key, value));
        });
        if (!entries.isEmpty()) {
            assertEquals(version, versions[0], "every entry carries the batch version");
        }
        return new TestBatch(version, entries);
    }

    private void write(byte[] bytes) throws IOException {
        storage.delete(NAME);
        try (WritableFile file = storage.create(NAME)) {
            file.append(ByteBuffer.wrap(bytes));
            file.sync();
        }
    }

    private static Log encodeLog(List<TestBatch> batches) {
        WalBatchEncoder encoder = new WalBatchEncoder();
        long[] offsets = new long[batches.size()];
        for (int i = 0; i < batches.size(); i++) {
            offsets[i] = encoder.records().remaining();
            encode(encoder, batches.get(i));
        }
        return new Log(toArray(encoder.records()), offsets);
    }

    private static void encode(WalBatchEncoder encoder, TestBatch batch) {
        encoder.beginBatch(batch.version());
        for (TestEntry entry : batch.entries()) {
            encoder.addEntry(entry.meta(), entry.userMeta(), entry.expiresAt(), entry.key(), entry.value());
        }
        encoder.endBatch();
    }

    private static List<TestBatch> randomBatches(Random random, int count, long firstVersion) {
        List<TestBatch> batches = new ArrayList<>();
        for (int b = 0; b < count; b++) {
            List<TestEntry> entries = new ArrayList<>();
            int entryCount = 1 + random.nextInt(4);
            for (int e = 0; e < entryCount; e++) {
                byte[] key = new byte[1 + random.nextInt(16)];
                random.nextBytes(key);
                boolean tombstone = random.nextInt(5) == 0;
                byte[] value = new byte[tombstone ? 0 : random.nextInt(60)];
                random.nextBytes(value);
                long expiresAt = random.nextBoolean() ? ValueStruct.NO_EXPIRY : random.nextLong();
                entries.add(new TestEntry(tombstone ? ValueStruct.META_TOMBSTONE : 0, (byte) random.nextInt(256),
                        expiresAt, key, value));
            }
            batches.add(new TestBatch(firstVersion + b, entries));
        }
        return batches;
    }

    private static void assertBatchesEqual(List<TestBatch> expected, List<TestBatch> actual) {
        assertEquals(expected.size(), actual.size(), "number of batches");
        for (int b = 0; b < expected.size(); b++) {
            TestBatch want = expected.get(b);
            TestBatch got = actual.get(b);
            assertEquals(want.version(), got.version(), "version of batch " + b);
            assertEquals(want.entries().size(), got.entries().size(), "entries in batch " + b);
            for (int e = 0; e < want.entries().size(); e++) {
                TestEntry w = want.entries().get(e);
                TestEntry g = got.entries().get(e);
                String where = "batch " + b + " entry " + e;
                assertEquals(w.meta(), g.meta(), "meta of " + where);
                assertEquals(w.userMeta(), g.userMeta(), "userMeta of " + where);
                assertEquals(w.expiresAt(), g.expiresAt(), "expiresAt of " + where);
                assertArrayEquals(w.key(), g.key(), "key of " + where);
                assertArrayEquals(w.value(), g.value(), "value of " + where);
            }
        }
    }

    private static List<Long> asList(long[] values) {
        List<Long> list = new ArrayList<>();
        for (long value : values) {
            list.add(value);
        }
        return list;
    }

    private static byte[] toArray(ByteBuffer buffer) {
        byte[] bytes = new byte[buffer.remaining()];
        buffer.duplicate().get(bytes);
        return bytes;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
