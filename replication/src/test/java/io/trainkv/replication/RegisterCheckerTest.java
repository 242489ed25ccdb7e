package io.trainkv.replication;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.trainkv.replication.RegisterChecker.Kind;
import io.trainkv.replication.RegisterChecker.Op;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The checker accepts linearizable register histories and finds the ones that are not. */
class RegisterCheckerTest {

    private static Op op(Kind kind, String expected, String value, long from, long to) {
        return new Op("k", kind, expected, value, from, to, false);
    }

    @Test
    void concurrentOperationsMayTakeEffectInEitherOrder() {
        List<Op> history = List.of(
                op(Kind.WRITE, null, "1", 0, 10),
                op(Kind.WRITE, null, "2", 1, 11),
                op(Kind.READ, null, "1", 12, 13),
                op(Kind.CAS, "1", "3", 14, 15),
                op(Kind.READ, null, "3", 16, 17));
        assertEquals(List.of(), RegisterChecker.violations(history));
    }

    @Test
    void aStaleReadAfterAWriteReturnedIsAViolation() {
        List<Op> history = List.of(
                op(Kind.WRITE, null, "1", 0, 10),
                op(Kind.WRITE, null, "2", 11, 20),
                op(Kind.READ, null, "1", 21, 22));
        assertEquals(List.of("k"), RegisterChecker.violations(history));
    }

    @Test
    void aCasThatSucceededFromAValueNeverThereIsAViolation() {
        List<Op> history = List.of(
                op(Kind.WRITE, null, "1", 0, 10),
                op(Kind.CAS, "7", "8", 11, 20));
        assertEquals(List.of("k"), RegisterChecker.violations(history));
    }

    @Test
    void anUnknownWriteMayHaveHappenedOrNot() {
        List<Op> happened = List.of(
                new Op("k", Kind.WRITE, null, "1", 0, 5, true),
                op(Kind.READ, null, "1", 10, 11));
        List<Op> didNot = List.of(
                new Op("k", Kind.WRITE, null, "1", 0, 5, true),
                op(Kind.READ, null, null, 10, 11));
        assertEquals(List.of(), RegisterChecker.violations(happened));
        assertEquals(List.of(), RegisterChecker.violations(didNot));
    }
}
