package io.trainkv.wal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.WriteBatch;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.vlog.ValuePointerCheck;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When replay drops the newest WAL from a batch whose value a crash left unwritten, it reports the
 * records and keys it drops; the keys are counted from the batch headers of every record after
 * the batch, in whichever WAL encoding they are.
 */
class DroppedTailCountTest {

    @TempDir
    Path dir;

    @Test
    void theKeysOfEveryDroppedRecordAreCounted() throws IOException {
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a".getBytes(), new byte[4096]); // to the value log
            WriteBatch three = new WriteBatch();
            for (int i = 0; i < 3; i++) {
                three.set("b" + i, "small");
            }
            db.write(three);
            db.set("c", "small");
        }
        NioStorage storage = NioStorage.open(dir);
        List<String> names = storage.list();
        List<Long> wals = FileNames.numbers(names, FileNames.Kind.WAL, 0);
        List<Long> valueLogs = FileNames.numbers(names, FileNames.Kind.VALUE_LOG, 0);
        String wal = FileNames.name(wals.get(wals.size() - 1), FileNames.Kind.WAL);
        // close() ended the WAL with a durable mark covering a's value: without it, a cut value log is a torn write
        truncate(dir.resolve(wal), storage.size(wal) - WalFormat.DURABLE_MARK_RECORD_SIZE);
        truncate(dir.resolve(FileNames.name(valueLogs.get(0), FileNames.Kind.VALUE_LOG)), 3000);

        WalReplay.Result result;
        try (ValuePointerCheck check = new ValuePointerCheck(storage, valueLogs, Set.of(), null)) {
            result = WalReplay.replay(storage, wals, check, Set.of());
        }
        WalReplay.TornTail torn = result.tornTail();
        assertNotNull(torn, "the batch of a is dropped");
        assertEquals(3, torn.records(), torn.dropped());
        assertEquals(1 + 3 + 1, torn.entries(), torn.dropped());
    }

    private static void truncate(Path file, long size) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(size);
        }
    }
}
