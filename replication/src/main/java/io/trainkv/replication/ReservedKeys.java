package io.trainkv.replication;

import io.trainkv.Options;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The keys the replicated state machine keeps for itself in the local database, next to the
 * user's: the applied log position ({@code term, index}) and, per user key, the log index of its
 * last change (the record transactions are validated against). They all start with
 * {@link #PREFIX}, which sorts after nearly every user key; clients may not write under it, and
 * reads and scans never show it.
 */
final class ReservedKeys {

    /** {@code 0xFF 0xFF "trainkv.replication/"}. */
    static final byte[] PREFIX = concat(new byte[] {(byte) 0xFF, (byte) 0xFF},
            "trainkv.replication/".getBytes(StandardCharsets.US_ASCII));

    /** The last applied log entry: 8-byte term then 8-byte index, big-endian. */
    static final byte[] APPLIED = concat(PREFIX, "applied".getBytes(StandardCharsets.US_ASCII));

    /** Prefix of the last-modified records: {@code MODIFIED ‖ userKey} holds an 8-byte log index. */
    static final byte[] MODIFIED = concat(PREFIX, "m/".getBytes(StandardCharsets.US_ASCII));

    /** The longest user key a replicated write accepts: its last-modified record must fit too. */
    static final int MAX_USER_KEY = Options.MAX_KEY_SIZE - MODIFIED.length;

    private ReservedKeys() {
    }

    static boolean isReserved(byte[] key) {
        return key.length >= PREFIX.length && Arrays.equals(key, 0, PREFIX.length, PREFIX, 0, PREFIX.length);
    }

    /** The key of {@code userKey}'s last-modified record. */
    static byte[] modified(byte[] userKey) {
        return concat(MODIFIED, userKey);
    }

    /**
     * The smallest key after every key starting with {@code prefix} (increment the last byte that
     * is not 0xFF, drop the rest), or null if there is none (the prefix is all 0xFF).
     */
    static byte[] prefixEnd(byte[] prefix) {
        for (int i = prefix.length - 1; i >= 0; i--) {
            if (prefix[i] != (byte) 0xFF) {
                byte[] end = Arrays.copyOf(prefix, i + 1);
                end[i]++;
                return end;
            }
        }
        return null;
    }

    static byte[] longBytes(long value) {
        return ByteBuffer.allocate(Long.BYTES).putLong(value).array();
    }

    static long longOf(byte[] bytes) {
        return ByteBuffer.wrap(bytes).getLong();
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
