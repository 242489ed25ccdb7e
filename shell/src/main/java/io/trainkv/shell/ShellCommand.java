package io.trainkv.shell;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code trainkv shell}: opens a database and runs the interactive REPL on a terminal, or a script
 * (batch mode) from {@code --file} or from standard input when it is not a terminal. Exit codes:
 * 0 success, 1 a command failed, 2 usage error or the database could not be opened.
 */
@Command(name = "shell", mixinStandardHelpOptions = true, version = "TrainKV shell 0.1.0",
        description = "Interactive shell and script runner for a TrainKV database directory.")
public final class ShellCommand implements Callable<Integer> {

    @Option(names = "--db", paramLabel = "DIR", defaultValue = "trainkv-data",
            description = "Database directory (created if missing). Default: ${DEFAULT-VALUE}")
    Path directory;

    @Option(names = "--file", paramLabel = "SCRIPT", description = "Run the commands in SCRIPT instead of the REPL.")
    Path script;

    @Option(names = "--continue-on-error", description = "In batch mode, run the remaining lines after a failure.")
    boolean continueOnError;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1000",
            description = "In batch mode, group consecutive sets into write batches of N. Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--debug", description = "Print stack traces of unexpected errors.")
    boolean debug;

    @Override
    public Integer call() throws IOException {
        if (!debug) {
            java.util.logging.Logger.getLogger("").setLevel(java.util.logging.Level.WARNING);
        }
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        TrainKV db;
        try {
            db = TrainKV.open(Options.at(directory));
        } catch (TrainKVException e) {
            err.println("error: cannot open " + directory + ": " + e.getMessage());
            if (debug) {
                e.printStackTrace(err);
            }
            return 2;
        }
        try (db) {
            if (script != null || System.console() == null) {
                PrintWriter out = new PrintWriter(System.out, false, StandardCharsets.UTF_8);
                CommandInterpreter interpreter = new CommandInterpreter(db, out, err, batchSize);
                try (BufferedReader in = script != null ? Files.newBufferedReader(script)
                        : new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                    int code = BatchRunner.run(interpreter, in, script != null ? script.toString() : "stdin",
                            continueOnError);
                    out.flush();
                    return code;
                }
            }
            try (Terminal terminal = TerminalBuilder.builder().system(true).encoding(StandardCharsets.UTF_8).build()) {
                Repl.run(db, terminal, Path.of(System.getProperty("user.home"), ".trainkv_history"));
            }
            return 0;
        } catch (RuntimeException e) {
            err.println("error: " + e.getMessage());
            if (debug) {
                e.printStackTrace(err);
            }
            return 2;
        }
    }

    public static void main(String[] args) {
        CommandLine commandLine = new CommandLine(new ShellCommand());
        commandLine.setExitCodeExceptionMapper(e -> 2);
        System.exit(commandLine.execute(args));
    }
}
