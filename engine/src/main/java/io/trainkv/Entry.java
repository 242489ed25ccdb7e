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

    /**
     * The longest TTL {@link #withTtl(Duration)} accepts: 1,000 years of 365.25 days
     * (31,557,600,000,000 ms). Write time plus TTL then fits the expiry, a 64-bit count of
     * milliseconds since the epoch, for any clock before the year 292,000,000.
     */
    public static final Duration MAX_TTL = Duration.ofDays(365_250);

    /** The latest expiry a 64-bit count of milliseconds since the epoch can hold. */
    private static final Instant LATEST_EXPIRY = Instant.ofEpochMilli(Long.MAX_VALUE);

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

    /**
     * This entry expiring {@code ttl} after it is written (measured on {@link Options#clock(java.time.Clock)}).
     *
     * @throws IllegalArgumentException if {@code ttl} is null, shorter than 1 ms or longer than {@link #MAX_TTL}
     */
    public Entry withTtl(Duration ttl) {
        if (ttl == null) {
            throw new IllegalArgumentException("ttl must not be null");
        }
        if (ttl.compareTo(MAX_TTL) > 0) {
            String given = ttl.compareTo(Duration.ofMillis(Long.MAX_VALUE)) <= 0 ? ttl.toMillis() + " ms"
                    : ttl.getSeconds() + " s";
            throw new IllegalArgumentException("ttl too large: " + given + "; the limit is " + MAX_TTL.toMillis()
                    + " ms (1,000 years)");
        }
        long millis = ttl.toMillis();
        if (millis <= 0) {
            throw new IllegalArgumentException("ttl must be at least 1 ms: " + ttl);
        }
        return new Entry(key, value, userMeta, millis, 0);
    }

    /**
     * This entry expiring at {@code instant}.
     *
     * @throws IllegalArgumentException if {@code instant} is null, not after the epoch, or too late
     *         for a 64-bit count of milliseconds since the epoch
     */
    public Entry withExpiresAt(Instant instant) {
        if (instant == null) {
            throw new IllegalArgumentException("expiry must not be null");
        }
        if (instant.isAfter(LATEST_EXPIRY)) {
            throw new IllegalArgumentException("expiry too late: " + instant + "; the limit is " + LATEST_EXPIRY
                    + " (" + Long.MAX_VALUE + " ms after the epoch)");
        }
        long millis = instant.isAfter(Instant.EPOCH) ? instant.toEpochMilli() : 0;
        if (millis <= 0) {
            throw new IllegalArgumentException("expiry must be at least 1 ms after the epoch: " + instant);
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

    /** Whether the expiry depends on the time of the write: a TTL was set. */
    boolean hasTtl() {
        return ttlMillis != 0;
    }

    /**
     * Expiry in epoch milliseconds when written at {@code nowMillis}; 0 means never.
     *
     * @throws IllegalArgumentException if {@code nowMillis} plus the TTL does not fit in a long
     *         (a clock near the end of what epoch milliseconds can count)
     */
    long expiresAtMillis(long nowMillis) {
        return expiresAtMillis(ttlMillis, expiresAtMillis, nowMillis);
    }

    /**
     * The expiry (epoch ms, 0 for never) of an entry with these fields written at
     * {@code nowMillis}: {@code fixedExpiresAtMillis} when {@code ttlMillis} is 0, else the TTL
     * after the write.
     *
     * @throws IllegalArgumentException as {@link #expiresAtMillis(long)}
     */
    static long expiresAtMillis(long ttlMillis, long fixedExpiresAtMillis, long nowMillis) {
        if (ttlMillis == 0) {
            return fixedExpiresAtMillis;
        }
        if (nowMillis > Long.MAX_VALUE - ttlMillis) {
            throw new IllegalArgumentException("ttl too large: " + ttlMillis + " ms after the clock's "
                    + nowMillis + " ms since the epoch is past the latest expiry, " + Long.MAX_VALUE + " ms");
        }
        return nowMillis + ttlMillis;
    }

    static Entry stored(byte[] key, byte[] value, byte userMeta, long expiresAtMillis) {
        return new Entry(key, value, userMeta, 0, expiresAtMillis);
    }

    /** An entry of these fields as {@link #ttlMillis()} and {@link #fixedExpiresAtMillis()} give them, unchecked. */
    static Entry withFields(byte[] key, byte[] value, byte userMeta, long ttlMillis, long fixedExpiresAtMillis) {
        return new Entry(key, value, userMeta, ttlMillis, fixedExpiresAtMillis);
    }

    /** The TTL in ms, 0 for none. */
    long ttlMillis() {
        return ttlMillis;
    }

    /** The absolute expiry in epoch ms, 0 for none (or for a TTL, which is set instead). */
    long fixedExpiresAtMillis() {
        return expiresAtMillis;
    }

    @Override
    public String toString() {
        return "Entry[" + Bytes.escape(key) + " (" + value.length + " bytes)"
                + (userMeta != 0 ? ", userMeta=" + userMeta : "")
                + (ttlMillis != 0 ? ", ttl=" + ttl() : "")
                + (expiresAtMillis != 0 ? ", expiresAt=" + expiresAt() : "") + "]";
    }
}
