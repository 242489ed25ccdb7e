package io.trainkv.util;

/**
 * Murmur3 (x86, 32-bit) hashing of byte ranges: fast, well mixed, and stable across JVMs, so that
 * hashes stored on disk (bloom filters) stay valid. See Austin Appleby's MurmurHash3.
 */
public final class Hash {

    private static final int C1 = 0xcc9e2d51;
    private static final int C2 = 0x1b873593;

    private Hash() {
    }

    /** Murmur3-32 of {@code data[offset, offset+length)} with {@code seed}. */
    public static int murmur3(byte[] data, int offset, int length, int seed) {
        int h = seed;
        int end = offset + (length & ~3);
        for (int i = offset; i < end; i += 4) {
            int k = (data[i] & 0xff) | (data[i + 1] & 0xff) << 8 | (data[i + 2] & 0xff) << 16 | (data[i + 3] & 0xff) << 24;
            h ^= mixK(k);
            h = Integer.rotateLeft(h, 13) * 5 + 0xe6546b64;
        }
        int k = 0;
        switch (length & 3) {
            case 3:
                k ^= (data[end + 2] & 0xff) << 16;
                // fall through
            case 2:
                k ^= (data[end + 1] & 0xff) << 8;
                // fall through
            case 1:
                k ^= data[end] & 0xff;
                h ^= mixK(k);
                break;
            default:
                break;
        }
        h ^= length;
        h ^= h >>> 16;
        h *= 0x85ebca6b;
        h ^= h >>> 13;
        h *= 0xc2b2ae35;
        h ^= h >>> 16;
        return h;
    }

    private static int mixK(int k) {
        k *= C1;
        k = Integer.rotateLeft(k, 15);
        return k * C2;
    }
}
