package io.trainkv.shell;

import java.io.PrintWriter;
import java.util.List;

/**
 * What the batch runner and the prompt drive: one command line at a time, against a local
 * database ({@link CommandInterpreter}) or a cluster ({@link ClusterInterpreter}).
 */
abstract class LineInterpreter implements AutoCloseable {

    /**
     * Runs one line; returns false (after printing the reason to {@link #errors()}, prefixed by
     * {@code where}) if it failed. A blank line does nothing; a line that does not split into words
     * fails before any command runs.
     *
     * @throws CommandInterpreter.ExitRequested on exit or quit
     */
    final boolean execute(String line, String where) {
        beforeLine(line);
        List<Tokenizer.Word> words;
        try {
            words = Tokenizer.split(line);
        } catch (IllegalArgumentException e) {
            return fail(where, e.getMessage());
        }
        if (words.isEmpty()) {
            return true;
        }
        return run(words.get(0).text(), words.subList(1, words.size()), where);
    }

    /** Called with every line before it is split; does nothing unless an interpreter echoes lines. */
    void beforeLine(String line) {
    }

    /**
     * Runs command {@code name} (as typed) with {@code args}; returns false after printing the
     * reason through {@link #fail} if it failed.
     *
     * @throws CommandInterpreter.ExitRequested on exit or quit
     */
    abstract boolean run(String name, List<Tokenizer.Word> args, String where);

    /** Prints {@code where: error: message} to {@link #errors()}; returns false. */
    final boolean fail(String where, String message) {
        PrintWriter err = errors();
        err.println((where == null ? "" : where + ": ") + "error: " + message);
        err.flush();
        return false;
    }

    abstract boolean inTransaction();

    /** Where the open transaction began ({@code file:line}), or null. */
    abstract String transactionBegunAt();

    /** Where errors go. */
    abstract PrintWriter errors();

    /** Ends an open transaction (discarding it) and writes anything buffered. */
    @Override
    public abstract void close();
}
