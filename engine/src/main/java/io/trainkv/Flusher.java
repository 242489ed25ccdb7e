package io.trainkv;

import io.trainkv.compaction.ObsoleteVersionFilter;
import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.manifest.VersionSet;
import io.trainkv.memtable.MemTable;
import io.trainkv.sstable.TableOutputs;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.Storage;
import io.trainkv.txn.VersionClock;
import io.trainkv.util.InternalIterator;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Writes frozen memtables to level-0 tables on one background thread, oldest first. A memtable
 * becomes one or more tables, cut at {@link Options#targetFileSize(long)} between user keys
 * ({@link TableOutputs}): they do not overlap each other, and their file numbers are above those
 * of every earlier flush's tables (level 0 orders by file number, so newer versions win). Versions
 * overwritten within the memtable that no reader can see any more are left out
 * ({@link ObsoleteVersionFilter}), and the value-log bytes they pointed to are recorded as
 * discarded in the same manifest edit, so that value-log GC learns of overwrites at the first
 * flush rather than at a later compaction. For each
 * memtable: its tables are written and fsynced and the directory fsynced; one manifest edit (the
 * new tables, the WAL number from which logs are still needed, the last version) is fsynced and installed; only then
 * is the memtable dropped, and its WAL deleted after the next manifest snapshot. A crash at any point leaves either the WAL or the
 * table to recover from. A failure (an I/O error, or an {@link Error} such as running out of
 * memory) stops flushing and makes the database refuse writes, which wakes every writer waiting
 * for a flush.
 */
final class Flusher implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Flusher.class.getName());

    private final Storage storage;
    private final Options options;
    private final VersionSet versions;
    private final VersionClock clock;
    private final ExecutorService executor;
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable afterFlush;
    private final Consumer<Throwable> onFailure;
    private final LongSupplier smallestSnapshot;
    private WritePipeline pipeline;
    private volatile boolean stopped;
    private long flushedBytes;

    /**
     * @param smallestSnapshot the oldest version a reader may read at (versions shadowed at or
     *        below it are left out of the tables)
     */
    Flusher(Storage storage, Options options, VersionSet versions, VersionClock clock, LongSupplier smallestSnapshot,
            Runnable afterFlush, Consumer<Throwable> onFailure) {
        this.smallestSnapshot = smallestSnapshot;
        this.storage = storage;
        this.options = options;
        this.versions = versions;
        this.clock = clock;
        this.afterFlush = afterFlush;
        this.onFailure = onFailure;
        this.executor = Executors.newSingleThreadExecutor(runnable -> {
            Thread thread = new Thread(runnable, "trainkv-flush");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Connects the pipeline whose memtables this flusher drains; called once before any flush. */
    void attach(WritePipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Makes sure a flush pass runs soon; cheap to call often. */
    void schedule() {
        if (!stopped && scheduled.compareAndSet(false, true)) {
            executor.execute(this::flushAll);
        }
    }

    synchronized long flushedBytes() {
        return flushedBytes;
    }

    private void flushAll() {
        scheduled.set(false);
        try {
            MemTable oldest;
            while (!stopped && (oldest = pipeline.oldestImmutable()) != null) {
                flush(oldest);
            }
        } catch (Throwable e) { // an Error too: nobody else would tell the writers waiting for this flush
            onFailure.accept(e);
            LOG.log(System.Logger.Level.ERROR, "flush failed; the database refuses writes until reopened", e);
        }
    }

    private void flush(MemTable memtable) throws IOException {
        VersionEdit edit = new VersionEdit();
        TableOutputs outputs = new TableOutputs(storage, versions::newFileNumber, options.targetFileSize(),
                options.blockSize(), options.bloomBitsPerKey());
        ObsoleteVersionFilter obsolete = new ObsoleteVersionFilter(smallestSnapshot.getAsLong(), 0, null);
        try {
            InternalIterator entries = memtable.iterator(false);
            for (entries.seekToFirst(); entries.valid(); entries.next()) {
                ValueStruct value = entries.value();
                if (!obsolete.drop(entries.keyBuffer(), entries.keyLength(), value)) {
                    outputs.add(entries.keyBuffer(), entries.keyLength(), value);
                }
            }
            for (TableMeta table : outputs.finish()) {
                edit.addTable(0, table);
            }
        } catch (IOException | RuntimeException | Error e) {
            outputs.abandon(e);
            throw e;
        }
        synchronized (this) {
            flushedBytes += outputs.bytesWritten();
        }
        obsolete.valueLogDiscard().forEach(edit::addValueLogDiscard);
        edit.logNumber(pipeline.walNumberAfter(memtable)).lastVersion(clock.last());
        versions.logAndApply(edit);
        String wal = FileNames.name(memtable.walNumber(), FileNames.Kind.WAL);
        versions.deleteAfterNextSnapshot(wal, storage.size(wal));
        // before the memtable leaves the pipeline, which wakes WritePipeline.flush(): a caller that
        // then waits for compaction and value-log GC finds the work this flush queued
        afterFlush.run();
        pipeline.removeFlushed(memtable);
    }

    /** Stops flushing after the current memtable (background work failed elsewhere). */
    void halt() {
        stopped = true;
    }

    /** Stops scheduling, lets a running flush finish and waits for the thread to end. */
    @Override
    public void close() {
        stopped = true;
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.MINUTES)) {
                LOG.log(System.Logger.Level.WARNING, "flush thread did not stop within 10 minutes");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
