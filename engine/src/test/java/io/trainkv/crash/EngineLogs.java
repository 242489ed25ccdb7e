package io.trainkv.crash;

import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns the engine's log records off while the crash tests run. Every crash makes recovery log a
 * torn tail it cut or the orphans it deleted, thousands of lines per run; a green test run must
 * print nothing, and a failure is reported by the harness with its seed and cycle instead. The
 * engine logs through {@code System.Logger}, which the JDK backs with java.util.logging under
 * the engine's class names, so the {@code io.trainkv} logger's level governs all of them.
 */
final class EngineLogs {

    /** Held so that java.util.logging, which keeps loggers weakly, does not drop the level set here. */
    private static final Logger ENGINE = Logger.getLogger("io.trainkv");

    private EngineLogs() {
    }

    /** Turns the engine's logging off; returns the level to give back to {@link #restore(Level)}. */
    static Level silence() {
        Level before = ENGINE.getLevel();
        ENGINE.setLevel(Level.OFF);
        return before;
    }

    /** Gives back the level {@link #silence()} returned (null: inherit from the root logger). */
    static void restore(Level level) {
        ENGINE.setLevel(level);
    }
}
