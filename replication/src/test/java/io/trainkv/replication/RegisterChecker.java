package io.trainkv.replication;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;

/**
 * A linearizability checker for a history of operations on registers (one per key), after Wing &
 * Gong with Lowe's memoization: depth-first search for an order of the operations that respects
 * real time (an operation that returned before another was invoked comes first) and the register's
 * sequential behaviour. Linearizability is local, so each key is checked on its own. An operation
 * whose outcome is unknown (the client gave up) is taken as returning after everything, and as
 * free to take effect or not.
 */
final class RegisterChecker {

    /** What an operation did. {@code value} and {@code expected} are null for "absent". */
    enum Kind { READ, WRITE, CAS }

    /**
     * One operation on {@code key}: a read that returned {@code value}, a write of {@code value},
     * or a compare-and-set from {@code expected} to {@code value} that succeeded. Times in ns.
     * {@code unknown}: the client did not learn the outcome (a write or CAS that may have happened).
     */
    record Op(String key, Kind kind, String expected, String value, long invokedNanos, long returnedNanos,
            boolean unknown) {
    }

    private RegisterChecker() {
    }

    /** The keys whose history is not linearizable (empty when the whole history is). */
    static List<String> violations(List<Op> history) {
        Map<String, List<Op>> byKey = new TreeMap<>();
        for (Op op : history) {
            if (op.unknown() && op.kind() == Kind.READ) {
                continue; // a read nobody saw constrains nothing
            }
            byKey.computeIfAbsent(op.key(), k -> new ArrayList<>()).add(op);
        }
        List<String> bad = new ArrayList<>();
        byKey.forEach((key, ops) -> {
            if (!linearizable(ops)) {
                bad.add(key);
            }
        });
        return bad;
    }

    /** One call or return event of operation {@code id}, in a doubly linked list by time. */
    private static final class Event {
        final int id;
        final boolean call;
        final long time;
        Event match;
        Event prev;
        Event next;

        Event(int id, boolean call, long time) {
            this.id = id;
            this.call = call;
            this.time = time;
        }
    }

    private record Memo(BitSet linearized, String state) {
    }

    static boolean linearizable(List<Op> ops) {
        List<Event> events = new ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            Op op = ops.get(i);
            Event call = new Event(i, true, op.invokedNanos());
            Event ret = new Event(i, false, op.unknown() ? Long.MAX_VALUE : op.returnedNanos());
            call.match = ret;
            ret.match = call;
            events.add(call);
            events.add(ret);
        }
        // by time; at equal times calls first (overlapping is the permissive reading)
        events.sort(Comparator.comparingLong((Event e) -> e.time).thenComparing(e -> !e.call));
        Event head = new Event(-1, true, Long.MIN_VALUE);
        Event tail = head;
        for (Event e : events) {
            tail.next = e;
            e.prev = tail;
            tail = e;
        }
        BitSet linearized = new BitSet(ops.size());
        Set<Memo> seen = new HashSet<>();
        List<Event> stackCalls = new ArrayList<>();
        List<String> stackStates = new ArrayList<>();
        String state = null;
        Event entry = head.next;
        while (head.next != null) {
            if (entry == null) {
                return false; // cannot happen: a return event ends every unlinearized call's search
            }
            if (entry.call) {
                Op op = ops.get(entry.id);
                String[] next = step(op, state);
                BitSet with = (BitSet) linearized.clone();
                with.set(entry.id);
                if (next != null && seen.add(new Memo(with, next[0]))) {
                    stackCalls.add(entry);
                    stackStates.add(state);
                    state = next[0];
                    linearized.set(entry.id);
                    lift(entry);
                    entry = head.next;
                } else {
                    entry = entry.next;
                }
            } else {
                if (stackCalls.isEmpty()) {
                    return false;
                }
                Event call = stackCalls.remove(stackCalls.size() - 1);
                state = stackStates.remove(stackStates.size() - 1);
                linearized.clear(call.id);
                unlift(call);
                entry = call.next;
            }
        }
        return true;
    }

    /** The register after {@code op} from {@code state} as a one-element array, or null if {@code op} cannot happen there. */
    private static String[] step(Op op, String state) {
        switch (op.kind()) {
            case READ:
                return Objects.equals(state, op.value()) ? new String[] {state} : null;
            case WRITE:
                return new String[] {op.value()};
            default:
                if (Objects.equals(state, op.expected())) {
                    return new String[] {op.value()};
                }
                return op.unknown() ? new String[] {state} : null; // an unknown CAS may have failed
        }
    }

    /** Takes a call and its return out of the list. */
    private static void lift(Event call) {
        call.prev.next = call.next;
        if (call.next != null) {
            call.next.prev = call.prev;
        }
        Event ret = call.match;
        ret.prev.next = ret.next;
        if (ret.next != null) {
            ret.next.prev = ret.prev;
        }
    }

    /** Puts a lifted call and its return back. */
    private static void unlift(Event call) {
        Event ret = call.match;
        ret.prev.next = ret;
        if (ret.next != null) {
            ret.next.prev = ret;
        }
        call.prev.next = call;
        if (call.next != null) {
            call.next.prev = call;
        }
    }
}
