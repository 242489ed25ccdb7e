package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every tool checks its arguments before it opens or writes anything: a bad range, ratio, limit,
 * format, encoding or option combination is exit 2 with one {@code error:} line in words (no
 * stack trace, no usage text), nothing on standard output, and the database directory byte for
 * byte as it was (no lock file, WAL, value-log file or manifest rewrite an open would leave).
 */
class ArgumentsFirstTest {

    @TempDir
    static Path shared;

    private static Path dir;
    private static Path existingOutput;

    @BeforeAll
    static void build() throws Exception {
        dir = shared.resolve("db");
        try (TrainKV db = TrainKV.open(Options.at(dir).valueThreshold(100))) {
            for (int i = 0; i < 20; i++) {
                db.set("key-" + i, "value-" + i);
            }
            db.set("big".getBytes(), new byte[1000]);
            db.flush();
        }
        existingOutput = shared.resolve("out.tsv");
        Files.writeString(existingOutput, "keep me\n");
    }

    static List<List<String>> badArguments() {
        return List.of(
                List.of("vlog-gc", "DIR", "--ratio", "1.5"),
                List.of("vlog-gc", "DIR", "--ratio", "0"),
                List.of("vlog-gc", "DIR", "--ratio", "half"),
                List.of("vlog-gc", "DIR", "--files", "1", "--sample-only"),
                List.of("compact", "DIR", "--from", "z", "--to", "a"),
                List.of("compact", "DIR", "--inclusive"),
                List.of("dump", "DIR", "--from", "z", "--to", "a"),
                List.of("dump", "DIR", "--format", "xml"),
                List.of("dump", "DIR", "--encoding", "rot13"),
                List.of("dump", "DIR", "-o", "OUT"),
                List.of("sstdump", "DIR", "--limit", "-1"),
                List.of("sstdump", "DIR", "--command", "nope"),
                List.of("sstdump", "DIR", "--command", "verify", "--from", "a"),
                List.of("wal-verify", "DIR", "--bogus"),
                List.of("vlog-verify", "DIR", "--limit", "3"),
                List.of("check", "DIR", "DIR"),
                List.of("load", "DIR", "OUT", "--batch-size", "0"));
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("badArguments")
    void badArgumentsAreOneLineAndTouchNothing(List<String> template) throws Exception {
        String[] args = template.stream().map(a -> a.equals("DIR") ? dir.toString()
                : a.equals("OUT") ? existingOutput.toString() : a).toArray(String[]::new);
        Map<String, byte[]> before = snapshot(dir);
        ToolRun run = ToolRun.of(args);
        String shown = String.join(" ", template) + " -> " + run.code() + "\n" + run.err();
        assertEquals(2, run.code(), shown);
        assertEquals("", run.out(), shown);
        List<String> lines = run.err().lines().toList();
        assertEquals(1, lines.size(), shown);
        assertTrue(lines.get(0).startsWith("error: ") && !lines.get(0).contains("Exception"), shown);
        Map<String, byte[]> after = snapshot(dir);
        assertEquals(before.keySet(), after.keySet(), shown);
        before.forEach((name, bytes) -> assertTrue(Arrays.equals(bytes, after.get(name)), name + ": " + shown));
        assertEquals("keep me\n", Files.readString(existingOutput));
    }

    /**
     * A usage error is reported as such even when the directory is not a database: the arguments
     * are checked before the directory is looked at.
     */
    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("badArguments")
    void theArgumentsAreCheckedBeforeTheDirectory(List<String> template) throws Exception {
        Path empty = Files.createDirectories(shared.resolve("empty"));
        String[] args = template.stream().map(a -> a.equals("DIR") ? empty.toString()
                : a.equals("OUT") ? existingOutput.toString() : a).toArray(String[]::new);
        ToolRun run = ToolRun.of(args);
        String shown = String.join(" ", template) + " -> " + run.code() + "\n" + run.err();
        assertEquals(2, run.code(), shown);
        assertTrue(!run.err().contains("not a TrainKV database"), shown);
        assertEquals(List.of(), names(empty), shown);
    }

    private static Map<String, byte[]> snapshot(Path directory) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        for (String name : names(directory)) {
            files.put(name, Files.readAllBytes(directory.resolve(name)));
        }
        return files;
    }

    private static List<String> names(Path directory) throws IOException {
        try (Stream<Path> files = Files.list(directory)) {
            return new ArrayList<>(files.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
