package io.trainkv.bench.db;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * This process's disk writes and peak memory, from Linux's {@code /proc/self}. Both are per
 * process, which is why each engine runs in a child JVM of its own. Where {@code /proc} cannot be
 * read, both return -1 and the report shows a dash.
 */
final class ProcStats {

    private ProcStats() {
    }

    /**
     * {@code write_bytes} of {@code /proc/self/io}: bytes this process caused to be sent to the
     * storage layer, counted when pages are dirtied (files deleted before write-back still count).
     */
    static long writeBytes() {
        return field(Path.of("/proc/self/io"), "write_bytes:", 1);
    }

    /** {@code VmHWM} of {@code /proc/self/status}: peak resident set size, heap, native and mapped files. */
    static long peakRssBytes() {
        return field(Path.of("/proc/self/status"), "VmHWM:", 1024);
    }

    private static long field(Path file, String name, long unit) {
        try {
            for (String line : Files.readAllLines(file)) {
                if (line.startsWith(name)) {
                    return unit * Long.parseLong(line.substring(name.length()).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
