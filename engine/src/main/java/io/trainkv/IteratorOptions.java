package io.trainkv;

import io.trainkv.util.Bytes;
import java.util.Arrays;

/**
 * What a {@link DbIterator} walks: its direction, and optional bounds on the keys it returns,
 * {@code [from, to)} and/or a prefix (both apply when both are given). The end of a range is
 * excluded, as everywhere in TrainKV; {@link #toInclusive} is the explicit way to include it.
 * <pre>{@code
 * db.iterator(IteratorOptions.forward().prefix("user:"));
 * db.iterator(IteratorOptions.reverse().from("a").to("m"));
 * }</pre>
 */
public final class IteratorOptions {

    private final boolean reverse;
    private byte[] prefix;
    private byte[] from;
    private byte[] to;

    private IteratorOptions(boolean reverse) {
        this.reverse = reverse;
    }

    /** Ascending key order. */
    public static IteratorOptions forward() {
        return new IteratorOptions(false);
    }

    /** Descending key order. */
    public static IteratorOptions reverse() {
        return new IteratorOptions(true);
    }

    /** Only keys starting with {@code prefix}. */
    public IteratorOptions prefix(byte[] prefix) {
        this.prefix = nonNull(prefix, "prefix").clone();
        return this;
    }

    public IteratorOptions prefix(String prefix) {
        return prefix(Bytes.utf8(nonNull(prefix, "prefix")));
    }

    /** Only keys at or after {@code key} (inclusive). */
    public IteratorOptions from(byte[] key) {
        this.from = nonNull(key, "from").clone();
        return this;
    }

    public IteratorOptions from(String key) {
        return from(Bytes.utf8(nonNull(key, "from")));
    }

    /** Only keys before {@code key} (exclusive). */
    public IteratorOptions to(byte[] key) {
        this.to = nonNull(key, "to").clone();
        return this;
    }

    public IteratorOptions to(String key) {
        return to(Bytes.utf8(nonNull(key, "to")));
    }

    /**
     * Only keys at or before {@code key} (inclusive): the same as {@link #to} of the smallest key
     * after it, {@code key} followed by a zero byte. Replaces an earlier {@code to}.
     *
     * @throws IllegalArgumentException if {@code key} is null
     */
    public IteratorOptions toInclusive(byte[] key) {
        byte[] end = nonNull(key, "to");
        this.to = Arrays.copyOf(end, end.length + 1);
        return this;
    }

    public IteratorOptions toInclusive(String key) {
        return toInclusive(Bytes.utf8(nonNull(key, "to")));
    }

    public boolean isReverse() {
        return reverse;
    }

    /** The smallest key the iterator may return (inclusive), or null. */
    byte[] lowerBound() {
        if (prefix == null) {
            return from;
        }
        return from == null || Bytes.compare(prefix, from) > 0 ? prefix : from;
    }

    /** The key every returned key is below (exclusive), or null. */
    byte[] upperBound() {
        byte[] prefixEnd = prefix == null ? null : successor(prefix);
        if (prefixEnd == null) {
            return to;
        }
        return to == null || Bytes.compare(prefixEnd, to) < 0 ? prefixEnd : to;
    }

    /** The smallest key greater than every key starting with {@code prefix}, or null if none. */
    private static byte[] successor(byte[] prefix) {
        int end = prefix.length;
        while (end > 0 && prefix[end - 1] == (byte) 0xff) {
            end--;
        }
        if (end == 0) {
            return null;
        }
        byte[] next = Arrays.copyOf(prefix, end);
        next[end - 1]++;
        return next;
    }

    private static <T> T nonNull(T value, String what) {
        if (value == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        return value;
    }
}
