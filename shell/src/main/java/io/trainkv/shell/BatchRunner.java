package io.trainkv.shell;

import java.io.BufferedReader;
import java.io.IOException;

/**
 * Runs a script line by line (batch mode): results to stdout, errors to stderr with their line
 * number; stops at the first failure unless told to continue.
 */
final class BatchRunner {

    private BatchRunner() {
    }

    /** Runs every line of {@code script}; returns 0 if all succeeded, 1 otherwise. */
    static int run(CommandInterpreter interpreter, BufferedReader script, String name, boolean continueOnError)
            throws IOException {
        int failures = 0;
        int lineNumber = 0;
        String line;
        try {
            while ((line = script.readLine()) != null) {
                lineNumber++;
                if (!interpreter.execute(line, name + ":" + lineNumber)) {
                    failures++;
                    if (!continueOnError) {
                        break;
                    }
                }
            }
        } catch (CommandInterpreter.ExitRequested exit) {
            // an explicit exit ends the script
        }
        interpreter.close();
        return failures == 0 ? 0 : 1;
    }
}
