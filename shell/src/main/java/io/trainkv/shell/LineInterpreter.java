package io.trainkv.shell;

import java.io.PrintWriter;

/**
 * What the batch runner and the prompt drive: one command line at a time, against a local
 * database ({@link CommandInterpreter}) or a cluster ({@link ClusterInterpreter}).
 */
abstract class LineInterpreter implements AutoCloseable {

    /**
     * Runs one line; returns false (after printing the reason to {@link #errors()}, prefixed by
     * {@code where}) if it failed.
     *
     * @throws CommandInterpreter.ExitRequested on exit or quit
     */
    abstract boolean execute(String line, String where);

    abstract boolean inTransaction();

    /** Where the open transaction began ({@code file:line}), or null. */
    abstract String transactionBegunAt();

    /** Where errors go. */
    abstract PrintWriter errors();

    /** Ends an open transaction (discarding it) and writes anything buffered. */
    @Override
    public abstract void close();
}
