package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;

/**
 * The crash-harness runs and corruption-sweep cases that fail on the engine of commit 3f31aba,
 * by name, each with the item of issue 14 (docs: ISSUE14, "What to build") whose fix makes it
 * pass. This is the one place to edit when a fix is merged: a listed case that still fails is
 * tolerated (a harness run is reported as skipped, with its failure); a listed case that passes
 * fails its test with "delete it from KnownFailures"; a listed sweep case that no longer exists
 * fails its test too, so the list only shrinks and never hides a new failure.
 */
final class KnownFailures {

    /** Case name to the issue item whose fix makes it pass. */
    static final Map<String, String> CASES = Map.of();

    private KnownFailures() {
    }

    /**
     * Judges one harness run: {@code failure} is null if it passed.
     *
     * @throws org.opentest4j.TestAbortedException if it failed as listed
     */
    static void check(String name, String failure) {
        String item = CASES.get(name);
        if (failure == null) {
            if (item != null) {
                fail(name + " passes now: delete it from KnownFailures (" + item + ")");
            }
            return;
        }
        if (item == null) {
            fail(name + ": " + failure);
        }
        Assumptions.abort(name + " fails as known until " + item + " is fixed: " + failure);
    }

    /**
     * Judges the sweep cases of one file kind: {@code cases} are the names of every case run,
     * {@code failures} the failed ones with what went wrong; listed names starting with
     * {@code prefix} belong to this kind.
     */
    static void checkAll(String prefix, List<String> cases, Map<String, String> failures) {
        List<String> problems = new ArrayList<>();
        failures.forEach((name, what) -> {
            if (!CASES.containsKey(name)) {
                problems.add(name + ": " + what);
            }
        });
        for (Map.Entry<String, String> known : CASES.entrySet()) {
            if (!known.getKey().startsWith(prefix)) {
                continue;
            }
            if (!cases.contains(known.getKey())) {
                problems.add(known.getKey() + " is no longer a case of the sweep: delete it from KnownFailures");
            } else if (!failures.containsKey(known.getKey())) {
                problems.add(known.getKey() + " passes now: delete it from KnownFailures (" + known.getValue() + ")");
            }
        }
        if (!problems.isEmpty()) {
            fail(problems.size() + " problems:\n" + String.join("\n", problems));
        }
    }
}
