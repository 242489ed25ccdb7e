package io.trainkv.compaction;

/** The tunables compaction runs with, taken from the database options. */
public record CompactionSettings(int threads, long baseLevelSize, int levelSizeMultiplier, int level0Trigger,
                                 long targetFileSize, int blockSize, int bloomBitsPerKey) {
}
