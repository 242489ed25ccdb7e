package io.trainkv.compaction;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trainkv.manifest.TableMeta;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.manifest.VersionSet;
import io.trainkv.sstable.TableOutputs;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.Storage;
import io.trainkv.txn.SnapshotRegistry;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Compactor#awaitIdle()} returns only after a finished compaction's progress callback has
 * run: the callback queues the follow-up work (value-log GC of the discards the compaction
 * recorded), and a caller that waits for compaction and then for GC must find it queued. Found
 * as a flaky {@code ValueLogGcTriggerTest}: under load, {@code waitForCompactions()} returned in
 * the gap between the last compaction's release and its callback, so the GC it would have
 * queued ran only during close.
 */
class CompactorIdleTest {

    @TempDir
    Path dir;

    @Test
    void awaitIdleWaitsForTheProgressCallbackOfTheLastCompaction() throws Exception {
        Storage storage = NioStorage.open(dir);
        VersionSet versions = VersionSet.open(storage, 8, false, 1 << 20, 1, 1 << 20, null, null, null, false);
        try {
            addLevel0Table(storage, versions, "a", 2);
            addLevel0Table(storage, versions, "a", 3);
            CountDownLatch callbackEntered = new CountDownLatch(1);
            CountDownLatch callbackMayReturn = new CountDownLatch(1);
            Runnable onProgress = () -> {
                callbackEntered.countDown();
                try {
                    callbackMayReturn.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            };
            CompactionSettings settings = new CompactionSettings(1, 1 << 20, 10, 100, 1 << 20, 4096, 10);
            try (Compactor compactor = new Compactor(storage, versions, new SnapshotRegistry(() -> 3), Clock.systemUTC(),
                    settings, onProgress, e -> { })) {
                Thread forced = new Thread(() -> {
                    try {
                        compactor.compactRange(null, null);
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                });
                forced.start();
                Thread.State state;
                Thread waiter = new Thread(compactor::awaitIdle);
                try {
                    callbackEntered.await();
                    waiter.start();
                    while ((state = waiter.getState()) != Thread.State.WAITING && state != Thread.State.TERMINATED) {
                        Thread.onSpinWait();
                    }
                } finally {
                    callbackMayReturn.countDown();
                }
                waiter.join();
                forced.join();
                assertEquals(Thread.State.WAITING, state,
                        "awaitIdle() returned while the compaction's progress callback was still running");
                assertEquals(1, compactor.completed());
            }
        } finally {
            versions.close();
        }
    }

    /** Writes a level-0 table of one key at {@code version} and installs it. */
    private static void addLevel0Table(Storage storage, VersionSet versions, String key, long version)
            throws IOException {
        TableOutputs outputs = new TableOutputs(storage, versions::newFileNumber, 1 << 20, 4096, 10);
        byte[] internalKey = KeyFormat.encode(key.getBytes(StandardCharsets.UTF_8), version);
        outputs.add(internalKey, internalKey.length, new ValueStruct(version, (byte) 0, (byte) 0,
                ValueStruct.NO_EXPIRY, new byte[] {(byte) version}));
        VersionEdit edit = new VersionEdit().lastVersion(version);
        for (TableMeta table : outputs.finish()) {
            edit.addTable(0, table);
        }
        versions.logAndApply(edit);
    }
}
