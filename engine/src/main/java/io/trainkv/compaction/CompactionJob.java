package io.trainkv.compaction;

import io.trainkv.manifest.LevelIterator;
import io.trainkv.manifest.TableHandle;
import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.Version;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.manifest.VersionSet;
import io.trainkv.sstable.TableOutputs;
import io.trainkv.storage.Storage;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.MergingIterator;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one compaction: merges the input tables in internal-key order and writes what survives to
 * new tables at the output level through {@link TableOutputs}, cut near the target file size at
 * the boundaries of the next level's tables ({@link GrandparentCuts}), but never between two
 * versions of one user key (so a level holds each user key in one table).
 *
 * <p>What is dropped, given the oldest version any reader may still read at ({@code smallestSnapshot}),
 * is what {@link ObsoleteVersionFilter} finds obsolete: a version shadowed by a newer version at
 * or below the snapshot, and, when no deeper level holds the key, a tombstone or an expired entry
 * at or below it. Everything else is kept, so a live reader never loses a version it can see and
 * a deleted key never comes back. The value-log bytes that dropped pointers referenced are
 * counted per file (discard statistics), and the highest version of a dropped tombstone or
 * expired entry goes into the edit (the manifest's dropped-deletion watermark).
 */
final class CompactionJob {

    private final Compaction compaction;
    private final Storage storage;
    private final VersionSet versions;
    private final int blockSize;
    private final int bloomBitsPerKey;
    private final long targetFileSize;
    private long bytesWritten;
    private final ObsoleteVersionFilter obsolete;

    CompactionJob(Compaction compaction, Storage storage, VersionSet versions, long smallestSnapshot, long nowMillis,
                  int blockSize, int bloomBitsPerKey, long targetFileSize) {
        this.compaction = compaction;
        this.storage = storage;
        this.versions = versions;
        this.obsolete = new ObsoleteVersionFilter(smallestSnapshot, nowMillis, compaction::isBottommostFor);
        this.blockSize = blockSize;
        this.bloomBitsPerKey = bloomBitsPerKey;
        this.targetFileSize = targetFileSize;
    }

    /** Merges and writes the outputs; returns the edit that replaces the inputs with them. */
    VersionEdit run() throws IOException {
        TableOutputs writer = new TableOutputs(storage, versions::newFileNumber,
                new GrandparentCuts(grandparents(), targetFileSize), blockSize, bloomBitsPerKey);
        List<TableMeta> outputs;
        try (InternalIterator merged = inputIterator()) {
            writeOutputs(merged, writer);
            outputs = writer.finish();
        } catch (IOException | RuntimeException | Error e) {
            writer.abandon(e);
            throw e;
        }
        bytesWritten = writer.bytesWritten();
        VersionEdit edit = new VersionEdit();
        for (TableHandle t : compaction.inputs()) {
            edit.deleteTable(compaction.level(), t.meta().fileNumber());
        }
        for (TableHandle t : compaction.passedThrough()) {
            edit.deleteTable(compaction.outputLevel() - 1, t.meta().fileNumber());
        }
        for (TableHandle t : compaction.overlaps()) {
            edit.deleteTable(compaction.outputLevel(), t.meta().fileNumber());
        }
        for (TableMeta output : outputs) {
            edit.addTable(compaction.outputLevel(), output);
        }
        obsolete.valueLogDiscard().forEach(edit::addValueLogDiscard);
        edit.droppedDeletion(obsolete.droppedDeletionVersion());
        return edit;
    }

    /** The tables of the level below the output level (none when the output level is the bottom one). */
    private List<TableMeta> grandparents() {
        List<TableMeta> grandparents = new ArrayList<>();
        Version version = compaction.version();
        if (compaction.outputLevel() + 1 < version.levelCount()) {
            for (TableHandle t : version.tables(compaction.outputLevel() + 1)) {
                grandparents.add(t.meta());
            }
        }
        return grandparents;
    }

    long bytesWritten() {
        return bytesWritten;
    }

    private InternalIterator inputIterator() {
        List<InternalIterator> children = new ArrayList<>();
        if (compaction.level() == 0) {
            List<TableHandle> inputs = compaction.inputs();
            for (int i = inputs.size() - 1; i >= 0; i--) {
                children.add(inputs.get(i).reader().iterator(false, false));
            }
        } else {
            children.add(new LevelIterator(compaction.inputs(), false, false));
        }
        if (!compaction.passedThrough().isEmpty()) {
            children.add(new LevelIterator(compaction.passedThrough(), false, false));
        }
        children.add(new LevelIterator(compaction.overlaps(), false, false));
        return new MergingIterator(children, false);
    }

    private void writeOutputs(InternalIterator merged, TableOutputs writer) throws IOException {
        for (merged.seekToFirst(); merged.valid(); merged.next()) {
            ValueStruct value = merged.value();
            if (!obsolete.drop(merged.keyBuffer(), merged.keyLength(), value)) {
                writer.add(merged.keyBuffer(), merged.keyLength(), value);
            }
        }
    }
}
