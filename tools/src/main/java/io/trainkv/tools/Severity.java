package io.trainkv.tools;

import io.trainkv.CorruptionException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one verdict model of every trainkv tool, so that a person (and a script) reads the same
 * answer from each: what the tool found is {@link #OK}, {@link #TOLERATED} (sound for the engine,
 * but something a crash left behind is reported with what it costs, on a {@code warning:} line),
 * {@link #DAMAGED} or {@link #UNUSABLE} (the tool could not look: a usage error, an I/O error, a
 * directory that is not a database or that another process holds). Each maps to one exit code and
 * one word; a tool's {@code --json} output carries the same three fields ({@link #addTo}).
 */
enum Severity {
    /** Nothing wrong found. Exit 0. */
    OK(0, "ok"),
    /** Sound for the engine, with a reported loss a crash explains (a torn tail). Exit 0, a warning line. */
    TOLERATED(0, "tolerated"),
    /** Damage found: the engine refuses or cannot read something. Exit 1. */
    DAMAGED(1, "damaged"),
    /** The tool could not inspect or work on the target at all. Exit 2. */
    UNUSABLE(2, "unusable");

    private final int exitCode;
    private final String word;

    Severity(int exitCode, String word) {
        this.exitCode = exitCode;
        this.word = word;
    }

    /** The process exit code: 0, 0, 1, 2. */
    int exitCode() {
        return exitCode;
    }

    /** The word printed in text and as {@code "severity"} in JSON. */
    String word() {
        return word;
    }

    /** Whether the engine can use what was inspected as it is ({@link #OK} or {@link #TOLERATED}). */
    boolean ok() {
        return this == OK || this == TOLERATED;
    }

    /** The worse of this and {@code other}. */
    Severity and(Severity other) {
        return other.ordinal() > ordinal() ? other : this;
    }

    /**
     * The severity a tool's exit code stands for, for tools that run other tools ({@code check}):
     * 0 is {@link #OK} (the other tool reports a tolerated finding itself), 1 damaged, anything
     * else unusable.
     */
    static Severity ofExitCode(int exitCode) {
        return exitCode == 0 ? OK : exitCode == 1 ? DAMAGED : UNUSABLE;
    }

    /**
     * The severity of an exception from the engine a tool that opens the database got: a
     * {@link CorruptionException} is damage, anything else (the directory is held, an I/O error)
     * makes the database unusable for the tool.
     */
    static Severity of(RuntimeException failure) {
        return failure instanceof CorruptionException ? DAMAGED : UNUSABLE;
    }

    /**
     * {@code json}, a tool's JSON object, with {@code "ok"}, {@code "exitCode"} and
     * {@code "severity"} after its first member (the file or directory it is about).
     */
    Map<String, Object> addTo(Map<String, Object> json) {
        Map<String, Object> result = new LinkedHashMap<>();
        for (Map.Entry<String, Object> member : json.entrySet()) {
            result.put(member.getKey(), member.getValue());
            if (result.size() == 1) {
                result.put("ok", ok());
                result.put("exitCode", exitCode);
                result.put("severity", word);
            }
        }
        return result;
    }
}
