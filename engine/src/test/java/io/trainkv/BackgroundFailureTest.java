package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * An I/O error in the middle of a flush or compaction (the Nth write, fsync, create or rename of a
 * table, the manifest or CURRENT), then a reopen: every acknowledged write is there, no deleted key
 * comes back, and the database works again.
 */
class BackgroundFailureTest {

    @TempDir
    Path tempDir;

    static Stream<Arguments> faults() {
        Predicate<String> table = name -> FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0;
        Predicate<String> manifest = name -> FileNames.parseManifest(name) >= 0;
        Predicate<String> current = name -> name.equals(FileNames.CURRENT_TEMP);
        Predicate<String> any = name -> true;
        List<Arguments> cases = new ArrayList<>();
        for (int n : new int[] {1, 3, 8, 20, 45}) {
            cases.add(Arguments.of("table append #" + n, Op.APPEND, table, n));
            cases.add(Arguments.of("table fsync #" + n, Op.SYNC, table, n));
            cases.add(Arguments.of("table create #" + n, Op.CREATE, table, n));
            cases.add(Arguments.of("manifest append #" + n, Op.APPEND, manifest, n));
            cases.add(Arguments.of("manifest fsync #" + n, Op.SYNC, manifest, n));
            cases.add(Arguments.of("directory fsync #" + n, Op.SYNC_DIRECTORY, any, n));
        }
        cases.add(Arguments.of("CURRENT rename #1", Op.RENAME, current, 1));
        cases.add(Arguments.of("CURRENT fsync #1", Op.SYNC, current, 1));
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faults")
    void noAcknowledgedWriteIsLostAndNoDeleteIsUndone(String name, Op op, Predicate<String> files, int n)
            throws Exception {
        Path dir = tempDir.resolve("db");
        FaultInjectingStorage storage = new FaultInjectingStorage(NioStorage.open(dir));
        Map<String, String> model = new HashMap<>();
        String uncertainKey = null;
        String uncertainValue = null;
        Random random = new Random(n * 31L + op.ordinal());
        Options options = CompactionTest.smallTree(dir).storage(storage).manifestRewriteSize(4096);
        boolean failed = false;
        try (TrainKV db = TrainKV.open(options)) {
            storage.hook = FaultInjectingStorage.failNth(op, files, n);
            for (int i = 0; i < 45_000 && !failed; i++) {
                String key = "key-" + random.nextInt(3_000);
                String value = random.nextInt(5) == 0 ? null : "value-" + i + "-" + "x".repeat(random.nextInt(80));
                try {
                    if (value == null) {
                        db.delete(key);
                    } else {
                        db.set(key, value);
                    }
                    model.put(key, value);
                } catch (StorageException e) {
                    failed = true;
                    uncertainKey = key;
                    uncertainValue = value;
                }
                if (i % 15_000 == 14_999 && !failed) {
                    try {
                        db.flatten();
                    } catch (StorageException e) {
                        failed = true;
                    }
                }
            }
        } catch (StorageException e) {
            failed = true;
        }
        assertTrue(failed, name + ": the injected fault was reached");
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(dir))) {
            for (Map.Entry<String, String> e : model.entrySet()) {
                String actual = db.get(e.getKey());
                if (e.getKey().equals(uncertainKey)) {
                    assertTrue(actual == null ? e.getValue() == null || uncertainValue == null
                                    : actual.equals(e.getValue()) || actual.equals(uncertainValue),
                            name + ": " + e.getKey() + " is the acknowledged or the failed write, not " + actual);
                } else {
                    assertEquals(e.getValue(), actual, name + ": " + e.getKey());
                }
            }
            db.set("after", "reopen");
            db.flatten();
            assertEquals("reopen", db.get("after"));
        }
    }
}
