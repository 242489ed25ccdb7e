package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** trainkv load recognises an export stream and applies its sets and deletes. */
class ExportLoadTest {

    @TempDir
    Path tempDir;

    @Test
    void loadsAChainOfExportsIncludingDeletes() throws Exception {
        Path source = tempDir.resolve("source");
        Path full = tempDir.resolve("full.tkvx");
        Path delta = tempDir.resolve("delta.tkvx");
        try (TrainKV db = TrainKV.open(Options.at(source))) {
            for (int i = 0; i < 3_000; i++) {
                db.set("key" + i, "value" + i);
            }
            long since;
            try (OutputStream out = Files.newOutputStream(full)) {
                since = db.export(out, 0);
            }
            db.delete("key7");
            db.set("key8", "changed");
            try (OutputStream out = Files.newOutputStream(delta)) {
                db.export(out, since);
            }
        }
        Path target = tempDir.resolve("target");
        ToolRun first = ToolRun.of("load", target.toString(), full.toString());
        assertEquals(0, first.code(), first.err());
        assertEquals("loaded 3000 records (sets and deletes) of versions (0, 3000] from " + full
                + "; export again with since 3000\n", first.out());
        ToolRun second = ToolRun.of("load", target.toString(), delta.toString(), "--format", "csv");
        assertEquals(0, second.code(), second.err());
        assertTrue(second.out().startsWith("loaded 2 records"), second.out());
        try (TrainKV db = TrainKV.open(Options.at(target))) {
            assertNull(db.get("key7"));
            assertEquals("changed", db.get("key8"));
            assertEquals("value2999", db.get("key2999"));
        }
    }

    @Test
    void aTruncatedExportIsDamageNamingTheOffset() throws Exception {
        Path source = tempDir.resolve("source");
        Path stream = tempDir.resolve("cut.tkvx");
        try (TrainKV db = TrainKV.open(Options.at(source)); OutputStream out = Files.newOutputStream(stream)) {
            for (int i = 0; i < 100; i++) {
                db.set("key" + i, "value" + i);
            }
            db.export(out, 0);
        }
        byte[] bytes = Files.readAllBytes(stream);
        Files.write(stream, Arrays.copyOf(bytes, bytes.length - 20));
        ToolRun load = ToolRun.of("load", tempDir.resolve("target").toString(), stream.toString());
        assertEquals(1, load.code(), load.err());
        assertTrue(load.err().contains(stream + " at offset "), load.err());
        assertTrue(load.err().contains("no end record"), load.err());
    }
}
