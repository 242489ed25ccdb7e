package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One owner per directory: a second opener fails at once with a clear message, in or out of process. */
class DirectoryLockTest {

    @TempDir
    Path tempDir;

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void aSecondOpenInTheSameJvmFailsUntilTheFirstCloses(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k", "v");
            DatabaseLockedException e = assertThrows(DatabaseLockedException.class, () -> TrainKV.open(Options.at(dir)));
            assertTrue(e.getMessage().contains("already open"), e.getMessage());
            assertEquals("v", db.get("k"), "the first owner is unaffected");
        }
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            assertEquals("v", db.get("k"));
        }
    }

    @Test
    void anotherProcessIsRefusedWhileTheDirectoryIsOpen() throws Exception {
        Path dir = tempDir.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir))) {
            db.set("k", "v");
            String answer = probe(dir);
            assertTrue(answer.startsWith("locked: ") && answer.contains("locked by another process"), answer);
        }
        assertEquals("opened", probe(dir));
    }

    private static String probe(Path dir) throws IOException, InterruptedException {
        Process child = ChildJvm.start(LockProbeMain.class, dir.toString());
        assertTrue(child.waitFor(2, TimeUnit.MINUTES), "the second opener must not block");
        return new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    }
}
