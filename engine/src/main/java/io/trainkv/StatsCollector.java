package io.trainkv;

import io.trainkv.cache.BlockCache;
import io.trainkv.compaction.Compactor;
import io.trainkv.compaction.LevelTargets;
import io.trainkv.manifest.Version;
import io.trainkv.manifest.VersionSet;
import io.trainkv.vlog.ValueLog;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads the counters of an open database's parts (write pipeline, levels, value log, caches)
 * into one {@link Stats}, so that {@link TrainKV#stats()} stays a call.
 */
final class StatsCollector {

    private StatsCollector() {
    }

    /** The parts' counters now; the level sizes are those of the current version. */
    static Stats collect(WritePipeline pipeline, VersionSet versions, Compactor compactor, Flusher flusher,
            ValueLog valueLog, ValueLogGc valueLogGc, BlockCache blockCache, BlockCache indexCache) {
        WritePipeline.Counters c = pipeline.counters();
        List<Stats.LevelStats> levels = new ArrayList<>();
        Version version = versions.acquireCurrent();
        try {
            LevelTargets targets = compactor.targets(version);
            for (int level = 0; level < version.levelCount(); level++) {
                levels.add(new Stats.LevelStats(level, version.tables(level).size(), version.levelBytes(level),
                        targets.target(level)));
            }
        } finally {
            version.unref();
        }
        List<Stats.ValueLogFile> valueLogFiles = new ArrayList<>();
        Map<Long, Long> discard = versions.valueLogDiscard();
        for (long fileId : valueLog.fileIds()) {
            long bytes = valueLog.size(fileId);
            valueLogFiles.add(new Stats.ValueLogFile(fileId, bytes, Math.min(bytes, discard.getOrDefault(fileId, 0L)),
                    fileId == valueLog.activeFileId()));
        }
        return new Stats(c.batchesWritten(), c.writeGroups(), c.walSyncs(), c.walBytes(), c.writeStalls(),
                c.writeSlowdowns(), c.memtables(), c.memtableBytes(), c.lastVersion(), List.copyOf(levels),
                flusher.flushedBytes(), compactor.readBytes(), compactor.writeBytes(), compactor.completed(),
                compactor.trivialMoves(), List.copyOf(valueLogFiles), cacheStats(blockCache), cacheStats(indexCache),
                valueLogGc.filesExamined(), valueLog.appendedBytes());
    }

    private static Stats.CacheStats cacheStats(BlockCache cache) {
        return cache == null ? new Stats.CacheStats(0, 0, 0, 0, 0)
                : new Stats.CacheStats(cache.hits(), cache.misses(), cache.evictions(), cache.weight(), cache.maximum());
    }
}
