package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** manifest-verify and manifest-dump find missing, truncated and orphan tables. */
class ManifestCommandTest {

    @TempDir
    Path tempDir;

    private static String[] run(String... args) {
        return ToolRun.of(args).asArray();
    }

    private static List<Path> tables(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".sst")).sorted().toList();
        }
    }

    @Test
    void aSoundDirectoryHasNoAbnormalitiesAndDamageIsListed() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).level0Triggers(100, 200, 300))) {
            for (int round = 0; round < 3; round++) {
                for (int i = 0; i < 200; i++) {
                    db.set("key-" + round + "-" + i, "v");
                }
                db.flush();
            }
        }
        String[] sound = run("manifest-verify", dir.toString());
        assertEquals("0", sound[0], sound[1]);
        assertTrue(sound[1].contains("3 live tables; abnormalities: 0"), sound[1]);
        String[] dump = run("manifest-dump", dir.toString());
        assertTrue(dump[1].contains("add    L0 table"), dump[1]);

        List<Path> tables = tables(dir);
        Files.delete(tables.get(0));
        try (FileChannel channel = FileChannel.open(tables.get(1), StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 10);
        }
        Files.write(dir.resolve("000999.sst"), new byte[] {1});
        String[] damaged = run("manifest-verify", dir.toString());
        assertEquals("1", damaged[0]);
        assertTrue(damaged[1].contains("missing: " + tables.get(0).getFileName()), damaged[1]);
        assertTrue(damaged[1].contains("truncated: " + tables.get(1).getFileName()), damaged[1]);
        assertTrue(damaged[1].contains("extra (orphan): 000999.sst"), damaged[1]);
        assertTrue(damaged[1].contains("abnormalities: 3"), damaged[1]);
        assertEquals("2", run("manifest-verify", tempDir.resolve("nothing").toString())[0]);
    }

    @Test
    void theDumpShowsTheDroppedDeletionWatermark() throws Exception {
        Path dir = tempDir.resolve("db");
        long deleteVersion;
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("a", "1");
            db.set("b", "2");
            db.flatten();
            db.delete("a");
            deleteVersion = db.stats().lastVersion();
            db.flatten();                                // the tombstone is merged into the bottom level and dropped
        }
        String[] dump = run("manifest-dump", dir.toString());
        assertEquals("0", dump[0], dump[1]);
        assertTrue(dump[1].contains("  compaction dropped deletions up to version " + deleteVersion), dump[1]);
        String[] json = run("manifest-dump", dir.toString(), "--json");
        assertTrue(json[1].contains("\"droppedDeletionVersion\":" + deleteVersion), json[1]);
    }
}
