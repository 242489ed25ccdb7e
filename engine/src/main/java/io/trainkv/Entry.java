package io.trainkv;

import io.trainkv.util.Bytes;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * A key with its value and optional attributes: a time to live (or absolute expiry) after which
 * reads no longer see it, and one byte of user meta data stored alongside.
 *
 * <p>Entries are immutable; the {@code with…} methods return copies. The key and value arrays are
 * not copied: do not modify them after handing them to the database.
 */
public final class Entry {

    private final byte[] key;
    private final byte[] value;
    private final byte userMeta;
    private final long ttlMillis;
    private final long expiresAtMillis;

    private Entry(byte[] key, byte[] value, byte userMeta, long ttlMillis, long expiresAtMillis) {
        this.key = key;
        this.value = value;
        this.userMeta = userMeta;
        this.ttlMillis = ttlMillis;
        this.expiresAtMillis = expiresAtMillis;
    }

    /** An entry with no expiry and user meta 0. */
    public static Entry of(byte[] key, byte[] value) {
        return new Entry(key, value, (byte) 0, 0, 0);
    }

    /** An entry of UTF-8 encoded strings. */
    public static Entry of(String key, String value) {
        return of(Bytes.utf8(Objects.requireNonNull(key, "key")), Bytes.utf8(Objects.requireNonNull(value, "value")));
    }

    /** This entry expiring {@code ttl} after it is written (measured on {@link Options#clock(java.time.Clock)}). */
    public Entry withTtl(Duration ttl) {
        long millis = ttl.toMillis();
        if (millis <= 0) {
            throw new IllegalArgumentException("ttl must be positive: " + ttl);
        }
        return new Entry(key, value, userMeta, millis, 0);
    }

    /** This entry expiring at {@code instant}. */
    public Entry withExpiresAt(Instant instant) {
        long millis = instant.toEpochMilli();
        if (millis <= 0) {
            throw new IllegalArgumentException("expiry must be after the epoch: " + instant);
        }
        return new Entry(key, value, userMeta, 0, millis);
    }

    /** This entry with the given user meta byte. */
    public Entry withUserMeta(byte meta) {
        return new Entry(key, value, meta, ttlMillis, expiresAtMillis);
    }

    public byte[] key() {
        return key;
    }

    public byte[] value() {
        return value;
    }

    /** The value as UTF-8 text. */
    public String valueAsString() {
        return new String(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    public byte userMeta() {
        return userMeta;
    }

    /** The absolute expiry, or null if the entry never expires or only a TTL has been set. */
    public Instant expiresAt() {
        return expiresAtMillis == 0 ? null : Instant.ofEpochMilli(expiresAtMillis);
    }

    /** The TTL given with {@link #withTtl(Duration)}, or null. */
    public Duration ttl() {
        return ttlMillis == 0 ? null : Duration.ofMillis(ttlMillis);
    }

    /** Expiry in epoch milliseconds when written at {@code nowMillis}; 0 means never. */
    long expiresAtMillis(long nowMillis) {
        if (ttlMillis != 0) {
            return Math.addExact(nowMillis, ttlMillis);
        }
        return expiresAtMillis;
    }

    static Entry stored(byte[] key, byte[] value, byte userMeta, long expiresAtMillis) {
        return new Entry(key, value, userMeta, 0, expiresAtMillis);
    }

    @Override
    public String toString() {
        return "Entry[" + Bytes.escape(key) + " (" + value.length + " bytes)"
                + (userMeta != 0 ? ", userMeta=" + userMeta : "")
                + (ttlMillis != 0 ? ", ttl=" + ttl() : "")
                + (expiresAtMillis != 0 ? ", expiresAt=" + expiresAt() : "") + "]";
    }
}
