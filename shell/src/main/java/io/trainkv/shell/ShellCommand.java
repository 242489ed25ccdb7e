package io.trainkv.shell;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
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
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv shell}: opens a database and runs the interactive REPL on a terminal, or a script
 * (batch mode) from {@code --file} or from standard input when it is not a terminal. Exit codes:
 * 0 success, 1 a command failed, 2 usage error or the database could not be opened. Arguments and
 * the script are checked before the database is opened, so a command that fails before it starts
 * creates nothing on disk.
 */
@Command(name = "shell", mixinStandardHelpOptions = true, version = "TrainKV shell 0.1.0",
        description = "Interactive shell and script runner for a TrainKV database directory.")
public final class ShellCommand implements Callable<Integer> {

    /** The database directory when {@code --db} is not given; the only one created without {@code --create}. */
    static final Path DEFAULT_DIRECTORY = Path.of("trainkv-data");

    @Spec
    CommandSpec spec;

    @Option(names = "--db", paramLabel = "DIR",
            description = "Database directory; it must exist unless --create. Default: ./trainkv-data (created if missing).")
    Path directory;

    @Option(names = "--create", description = "Create the database directory if it does not exist (its parent must).")
    boolean create;

    @Option(names = "--read-only", description = "Open the database read-only: commands that write are refused.")
    boolean readOnly;

    @Option(names = "--file", paramLabel = "SCRIPT", description = "Run the commands in SCRIPT instead of the REPL.")
    Path script;

    @Option(names = "--continue-on-error", description = "In batch mode, run the remaining lines after a failure.")
    boolean continueOnError;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "1000",
            description = "In batch mode, group consecutive sets into write batches of N (N >= 1). Default: ${DEFAULT-VALUE}")
    int batchSize;

    @Option(names = "--echo", description = "In batch mode, print each command and its acknowledgement (OK, BEGIN, "
            + "COMMIT ...) as the REPL does; without it only results (get, scan, count ...) and errors are printed.")
    boolean echo;

    @Option(names = "--debug", description = "Print stack traces of unexpected errors.")
    boolean debug;

    @Option(names = "--cluster", paramLabel = "ID=HOST:PORT,...",
            description = "Connect to a replicated cluster (trainkv server) instead of opening a directory.")
    String cluster;

    /** Standard input for batch mode (tests replace it). */
    InputStream stdin = System.in;

    /** Whether standard input is a terminal, which makes the shell interactive without --file. */
    boolean terminal = System.console() != null;

    @Override
    public Integer call() throws IOException {
        LogLines.install(debug);
        PrintWriter err = spec.commandLine().getErr();
        String problem = checkArguments();
        if (problem != null) {
            err.println("error: " + problem);
            err.flush();
            return 2;
        }
        BufferedReader in = null;
        if (script != null) {
            try {
                in = Files.newBufferedReader(script);
            } catch (IOException e) {
                return failed(err, "cannot read script " + script + ": " + ErrorWords.reason(e), e);
            }
        } else if (!terminal) {
            in = new BufferedReader(new InputStreamReader(stdin, StandardCharsets.UTF_8));
        }
        if (cluster != null) {
            return ClusterSession.run(this, in, err);
        }
        Path dir = directory != null ? directory : DEFAULT_DIRECTORY;
        TrainKV db;
        try {
            db = TrainKV.open(Options.at(dir).readOnly(readOnly));
        } catch (TrainKVException e) {
            closeQuietly(in);
            return failed(err, "cannot open " + dir + ": " + ErrorWords.of(e), e);
        }
        try (db) {
            if (in != null) {
                PrintWriter out = new PrintWriter(spec.commandLine().getOut(), false); // flushed at the end, not per line
                // read-only: no grouping, so a refused set is reported at its own line
                CommandInterpreter interpreter = new CommandInterpreter(db, out, err, readOnly ? 1 : batchSize,
                        echo ? CommandInterpreter.Output.ECHO : CommandInterpreter.Output.QUIET);
                try (BufferedReader lines = in) {
                    int code = BatchRunner.run(interpreter, lines, script != null ? script.toString() : "stdin",
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
            return failed(err, ErrorWords.of(e), e);
        }
    }

    /** The first problem with the options and the paths they name, in words, or null. */
    private String checkArguments() {
        if (cluster != null && (directory != null || create || readOnly)) {
            return "--cluster connects to servers: --db, --create and --read-only do not apply";
        }
        if (batchSize < 1) {
            return "--batch-size must be at least 1, got " + batchSize;
        }
        if (create && readOnly) {
            return "--create and --read-only cannot be used together (a read-only open creates nothing)";
        }
        if (script != null) {
            if (!Files.exists(script)) {
                return "cannot read script " + script + ": no such file";
            }
            if (Files.isDirectory(script)) {
                return "cannot read script " + script + ": it is a directory, not a file";
            }
        }
        if (directory == null) {
            return null;
        }
        if (Files.exists(directory) && !Files.isDirectory(directory)) {
            return "--db " + directory + " is a file, not a directory";
        }
        if (!Files.exists(directory)) {
            if (!create) {
                return "database directory " + directory + " does not exist (pass --create to create it)";
            }
            Path parent = directory.toAbsolutePath().normalize().getParent();
            if (parent != null && !Files.isDirectory(parent)) {
                return "cannot create " + directory + ": its parent " + parent
                        + " does not exist (--create makes only the last directory)";
            }
        }
        return null;
    }

    int failed(PrintWriter err, String message, Throwable e) {
        err.println("error: " + message);
        if (debug) {
            e.printStackTrace(err);
        }
        err.flush();
        return 2;
    }

    static void closeQuietly(BufferedReader in) {
        if (in != null) {
            try {
                in.close();
            } catch (IOException e) {
                // nothing was read; the open failure is the error to report
            }
        }
    }

    /** The shell's command line: exit code 2 and one error line for a bad option. */
    static CommandLine commandLine(ShellCommand command) {
        CommandLine commandLine = new CommandLine(command);
        commandLine.setExitCodeExceptionMapper(e -> 2);
        commandLine.setParameterExceptionHandler((e, args) -> {
            e.getCommandLine().getErr().println("error: " + e.getMessage() + " (see --help)");
            e.getCommandLine().getErr().flush();
            return 2;
        });
        return commandLine;
    }

    public static void main(String[] args) {
        System.exit(commandLine(new ShellCommand()).execute(args));
    }
}
