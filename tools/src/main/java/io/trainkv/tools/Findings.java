package io.trainkv.tools;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The findings of {@code check}'s value-pointer scan, grouped by kind ("broken pointer", "missing
 * table", "torn tail", ...), each kind with its {@link Severity}, so that the report counts them
 * per kind and shows a few examples of each instead of one line per pointer (one truncated value
 * log can break thousands).
 */
final class Findings {

    /** The lines of one kind of finding, in the order found. */
    private record Kind(Severity severity, List<String> lines) {
    }

    private final Map<String, Kind> kinds = new LinkedHashMap<>();

    /** Adds one finding of {@code kind}, a whole line of text; a kind keeps the severity it was first added with. */
    void add(Severity severity, String kind, String line) {
        kinds.computeIfAbsent(kind, k -> new Kind(severity, new ArrayList<>())).lines().add(line);
    }

    /** The worst severity of the findings, {@link Severity#OK} if none. */
    Severity severity() {
        return kinds.values().stream().map(Kind::severity).reduce(Severity.OK, Severity::and);
    }

    /** How many findings have {@code severity}. */
    int count(Severity severity) {
        return kinds.values().stream().filter(k -> k.severity() == severity).mapToInt(k -> k.lines().size()).sum();
    }

    /** Every line of the findings with {@code severity}, in the order found. */
    List<String> lines(Severity severity) {
        return kinds.values().stream().filter(k -> k.severity() == severity).flatMap(k -> k.lines().stream()).toList();
    }

    /** Every line of the damaged and unusable findings (the problems), in the order found. */
    List<String> problems() {
        return kinds.values().stream().filter(k -> !k.severity().ok()).flatMap(k -> k.lines().stream()).toList();
    }

    /**
     * The number of findings per kind, for {@code --json}: of the problems (damaged and unusable
     * kinds) if {@code problems}, else of the rest (warnings and notes).
     */
    Map<String, Object> counts(boolean problems) {
        Map<String, Object> counts = new LinkedHashMap<>();
        kinds.forEach((name, kind) -> {
            if (kind.severity().ok() != problems) {
                counts.put(name, kind.lines().size());
            }
        });
        return counts;
    }

    /**
     * The damaged and unusable kinds with their counts for the summary line, as
     * {@code ": 1 missing table, 7200 broken pointer(s)"}, or "" if there are none.
     */
    String summary() {
        List<String> parts = new ArrayList<>();
        kinds.forEach((name, kind) -> {
            if (!kind.severity().ok()) {
                parts.add(kind.lines().size() + " " + name + (kind.lines().size() == 1 ? "" : "(s)"));
            }
        });
        return parts.isEmpty() ? "" : ": " + String.join(", ", parts);
    }

    /** {@code ", N label"} for the findings with {@code severity}, or "" if there are none. */
    String countsOf(Severity severity, String label) {
        int count = count(severity);
        return count == 0 ? "" : ", " + count + " " + label;
    }

    /**
     * Prints the findings, the worst kinds first: each kind's lines, at most {@code limit} of them,
     * followed by one line saying how many more there are and how to see them.
     */
    void print(PrintWriter out, int limit) {
        kinds.entrySet().stream().sorted(Comparator.comparing((Map.Entry<String, Kind> e) -> e.getValue().severity())
                .reversed()).forEach(e -> {
                    List<String> lines = e.getValue().lines();
                    lines.stream().limit(limit).forEach(out::println);
                    if (lines.size() > limit) {
                        out.println("... and " + (lines.size() - limit) + " more " + e.getKey() + " line(s): "
                                + lines.size() + " in all (check --all lists every one)");
                    }
                });
    }
}
