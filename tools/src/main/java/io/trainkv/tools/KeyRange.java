package io.trainkv.tools;

import io.trainkv.IteratorOptions;
import io.trainkv.Options;
import java.util.Arrays;
import picocli.CommandLine.Option;

/**
 * The key range options of every tool that takes one ({@code --from}, {@code --to},
 * {@code --inclusive}), shared so that each reads them by the product's one rule: {@code [from, to)},
 * the {@code --to} key excluded unless {@code --inclusive} is given. Keys compare as unsigned bytes.
 */
final class KeyRange {

    @Option(names = "--from", paramLabel = "KEY",
            description = "Start of the key range, included: " + KeyArgument.HELP + ".")
    String from;

    @Option(names = "--to", paramLabel = "KEY",
            description = "End of the key range, excluded: [from, to). " + KeyArgument.HELP + ".")
    String to;

    @Option(names = "--inclusive", description = "Include the --to key itself: [from, to].")
    boolean inclusive;

    private byte[] fromBytes;
    private byte[] toBytes;

    /** Whether --from, --to or --inclusive was given. */
    boolean given() {
        return from != null || to != null || inclusive;
    }

    /**
     * Decodes the keys; call before the other methods.
     *
     * @return why the options are unusable (bad hex, --inclusive without --to, an empty range), or null
     */
    String usageError() {
        if (inclusive && to == null) {
            return "--inclusive needs --to (it includes the --to key)";
        }
        try {
            fromBytes = KeyArgument.parse(from);
            toBytes = KeyArgument.parse(to);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        if (fromBytes == null || toBytes == null) {
            return toBytes != null && toBytes.length == 0 && !inclusive
                    ? "--to of the empty key excludes every key: the range [from, to) is empty" : null;
        }
        int order = Arrays.compareUnsigned(fromBytes, toBytes);
        if (order > 0) {
            return "--from " + from + " is after --to " + to;
        }
        if (order == 0 && !inclusive) {
            return "--from and --to are both " + from + ": the range [from, to) is empty (--inclusive includes the "
                    + "--to key)";
        }
        return null;
    }

    /** Limits {@code options} to the range. */
    IteratorOptions applyTo(IteratorOptions options) {
        if (fromBytes != null) {
            options.from(fromBytes);
        }
        if (toBytes != null) {
            if (inclusive) {
                options.toInclusive(toBytes);
            } else {
                options.to(toBytes);
            }
        }
        return options;
    }

    /** Whether {@code key} lies in the range. */
    boolean contains(byte[] key) {
        if (fromBytes != null && Arrays.compareUnsigned(key, fromBytes) < 0) {
            return false;
        }
        if (toBytes == null) {
            return true;
        }
        int toOrder = Arrays.compareUnsigned(key, toBytes);
        return inclusive ? toOrder <= 0 : toOrder < 0;
    }

    /** The first key of the range, or null for unbounded. */
    byte[] first() {
        return fromBytes;
    }

    /**
     * The last key of the range that a database can hold, or null for unbounded: the --to key with
     * --inclusive, otherwise the largest key of at most {@link Options#MAX_KEY_SIZE} bytes below it.
     * This turns {@code [from, to)} into the {@code [from, last]} that {@code TrainKV.compactRange} takes.
     */
    byte[] last() {
        if (toBytes == null || inclusive) {
            return toBytes;
        }
        return largestKeyBelow(toBytes);
    }

    /** The largest key of at most {@link Options#MAX_KEY_SIZE} bytes below {@code key} (not empty). */
    static byte[] largestKeyBelow(byte[] key) {
        if (key.length > Options.MAX_KEY_SIZE) {
            return Arrays.copyOf(key, Options.MAX_KEY_SIZE);
        }
        int last = key.length - 1;
        if (key[last] == 0) {
            return Arrays.copyOf(key, last);
        }
        byte[] below = new byte[Options.MAX_KEY_SIZE];
        Arrays.fill(below, (byte) 0xff);
        System.arraycopy(key, 0, below, 0, last);
        below[last] = (byte) (key[last] - 1);
        return below;
    }
}
