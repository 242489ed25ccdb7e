package io.trainkv.shell;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** One line per engine log record: its level in words, the message, the cause in words, no stack trace. */
class LogLinesTest {

    @AfterEach
    void quietAgain() {
        LogLines.install(false);
    }

    @Test
    void aSevereRecordIsOneErrorLineWithItsCauseInWords() {
        LogRecord record = new LogRecord(Level.SEVERE, "flush failed; the database refuses writes until reopened");
        record.setThrown(new NoSuchFileException("000007.sst"));
        assertEquals("error: flush failed; the database refuses writes until reopened: no such file or directory: "
                + "000007.sst", LogLines.line(record));
    }

    @Test
    void infoIsPrintedOnlyWhenVerbose() {
        System.Logger log = System.getLogger("io.trainkv.LogLinesTest");
        assertEquals("warning: disk nearly full\n", captured(() -> {
            LogLines.install(false);
            log.log(System.Logger.Level.INFO, "deleted 3 files");
            log.log(System.Logger.Level.WARNING, "disk nearly full");
        }));
        assertEquals("info: deleted 3 files\n", captured(() -> {
            LogLines.install(true);
            log.log(System.Logger.Level.INFO, "deleted 3 files");
        }));
    }

    @Test
    void aRoutedLibraryLoggerPrintsItsWarningsAsOneLine() {
        java.util.logging.Logger library = java.util.logging.Logger.getLogger("org.example.consensus");
        assertEquals("warning: follower n2 is slow\n", captured(() -> {
            LogLines.route(library, false);
            java.util.logging.Logger.getLogger("org.example.consensus.server").info("elected n1");
            java.util.logging.Logger.getLogger("org.example.consensus.server").warning("follower n2 is slow");
        }));
    }

    private static String captured(Runnable action) {
        PrintStream old = System.err;
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try {
            System.setErr(new PrintStream(bytes, true, StandardCharsets.UTF_8));
            action.run();
        } finally {
            System.setErr(old);
        }
        return bytes.toString(StandardCharsets.UTF_8).replace(System.lineSeparator(), "\n");
    }
}
