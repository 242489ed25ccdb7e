package io.trainkv.bench.cache;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPInputStream;

/**
 * Reads a block trace in the ARC {@code .lis} format (Megiddo and Modha, "ARC: A Self-Tuning, Low
 * Overhead Replacement Cache", USENIX FAST '03) into the sequence of block numbers it touches, so
 * that real traces can be replayed through the caches beside the synthetic ones.
 *
 * <p>Each line is {@code START COUNT IGNORED IGNORED}: the request touches the {@code COUNT}
 * consecutive blocks {@code START, START+1, ...}, each one cache key. Files ending in {@code .gz}
 * are read through gzip. Blank lines are skipped.
 */
final class LisTrace {

    private LisTrace() {
    }

    /**
     * The block numbers touched by the trace in {@code file}, in order.
     *
     * @throws IOException if the file cannot be read, or a line is malformed (fewer than two
     *     fields, a non-number, a negative count, or a block number beyond {@link Integer#MAX_VALUE})
     */
    static int[] read(Path file) throws IOException {
        try (InputStream raw = Files.newInputStream(file);
                InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw, 1 << 16) : raw;
                BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII), 1 << 16)) {
            int[] keys = new int[1 << 20];
            int size = 0;
            String line;
            long lineNumber = 0;
            while ((line = reader.readLine()) != null) {
                lineNumber++;
                String[] fields = line.trim().split("\\s+");
                if (fields.length == 1 && fields[0].isEmpty()) {
                    continue;
                }
                long start;
                long count;
                try {
                    start = Long.parseLong(fields[0]);
                    count = fields.length > 1 ? Long.parseLong(fields[1]) : -1;
                } catch (NumberFormatException e) {
                    throw new IOException(file + ":" + lineNumber + ": not a number: " + line);
                }
                if (count < 0 || start < 0 || start + count - 1 > Integer.MAX_VALUE) {
                    throw new IOException(file + ":" + lineNumber + ": expected START COUNT with 0 <= START, "
                            + "0 <= COUNT and blocks below 2^31: " + line);
                }
                for (long block = start; block < start + count; block++) {
                    if (size == keys.length) {
                        keys = Arrays.copyOf(keys, keys.length * 2);
                    }
                    keys[size++] = (int) block;
                }
            }
            return Arrays.copyOf(keys, size);
        }
    }
}
