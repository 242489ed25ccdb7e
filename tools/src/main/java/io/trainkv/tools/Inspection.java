package io.trainkv.tools;

/**
 * A tool whose verdict can be {@link Severity#TOLERATED}, which its exit code (0) does not tell
 * from {@link Severity#OK}: {@code check} asks it for the verdict of the run it made.
 */
interface Inspection {

    /** The verdict of the last run, or null if the run refused its target before inspecting it. */
    Severity severity();

    /** The {@code warning:} lines the last run printed (what tolerated findings it reported). */
    int warnings();
}
