package io.trainkv.tools;

import java.util.List;
import org.jline.terminal.spi.SystemStream;
import org.jline.terminal.spi.TerminalProvider;

/**
 * Whether one standard stream of this process is a terminal. {@code System.console()} cannot say:
 * on Java 17 it exists only when standard input and standard output both are terminals, so
 * {@code trainkv load db > log} typed at a terminal would look like piped input, and
 * {@code trainkv dump db > x.tsv} would draw no progress bar. JLine (already here for the shell)
 * asks the system about one file descriptor: {@code isatty} through its native library, or
 * {@code test -t} where that library cannot load.
 */
final class Terminals {

    private static final List<String> PROVIDERS = List.of("jni", "exec");

    private Terminals() {
    }

    /** True if {@code stream} is a terminal; false if it is not or no JLine provider can tell. */
    static boolean isTerminal(SystemStream stream) {
        for (String provider : PROVIDERS) {
            try {
                return TerminalProvider.load(provider).isSystemStream(stream);
            } catch (Exception | LinkageError e) {
                // this provider cannot run here (no native library, no shell): ask the next one
            }
        }
        return false;
    }
}
