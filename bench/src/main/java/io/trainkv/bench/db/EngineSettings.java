package io.trainkv.bench.db;

/**
 * The settings every engine is opened with, so that all engines get the same durability and the
 * same cache budget.
 *
 * @param sync       fsync before acknowledging each write
 * @param cacheBytes block cache of each engine (MVStore's page cache); index and filter blocks are
 *                   kept the way each engine keeps them by default
 */
record EngineSettings(boolean sync, long cacheBytes) {
}
