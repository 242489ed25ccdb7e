package io.trainkv.shell;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;

/**
 * Runs a script line by line (batch mode): results to stdout, errors to stderr with their line
 * number; stops at the first failure unless told to continue. A script that ends (or exits)
 * inside {@code begin} fails: the transaction is rolled back, nothing of it committed, and the
 * error names the line of its {@code begin}.
 */
final class BatchRunner {

    private BatchRunner() {
    }

    /**
     * Runs every line of {@code script}, then closes {@code interpreter}; returns 0 if all
     * succeeded, 1 otherwise (a command failed, the script could not be read to its end, or it
     * left a transaction open).
     */
    static int run(LineInterpreter interpreter, BufferedReader script, String name, boolean continueOnError) {
        PrintWriter err = interpreter.errors();
        int failures = 0;
        int lineNumber = 0;
        String ending = "the script ended";
        try {
            String line;
            while ((line = script.readLine()) != null) {
                lineNumber++;
                if (!interpreter.execute(line, name + ":" + lineNumber)) {
                    failures++;
                    if (!continueOnError) {
                        ending = "the script stopped at this error";
                        break;
                    }
                }
            }
        } catch (CommandInterpreter.ExitRequested exit) {
            ending = "exit";
        } catch (IOException e) {
            failures++;
            err.println(name + ":" + (lineNumber + 1) + ": error: cannot read: " + ErrorWords.reason(e));
        }
        if (interpreter.inTransaction()) {
            failures++;
            String begunAt = interpreter.transactionBegunAt();
            err.println(name + ":" + lineNumber + ": error: " + ending + " inside the transaction begun at "
                    + (begunAt != null ? begunAt : "the prompt") + "; it was rolled back: nothing of it was committed"
                    + " (end it with commit or rollback)");
        }
        err.flush();
        interpreter.close();
        return failures == 0 ? 0 : 1;
    }
}
