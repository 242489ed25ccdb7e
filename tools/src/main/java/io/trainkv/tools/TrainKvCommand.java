package io.trainkv.tools;

import io.trainkv.shell.LogLines;
import io.trainkv.shell.ShellCommand;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code trainkv} command: the entry point that groups the shell and, as they land, the
 * offline tools as subcommands. Without a subcommand it prints its usage.
 */
@Command(name = "trainkv", mixinStandardHelpOptions = true, version = "TrainKV 0.1.0",
        description = "TrainKV embedded key-value store: the shell and tools for a database directory.",
        subcommands = {ShellCommand.class, SstDumpCommand.class, WalCommand.Verify.class, WalCommand.Dump.class,
            ManifestCommand.Verify.class, ManifestCommand.Dump.class, VlogCommand.Verify.class, VlogCommand.Dump.class,
            CompactCommand.class, VlogGcCommand.class, LoadCommand.class, DumpCommand.class, CheckCommand.class})
public final class TrainKvCommand implements Runnable {

    /** The exit codes every subcommand's help ends with. */
    static final String EXIT_CODES = "Exit codes: 0 fine; 1 problems found (damage, bad input lines, a failed "
            + "command); 2 usage or I/O error, or a directory another process holds.";

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

    public static void main(String[] args) {
        System.exit(execute(args));
    }
}
