package io.trainkv.shell;

import io.trainkv.TrainKVException;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.ServiceLoader;
import org.jline.reader.EndOfFileException;
import org.jline.reader.LineReader;
import org.jline.reader.LineReaderBuilder;
import org.jline.reader.UserInterruptException;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;

/**
 * {@code trainkv shell --cluster PEERS}: finds the cluster connector (the replication module's,
 * through {@link ServiceLoader}), then runs a script with the batch runner or a plain prompt.
 */
final class ClusterSession {

    private ClusterSession() {
    }

    /** Exit code 0, 1 (a command failed), or 2 (no connector in this jar, bad peers). */
    static int run(ShellCommand command, BufferedReader script, PrintWriter err) throws IOException {
        Iterator<ClusterStore.Connector> connectors = ServiceLoader.load(ClusterStore.Connector.class).iterator();
        if (!connectors.hasNext()) {
            ShellCommand.closeQuietly(script);
            return command.failed(err, "this jar has no cluster client: run scripts/trainkv shell --cluster ...",
                    new IllegalStateException("no " + ClusterStore.Connector.class.getName()));
        }
        ClusterStore store;
        try {
            store = connectors.next().connect(command.cluster);
        } catch (IllegalArgumentException | TrainKVException e) {
            ShellCommand.closeQuietly(script);
            return command.failed(err, "--cluster " + command.cluster + ": " + e.getMessage(), e);
        }
        if (script != null) {
            PrintWriter out = new PrintWriter(command.spec.commandLine().getOut(), false);
            ClusterInterpreter interpreter = new ClusterInterpreter(store, out, err, command.echo);
            try (BufferedReader lines = script) {
                int code = BatchRunner.run(interpreter, lines, command.script != null ? command.script.toString() : "stdin",
                        command.continueOnError);
                out.flush();
                return code;
            }
        }
        try (Terminal terminal = TerminalBuilder.builder().system(true).encoding(StandardCharsets.UTF_8).build();
                ClusterInterpreter interpreter = new ClusterInterpreter(store, terminal.writer(), terminal.writer(), true)) {
            LineReader reader = LineReaderBuilder.builder().terminal(terminal).build();
            while (true) {
                String line;
                try {
                    line = reader.readLine(interpreter.inTransaction() ? "cluster(txn)> " : "cluster> ");
                } catch (UserInterruptException e) {
                    continue;
                } catch (EndOfFileException e) {
                    return 0;
                }
                try {
                    interpreter.execute(line, null);
                } catch (CommandInterpreter.ExitRequested e) {
                    return 0;
                }
                terminal.writer().flush();
            }
        }
    }
}
