package io.trainkv.bench.db;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs one workload on one engine in a child JVM with this process's class path and the
 * configured heap cap, so that peak memory and {@code /proc/self/io} belong to that engine alone.
 * The child's progress line (drawn only on a terminal) goes straight to this process's standard error; its result comes back
 * as one JSON line on its standard output, also when the engine failed (the result then says why,
 * and the run goes on with the next engine).
 */
final class ChildProcess {

    private ChildProcess() {
    }

    static Result run(BenchConfig config, Workload workload, EngineKind engine) throws InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx" + config.heap(),
                "-D" + Progress.TERMINAL_PROPERTY + "=" + Progress.onTerminal(),
                "-cp", System.getProperty("java.class.path"),
                DbBench.class.getName()));
        command.addAll(config.childArgs(workload, engine));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start a child JVM: " + command, e);
        }
        Result result = null;
        try (BufferedReader out = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith("{")) {
                    result = Result.fromJson(line);
                } else {
                    System.err.println(line);
                }
            }
        } catch (IOException e) {
            process.destroyForcibly();
            throw new UncheckedIOException("lost the output of the child running " + workload.id() + " on " + engine.id(), e);
        }
        int exit = process.waitFor();
        if (result == null || (exit != 0) == result.ran()) {
            throw new IllegalStateException("the child JVM running " + workload.id() + " on " + engine.id()
                    + " exited with " + exit + (result == null ? " and no result" : " and result " + result));
        }
        return result;
    }
}
