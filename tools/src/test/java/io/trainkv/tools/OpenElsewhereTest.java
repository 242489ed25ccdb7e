package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every tool refuses, with exit 2 and a clear message, a database another process has open. */
class OpenElsewhereTest {

    @TempDir
    Path tempDir;

    /** Holds a database open until its standard input closes. */
    public static final class HoldOpen {
        public static void main(String[] args) throws Exception {
            try (TrainKV db = TrainKV.open(Options.at(Path.of(args[0])))) {
                System.out.println("open");
                System.out.flush();
                while (System.in.read() >= 0) {
                    continue;
                }
            }
        }
    }

    @Test
    void everyToolRefusesADatabaseOpenInAnotherProcess() throws Exception {
        Path db = tempDir.resolve("db");
        try (TrainKV opened = TrainKV.open(Options.at(db).valueThreshold(16))) {
            opened.set("key", "a value for the value log");
            opened.flush();
        }
        Path table;
        try (Stream<Path> files = Files.list(db)) {
            table = files.filter(p -> p.toString().endsWith(".sst")).findFirst().orElseThrow();
        }
        Path input = tempDir.resolve("in.tsv");
        Files.writeString(input, "k\tv\n");
        Process holder = new ProcessBuilder(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java",
                "-cp", System.getProperty("java.class.path"), HoldOpen.class.getName(), db.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try {
            BufferedReader fromHolder = new BufferedReader(new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8));
            assertEquals("open", fromHolder.readLine(), "the other process opened the database");
            String dir = db.toString();
            List<String[]> tools = List.of(new String[] {"sstdump", dir}, new String[] {"sstdump", table.toString()},
                    new String[] {"manifest-verify", dir}, new String[] {"manifest-dump", dir},
                    new String[] {"wal-verify", dir}, new String[] {"wal-dump", dir},
                    new String[] {"vlog-verify", dir}, new String[] {"vlog-dump", dir}, new String[] {"check", dir},
                    new String[] {"compact", dir}, new String[] {"vlog-gc", dir}, new String[] {"dump", dir},
                    new String[] {"load", dir, input.toString()});
            for (String[] tool : tools) {
                ToolRun run = ToolRun.of(tool);
                assertEquals(2, run.code(), String.join(" ", tool) + ": " + run.out() + run.err());
                assertTrue(run.err().contains("close it first"), String.join(" ", tool) + ": " + run.err());
            }
        } finally {
            holder.getOutputStream().close();
            assertTrue(holder.waitFor(60, TimeUnit.SECONDS), "the holder exits when its input closes");
        }
        try (TrainKV reopened = TrainKV.open(Options.at(db))) {
            assertEquals("a value for the value log", reopened.get("key"));
            assertEquals(null, reopened.get("k"), "load wrote nothing");
        }
    }
}
