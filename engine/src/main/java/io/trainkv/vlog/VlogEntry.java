package io.trainkv.vlog;

/** One entry read back from a value-log file, with where it lives. */
public record VlogEntry(long fileId, long offset, int length, long version, byte[] key, byte[] value) {
}
