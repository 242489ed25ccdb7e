package io.trainkv.util;

import java.util.concurrent.atomic.AtomicInteger;

/** Reference-count helpers for objects that must not be revived once their count reached zero. */
public final class RefCounts {

    private RefCounts() {
    }

    /** Increments {@code refs} unless it is already zero or below; returns whether it did. */
    public static boolean tryIncrement(AtomicInteger refs) {
        while (true) {
            int current = refs.get();
            if (current <= 0) {
                return false;
            }
            if (refs.compareAndSet(current, current + 1)) {
                return true;
            }
        }
    }
}
