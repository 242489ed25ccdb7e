package io.trainkv.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Internal key encoding and order (KeyFormat), and the unsigned compare and escaping of Bytes. */
class KeyFormatTest {

    /** Reference order: user key ascending as unsigned bytes, then version descending. */
    private static final Comparator<Pair> REFERENCE = (p, q) -> {
        int c = Arrays.compareUnsigned(p.userKey, q.userKey);
        return c != 0 ? c : Long.compare(q.version, p.version);
    };

    private record Pair(byte[] userKey, long version) {
        byte[] encoded() {
            return KeyFormat.encode(userKey, version);
        }
    }

    private static byte[] bytes(int... values) {
        byte[] out = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = (byte) values[i];
        }
        return out;
    }

    private static int compare(byte[] userKeyA, long versionA, byte[] userKeyB, long versionB) {
        return KeyFormat.compare(KeyFormat.encode(userKeyA, versionA), KeyFormat.encode(userKeyB, versionB));
    }

    @Test
    void constantsLeaveRoomForAReadEverythingVersion() {
        assertEquals(8, KeyFormat.VERSION_SIZE);
        assertEquals(1, KeyFormat.MIN_VERSION);
        assertEquals(Long.MAX_VALUE - 1, KeyFormat.MAX_VERSION);
        assertTrue(compare(Bytes.utf8("k"), Long.MAX_VALUE, Bytes.utf8("k"), KeyFormat.MAX_VERSION) < 0,
                "a seek at Long.MAX_VALUE lands before every stored version");
    }

    @Test
    void encodeAppendsTheVersionBigEndian() {
        byte[] encoded = KeyFormat.encode(Bytes.utf8("ab"), 0x0102030405060708L);
        assertArrayEquals(bytes('a', 'b', 1, 2, 3, 4, 5, 6, 7, 8), encoded);
        assertArrayEquals(bytes(0, 0, 0, 0, 0, 0, 0, 1), KeyFormat.encode(new byte[0], 1));
        assertArrayEquals(bytes(0xff, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe),
                KeyFormat.encode(bytes(0xff), KeyFormat.MAX_VERSION));
    }

    @Test
    void encodeCopiesTheUserKey() {
        byte[] userKey = Bytes.utf8("key");
        byte[] encoded = KeyFormat.encode(userKey, 9);
        userKey[0] = 'X';
        assertArrayEquals(Bytes.utf8("key"), KeyFormat.userKey(encoded));
    }

    static Stream<Arguments> roundTripCases() {
        List<byte[]> keys = List.of(new byte[0], Bytes.utf8("a"), bytes(0x00), bytes(0xff, 0x00, 0x80),
                Bytes.utf8("a longer user key with spaces"), new byte[300]);
        long[] versions = {0, 1, 255, 256, 0x0102030405060708L, 1L << 56, KeyFormat.MAX_VERSION, Long.MAX_VALUE};
        List<Arguments> cases = new ArrayList<>();
        for (byte[] key : keys) {
            for (long version : versions) {
                cases.add(Arguments.of(key, version));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest
    @MethodSource("roundTripCases")
    void encodeVersionAndUserKeyRoundTrip(byte[] userKey, long version) {
        byte[] encoded = KeyFormat.encode(userKey, version);
        assertEquals(userKey.length + KeyFormat.VERSION_SIZE, encoded.length);
        assertEquals(version, KeyFormat.version(encoded));
        assertArrayEquals(userKey, KeyFormat.userKey(encoded));
        assertEquals(version, KeyFormat.getVersion(encoded, userKey.length));
        assertEquals(0, KeyFormat.compare(encoded, KeyFormat.encode(userKey, version)));
    }

    @Test
    void putVersionWritesOnlyItsEightBytes() {
        byte[] buffer = new byte[20];
        Arrays.fill(buffer, (byte) 0x55);
        KeyFormat.putVersion(buffer, 5, 0xA1B2C3D4E5F60718L);
        assertArrayEquals(bytes(0x55, 0x55, 0x55, 0x55, 0x55, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18,
                0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55), buffer);
        assertEquals(0xA1B2C3D4E5F60718L, KeyFormat.getVersion(buffer, 5));
    }

    @Test
    void userKeysCompareAsUnsignedBytes() {
        assertTrue(compare(bytes(0x01), 1, bytes(0xff), 1) < 0);
        assertTrue(compare(bytes(0xff), 1, bytes(0x01), 1) > 0);
        assertTrue(compare(bytes(0x7f), 1, bytes(0x80), 1) < 0);
        assertTrue(compare(bytes(0x00), 1, bytes(0x00, 0x00), 1) < 0);
        assertTrue(compare(bytes('a', 0xff), 1, bytes('b'), 1) < 0);
    }

    @Test
    void userKeyDecidesBeforeVersion() {
        assertTrue(compare(Bytes.utf8("a"), 1, Bytes.utf8("b"), KeyFormat.MAX_VERSION) < 0);
        assertTrue(compare(Bytes.utf8("a"), KeyFormat.MAX_VERSION, Bytes.utf8("b"), 1) < 0);
    }

    @Test
    void versionsOfOneUserKeySortNewestFirst() {
        byte[] key = Bytes.utf8("k");
        assertTrue(compare(key, 5, key, 4) < 0);
        assertTrue(compare(key, 4, key, 5) > 0);
        assertEquals(0, compare(key, 5, key, 5));
        assertTrue(compare(key, KeyFormat.MAX_VERSION, key, KeyFormat.MIN_VERSION) < 0);
        assertTrue(compare(key, 0x0100000000000000L, key, 0x00ffffffffffffffL) < 0);
        assertTrue(compare(key, 256, key, 255) < 0);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 0x62L, 0x6200000000000000L, 0x7f00000000000000L, 0x7fffffffffffff00L,
            KeyFormat.MAX_VERSION, Long.MAX_VALUE})
    void aPrefixUserKeySortsFirstWhateverTheVersionBytes(long version) {
        byte[] shorter = Bytes.utf8("a");
        byte[] longer = Bytes.utf8("ab");
        for (long otherVersion : new long[] {0, 1, 0x62L, KeyFormat.MAX_VERSION}) {
            assertTrue(compare(shorter, version, longer, otherVersion) < 0,
                    "a@" + version + " must sort before ab@" + otherVersion);
            assertTrue(compare(longer, otherVersion, shorter, version) > 0,
                    "ab@" + otherVersion + " must sort after a@" + version);
        }
        assertTrue(compare(new byte[0], version, bytes(0x00), 1) < 0, "empty key sorts before every other key");
    }

    @Test
    void wholeKeyBytewiseOrderWouldBeWrongButKeyFormatIsNot() {
        byte[] a = KeyFormat.encode(Bytes.utf8("a"), 0x7f00000000000000L);
        byte[] ab = KeyFormat.encode(Bytes.utf8("ab"), 1);
        assertTrue(Arrays.compareUnsigned(a, ab) > 0, "precondition: naive bytewise order puts a@v after ab@1");
        assertTrue(KeyFormat.compare(a, ab) < 0);
    }

    @Test
    void compareOverArrayRangesMatchesCompareOverWholeArrays() {
        Random random = new Random(0x5EED_0001L);
        for (int i = 0; i < 5_000; i++) {
            Pair p = randomPair(random);
            Pair q = randomPair(random);
            byte[] pk = p.encoded();
            byte[] qk = q.encoded();
            int pOffset = random.nextInt(5);
            int qOffset = random.nextInt(5);
            byte[] pHost = embed(pk, pOffset, random);
            byte[] qHost = embed(qk, qOffset, random);
            int expected = Integer.signum(KeyFormat.compare(pk, qk));
            assertEquals(expected, Integer.signum(KeyFormat.compare(pHost, pOffset, pk.length, qHost, qOffset, qk.length)),
                    () -> describe(p) + " vs " + describe(q));
            assertEquals(Integer.signum(REFERENCE.compare(p, q)), expected, () -> describe(p) + " vs " + describe(q));
        }
    }

    @Test
    void compareRangeIgnoresBytesOutsideTheRange() {
        byte[] host = bytes(0x00, 'k', 0, 0, 0, 0, 0, 0, 0, 7, 0xff, 'k', 0, 0, 0, 0, 0, 0, 0, 7, 0x01);
        assertEquals(0, KeyFormat.compare(host, 1, 9, host, 11, 9));
        assertTrue(KeyFormat.compare(host, 0, 10, host, 10, 10) < 0, "0x00 'k' ... sorts before 0xff 'k' ...");
    }

    @Test
    void sortingRandomKeysMatchesTheReferenceOrder() {
        Random random = new Random(0x5EED_0002L);
        List<Pair> pairs = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            pairs.add(randomPair(random));
        }
        List<byte[]> encoded = new ArrayList<>();
        for (Pair pair : pairs) {
            encoded.add(pair.encoded());
        }
        encoded.sort(KeyFormat::compare);
        List<Pair> expected = new ArrayList<>(pairs);
        expected.sort(REFERENCE);
        for (int i = 0; i < expected.size(); i++) {
            Pair want = expected.get(i);
            byte[] got = encoded.get(i);
            int index = i;
            assertArrayEquals(want.userKey, KeyFormat.userKey(got), () -> "user key at position " + index);
            assertEquals(want.version, KeyFormat.version(got), () -> "version at position " + index);
        }
        for (int i = 1; i < encoded.size(); i++) {
            assertTrue(KeyFormat.compare(encoded.get(i - 1), encoded.get(i)) <= 0);
        }
    }

    @Test
    void bytesCompareIsUnsigned() {
        assertTrue(Bytes.compare(bytes(0x01), bytes(0xff)) < 0);
        assertTrue(Bytes.compare(bytes(0x80), bytes(0x7f)) > 0);
        assertTrue(Bytes.compare(new byte[0], bytes(0x00)) < 0);
        assertEquals(0, Bytes.compare(bytes(1, 2, 3), bytes(1, 2, 3)));
    }

    @Test
    void utf8EncodesAsUtf8() {
        assertArrayEquals(bytes('h', 'i', 0xc3, 0xa9, 0xe2, 0x82, 0xac), Bytes.utf8("hi\u00e9\u20ac"));
    }

    @Test
    void escapeKeepsPrintableAsciiAndEscapesTheRest() {
        assertEquals("", Bytes.escape(new byte[0]));
        assertEquals("user:42 ~{}!", Bytes.escape(Bytes.utf8("user:42 ~{}!")));
        assertEquals("\\x00\\x01\\x09\\x0a\\x1f\\x7f\\x80\\xab\\xff",
                Bytes.escape(bytes(0x00, 0x01, 0x09, 0x0a, 0x1f, 0x7f, 0x80, 0xab, 0xff)));
        assertEquals("a\\\\b", Bytes.escape(Bytes.utf8("a\\b")));
        assertEquals("k\\x00\\xffz", Bytes.escape(bytes('k', 0x00, 0xff, 'z')));
    }

    @Test
    void escapeOfEveryByteIsPrintableAndUnambiguous() {
        for (int b = 0; b < 256; b++) {
            String escaped = Bytes.escape(bytes(b));
            for (char c : escaped.toCharArray()) {
                assertTrue(c >= 0x20 && c < 0x7f, "escape of byte " + b + " contains a non-printable char");
            }
            if (b == '\\') {
                assertEquals("\\\\", escaped);
            } else if (b >= 0x20 && b < 0x7f) {
                assertEquals(String.valueOf((char) b), escaped);
            } else {
                assertEquals(String.format("\\x%02x", b), escaped);
            }
        }
    }

    private static Pair randomPair(Random random) {
        int[] alphabet = {0x00, 0x01, 'a', 'b', 0x7f, 0x80, 0xfe, 0xff};
        byte[] key = new byte[random.nextInt(6)];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) alphabet[random.nextInt(alphabet.length)];
        }
        long version = switch (random.nextInt(4)) {
            case 0 -> 1 + random.nextInt(4);
            case 1 -> KeyFormat.MAX_VERSION - random.nextInt(4);
            case 2 -> ((long) alphabet[random.nextInt(alphabet.length)] << 56) & Long.MAX_VALUE;
            default -> 1 + (random.nextLong() & Long.MAX_VALUE) % KeyFormat.MAX_VERSION;
        };
        return new Pair(key, version);
    }

    private static byte[] embed(byte[] key, int offset, Random random) {
        byte[] host = new byte[offset + key.length + random.nextInt(5)];
        random.nextBytes(host);
        System.arraycopy(key, 0, host, offset, key.length);
        return host;
    }

    private static String describe(Pair pair) {
        return Bytes.escape(pair.userKey) + "@" + pair.version;
    }
}
