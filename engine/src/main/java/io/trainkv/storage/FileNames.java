package io.trainkv.storage;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * Names of the files in a database directory: {@code NNNNNN.wal}, {@code NNNNNN.sst},
 * {@code NNNNNN.vlog} (six or more digits, one file-number counter), {@code MANIFEST-NNNNNN},
 * {@code CURRENT}, {@code LOCK} and {@code VLOG-STAGE}. Tools find files by these names.
 */
public final class FileNames {

    public static final String LOCK = "LOCK";
    public static final String CURRENT = "CURRENT";
    /** The value-log stage: the newest value-log entries on their way into the active file. */
    public static final String VALUE_LOG_STAGE = "VLOG-STAGE";
    /** The temporary name {@code CURRENT} is written under before it is renamed into place. */
    public static final String CURRENT_TEMP = "CURRENT.tmp";
    public static final String MANIFEST_PREFIX = "MANIFEST-";

    /** The kinds of numbered files. */
    public enum Kind {
        WAL(".wal"), TABLE(".sst"), VALUE_LOG(".vlog");

        private final String suffix;

        Kind(String suffix) {
            this.suffix = suffix;
        }

        public String suffix() {
            return suffix;
        }
    }

    private FileNames() {
    }

    /** The name of numbered file {@code number} of the given kind, e.g. {@code 000007.wal}. */
    public static String name(long number, Kind kind) {
        if (number < 0) {
            throw new IllegalArgumentException("negative file number " + number);
        }
        return String.format(Locale.ROOT, "%06d%s", number, kind.suffix);
    }

    /** The name of manifest file {@code number}, e.g. {@code MANIFEST-000003}. */
    public static String manifest(long number) {
        if (number < 0) {
            throw new IllegalArgumentException("negative file number " + number);
        }
        return String.format(Locale.ROOT, "%s%06d", MANIFEST_PREFIX, number);
    }

    /** The number of a manifest file name, or -1 if {@code name} is not one. */
    public static long parseManifest(String name) {
        if (!name.startsWith(MANIFEST_PREFIX)) {
            return -1;
        }
        return parseDigits(name.substring(MANIFEST_PREFIX.length()));
    }

    /** The numbers of the files of {@code kind} among {@code names} numbered at least {@code from}, ascending. */
    public static List<Long> numbers(List<String> names, Kind kind, long from) {
        List<Long> numbers = new ArrayList<>();
        for (String name : names) {
            long number = parseNumber(name, kind);
            if (number >= 0 && number >= from) {
                numbers.add(number);
            }
        }
        Collections.sort(numbers);
        return numbers;
    }

    /** The file number encoded in {@code name} if it is a file of {@code kind}, or -1. */
    public static long parseNumber(String name, Kind kind) {
        if (!name.endsWith(kind.suffix)) {
            return -1;
        }
        return parseDigits(name.substring(0, name.length() - kind.suffix.length()));
    }

    private static long parseDigits(String digits) {
        if (digits.length() < 6) {
            return -1;
        }
        for (int i = 0; i < digits.length(); i++) {
            if (digits.charAt(i) < '0' || digits.charAt(i) > '9') {
                return -1;
            }
        }
        try {
            return Long.parseLong(digits);
        } catch (NumberFormatException e) {
            return -1; // more than Long.MAX_VALUE
        }
    }
}
