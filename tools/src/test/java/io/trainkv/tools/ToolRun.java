package io.trainkv.tools;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.IntSupplier;
import picocli.CommandLine;

/** Runs the trainkv command in-process and captures its exit code, standard output and standard error. */
record ToolRun(int code, String out, String err) {

    static ToolRun of(String... args) {
        return run(() -> TrainKvCommand.execute(args));
    }

    /**
     * Runs one subcommand object the test has set up (a field a person cannot set from the command
     * line, such as whether standard input is a terminal) with {@code args}.
     */
    static ToolRun ofCommand(Object command, String... args) {
        return run(() -> new CommandLine(command).execute(args));
    }

    private static ToolRun run(IntSupplier command) {
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
            int code = command.getAsInt();
            return new ToolRun(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
    }

    /** The old shape the tests use: {exit code, stdout, stderr}. */
    String[] asArray() {
        return new String[] {Integer.toString(code), out, err};
    }
}
