package io.trainkv.bench.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FileNotFoundException;
import org.junit.jupiter.api.Test;

/** A child's result line survives the trip to the runner, failures and odd characters included. */
class ResultJsonTest {

    @Test
    void measuredResultRoundTrips() {
        Result r = new Result("readrandom", "rocksdb", "", 1000, 998, 1000, 0.25, 0.0, 116_000, 1.5, 20.25, Double.NaN,
                0, 4096, -1, 123_456, 512L << 20, 0.5, 0.25);
        Result back = Result.fromJson(r.toJson());
        assertEquals(r.toString(), back.toString());
        assertTrue(back.ran());
        assertEquals(4000, back.opsPerSecond());
    }

    @Test
    void failureKeepsItsInnermostCause() {
        Exception error = new IllegalStateException("readwhilewriting failed",
                new RuntimeException("Could not open table 7", new FileNotFoundException("/db/\"x\"\\000007.sst\n")));
        Result back = Result.fromJson(Result.failed(Workload.READWHILEWRITING, EngineKind.LEVELDB, error).toJson());
        assertFalse(back.ran());
        assertEquals("failed: java.io.FileNotFoundException: /db/\"x\"\\000007.sst\n", back.note());
        assertEquals("leveldb", back.engine());
    }
}
