package io.trainkv.tools;

import io.trainkv.replication.ServerCommand;
import io.trainkv.shell.LogLines;
import io.trainkv.shell.ShellCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * The {@code trainkv} command: the entry point that groups the shell and, as they land, the
 * offline tools as subcommands. Without a subcommand it prints its usage.
 */
@Command(name = "trainkv", mixinStandardHelpOptions = true, version = "TrainKV 0.1.0",
        description = "TrainKV embedded key-value store: the shell and tools for a database directory.",
        subcommands = {ShellCommand.class, SstDumpCommand.class, WalCommand.Verify.class, WalCommand.Dump.class,
            ManifestCommand.Verify.class, ManifestCommand.Dump.class, VlogCommand.Verify.class, VlogCommand.Dump.class,
            CompactCommand.class, VlogGcCommand.class, LoadCommand.class, DumpCommand.class, CheckCommand.class,
            BackupCommand.Create.class, BackupCommand.Restore.class, BackupCommand.ListBackups.class,
            BackupCommand.Verify.class, TrainKvCommand.Bench.class, ServerCommand.class})
public final class TrainKvCommand implements Runnable {

    /**
     * {@code trainkv bench}: listed here so that {@code trainkv --help} names every subcommand. The
     * harness and its peer engines live in the bench module, outside this jar; scripts/trainkv sends
     * {@code bench} there, so this class only runs when the jar is started directly.
     */
    @Command(name = "bench", description = "The db_bench-style harness (see docs/benchmarks.md; run as scripts/trainkv bench).")
    static final class Bench implements Callable<Integer> {

        @Parameters(paramLabel = "ARGS", arity = "0..*", description = "Harness options (scripts/trainkv bench --help).")
        List<String> args;

        @Override
        public Integer call() {
            System.err.println("error: bench lives in the bench module, not in this jar: run scripts/trainkv bench");
            return 2;
        }
    }

    /** The exit codes every subcommand's help ends with. */
    static final String EXIT_CODES = "Exit codes: 0 ok, or tolerated (a torn tail a crash left, reported on a "
            + "warning: line with what an open drops); 1 damaged (or bad input lines, a failed command); 2 unusable: "
            + "a usage or I/O error, not a database, or a directory another process holds. --json says the same "
            + "in ok, exitCode and severity.";

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required");
    }

    /** Exit codes: 0 success, 1 problems found or a command failed, 2 usage or I/O error. */
    public static int execute(String... args) {
        LogLines.install(System.getenv("TRAINKV_DEBUG") != null);
        return commandLine(new PrintWriter(System.out, true, StandardCharsets.UTF_8),
                new PrintWriter(System.err, true, StandardCharsets.UTF_8)).execute(args);
    }

    /** The command line writing to {@code out} and {@code err} (tools that print through their spec use them). */
    static CommandLine commandLine(PrintWriter out, PrintWriter err) {
        CommandLine commandLine = new CommandLine(new TrainKvCommand());
        commandLine.setExitCodeExceptionMapper(e -> 2);
        commandLine.setParameterExceptionHandler(TrainKvCommand::usageError);
        commandLine.setExecutionExceptionHandler((e, cmd, parsed) -> {
            cmd.getErr().println("error: " + (e.getMessage() != null ? e.getMessage() : e.toString())
                    + (System.getenv("TRAINKV_DEBUG") == null ? " (unexpected " + e.getClass().getSimpleName()
                    + "; set TRAINKV_DEBUG=1 for the stack trace)" : ""));
            if (System.getenv("TRAINKV_DEBUG") != null) {
                e.printStackTrace(cmd.getErr());
            }
            return 2;
        });
        commandLine.setOut(out);
        commandLine.setErr(err);
        for (CommandLine sub : commandLine.getSubcommands().values()) {
            if (sub.getCommandSpec().usageMessage().footer().length == 0) {
                sub.getCommandSpec().usageMessage().footer("", EXIT_CODES);
            }
        }
        return commandLine;
    }

    /**
     * Prints a usage error as one line naming the help to read (an unknown subcommand with the
     * nearest one, when picocli finds one) instead of the message and the whole usage text.
     *
     * @return 2, the exit code of a usage error
     */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        String help = cmd.getCommandSpec().qualifiedName() + " --help";
        String message = e.getMessage();
        if (e instanceof CommandLine.UnmatchedArgumentException unmatched && cmd.getParent() == null
                && !unmatched.getUnmatched().isEmpty() && !unmatched.getUnmatched().get(0).startsWith("-")) {
            List<String> suggestions = unmatched.getSuggestions();
            message = "unknown command '" + unmatched.getUnmatched().get(0) + "'"
                    + (suggestions.isEmpty() ? "" : " (did you mean " + suggestions.get(0) + "?)");
        }
        cmd.getErr().println("error: " + message + " (see " + help + ")");
        return 2;
    }

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
