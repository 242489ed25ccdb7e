package io.trainkv.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The tools' JSON output escapes what JSON requires and writes numbers plainly. */
class JsonTest {

    @Test
    void writesNestedObjectsWithEscapes() {
        String text = Json.write(Json.object("file", "a\"b\\c\n\u0001", "ok", true, "n", 42L, "ratio", 0.5,
                "whole", 100.0, "none", null, "list", List.of(1, "x", Json.object())));
        assertEquals("{\"file\":\"a\\\"b\\\\c\\n\\u0001\",\"ok\":true,\"n\":42,\"ratio\":0.5,\"whole\":100,"
                + "\"none\":null,\"list\":[1,\"x\",{}]}", text);
    }

    @Test
    void writesDoublesExactlyWithoutExponentsOrTrailingZeros() {
        assertEquals("[100000,120000,0.25,0.00000015,null]",
                Json.write(List.of(100000.0, 120000.0, 0.25, 1.5e-7, Double.NaN)));
    }
}
