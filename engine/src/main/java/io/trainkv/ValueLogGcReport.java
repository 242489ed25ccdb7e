package io.trainkv;

import java.util.List;
import java.util.Locale;

/**
 * What a value-log GC run found and did, from {@link TrainKV#runValueLogGC(double)} or
 * {@link TrainKV#sampleValueLogGC(double)}.
 *
 * @param files          one line per sealed value-log file examined
 * @param collectedFiles files rewritten and retired (0 in a sample)
 * @param reclaimedBytes bytes of the retired files, freed once no reader needs them
 * @param rewrittenBytes bytes of live values copied to the head of the log
 */
public record ValueLogGcReport(List<FileEstimate> files, int collectedFiles, long reclaimedBytes, long rewrittenBytes) {

    /**
     * One file's estimate.
     *
     * @param fileId          the value-log file number
     * @param bytes           its size
     * @param discardBytes    bytes compaction has counted as dropped (persisted statistics)
     * @param sampledBytes    bytes of entries checked against the LSM tree
     * @param sampledLive     of those, bytes of entries still current
     * @param discardRatio    the estimate used: the larger of the statistics' and the sample's
     * @param collected       whether this run rewrote and retired the file
     */
    public record FileEstimate(long fileId, long bytes, long discardBytes, long sampledBytes, long sampledLive,
                               double discardRatio, boolean collected) {
    }

    /** A plain-text table of the estimates and the totals. */
    public String format() {
        StringBuilder out = new StringBuilder(String.format(Locale.ROOT, "%-8s %12s %12s %12s %8s %s%n",
                "file", "bytes", "discarded", "sampled", "discard", "collected"));
        for (FileEstimate f : files) {
            out.append(String.format(Locale.ROOT, "%-8d %12d %12d %12d %7.1f%% %s%n", f.fileId(), f.bytes(),
                    f.discardBytes(), f.sampledBytes(), 100 * f.discardRatio(), f.collected() ? "yes" : "no"));
        }
        out.append(String.format(Locale.ROOT, "%d files collected, %d bytes reclaimed, %d bytes rewritten%n",
                collectedFiles, reclaimedBytes, rewrittenBytes));
        return out.toString();
    }
}
