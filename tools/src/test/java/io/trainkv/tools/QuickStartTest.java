package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/QuickStart.java, the README's Java example, run as the README says: it uses a database
 * of its own, never the shell's default ./trainkv-data in the directory it is started from, and
 * prints no raw binary value to the terminal.
 */
class QuickStartTest {

    @TempDir
    Path tempDir;

    @Test
    void quickStartLeavesTheShellsDataAloneAndPrintsOnlyText() throws Exception {
        Path shellData = tempDir.resolve("trainkv-data");
        try (TrainKV db = TrainKV.open(Options.at(shellData))) {
            db.set("blob".getBytes(), new byte[] {0x00, (byte) 0xff, 0x1b, 0x0a, 0x41});
        }
        List<String> before = listing(shellData);
        String engineClasses = Path.of(TrainKV.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        Path script = Path.of("..", "scripts", "QuickStart.java").toAbsolutePath().normalize();
        Path output = tempDir.resolve("quickstart.out");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", engineClasses, script.toString())
                .directory(tempDir.toFile()).redirectErrorStream(true).redirectOutput(output.toFile()).start();
        assertTrue(process.waitFor(2, TimeUnit.MINUTES), "QuickStart ended");
        byte[] printed = Files.readAllBytes(output);
        String text = new String(printed, StandardCharsets.UTF_8);
        assertEquals(0, process.exitValue(), text);
        assertEquals(before, listing(shellData), "./trainkv-data was left as it was");
        try (TrainKV db = TrainKV.open(Options.at(shellData))) {
            assertEquals(null, db.get("answer"), "nothing of the quick start went into the shell's data");
        }
        assertTrue(text.contains("answer = 42") && text.contains("blob = 0x00ff0a41"), text);
        for (byte b : printed) {
            assertFalse(b != '\n' && (b & 0xff) < 0x20, "a control byte (0x" + Integer.toHexString(b) + ") printed raw: " + text);
        }
        try (Stream<Path> files = Files.list(tempDir)) {
            assertEquals(List.of("quickstart.out", "trainkv-data"),
                    files.map(f -> f.getFileName().toString()).sorted().toList(), "no other directory left behind");
        }
    }

    private static List<String> listing(Path dir) throws Exception {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).map(f -> {
                try {
                    return dir.relativize(f) + " " + Files.size(f) + " " + Files.getLastModifiedTime(f).toMillis();
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sorted().toList();
        }
    }
}
