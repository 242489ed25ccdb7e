package io.trainkv.crash;

import io.trainkv.DbIterator;
import io.trainkv.Entry;
import io.trainkv.TrainKV;
import io.trainkv.ValueLogGcReport;
import io.trainkv.WriteBatch;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;

/**
 * The randomized workload of the crash tests and its model. Operations come from a seeded random
 * generator that never looks at the database, so a parent process can regenerate exactly what a
 * killed child did. Each operation is a set of key changes applied atomically (a set, a delete,
 * a batch, a transaction, a set with a TTL), optionally synced, or background-style work run
 * explicitly (flush, compaction, a value-log GC run, collecting one chosen sealed value-log file).
 * A fifth of the values are above the value-log threshold of {@link CrashTest#small}, whose
 * value-log files are small, so GC finds files to collect. The model is the key map after any
 * prefix of the operations.
 */
final class CrashWorkload {

    static final int KEY_SPACE = 300;

    /**
     * One generated operation: its changes (null value = delete), whether it asked for sync, and
     * maintenance; {@code pick} chooses the value-log file a {@link Maintenance#COLLECT} collects.
     */
    record Op(Map<String, byte[]> changes, boolean sync, Maintenance maintenance, boolean ttl, boolean transaction,
              int pick) {
        /**
         * Whether an acknowledged operation makes every earlier one durable: a synced write, a
         * flush, a compaction (which flushes first). GC syncs only when it collects something.
         */
        boolean isDurabilityPoint() {
            return sync || maintenance == Maintenance.FLUSH || maintenance == Maintenance.COMPACT;
        }
    }

    /**
     * Background-style work the workload triggers explicitly: {@code VALUE_LOG_GC} collects files
     * at a discard ratio of 0.3, {@code COLLECT} one sealed file whatever its ratio.
     */
    enum Maintenance { NONE, FLUSH, COMPACT, VALUE_LOG_GC, COLLECT }

    private final Random random;

    CrashWorkload(long seed) {
        this.random = new Random(seed);
    }

    Op next() {
        int kind = random.nextInt(100);
        if (kind < 4) {
            return maintenance(Maintenance.FLUSH);
        }
        if (kind < 6) {
            return maintenance(Maintenance.COMPACT);
        }
        if (kind < 8) {
            return maintenance(Maintenance.VALUE_LOG_GC);
        }
        if (kind < 10) {
            return new Op(Map.of(), false, Maintenance.COLLECT, false, false, random.nextInt(Integer.MAX_VALUE));
        }
        boolean sync = random.nextInt(8) == 0;
        Map<String, byte[]> changes = new LinkedHashMap<>();
        if (kind < 60) {
            changes.put(key(), value());
        } else if (kind < 75) {
            changes.put(key(), null);
        } else if (kind < 90) {
            int size = 2 + random.nextInt(5);
            for (int i = 0; i < size; i++) {
                changes.put(key(), random.nextInt(4) == 0 ? null : value());
            }
            return new Op(changes, sync, Maintenance.NONE, false, kind >= 84, 0);
        } else {
            changes.put(key(), value());
            return new Op(changes, sync, Maintenance.NONE, true, false, 0);
        }
        return new Op(changes, sync, Maintenance.NONE, false, false, 0);
    }

    private static Op maintenance(Maintenance maintenance) {
        return new Op(Map.of(), false, maintenance, false, false, 0);
    }

    private String key() {
        return key(random.nextInt(KEY_SPACE));
    }

    /** Key number {@code i} of a key space: {@code key-0000}, {@code key-0001}, ... */
    static String key(int i) {
        return String.format(Locale.ROOT, "key-%04d", i);
    }

    /** Small values mostly; a fifth large enough for the value log. */
    private byte[] value() {
        int length = random.nextInt(5) == 0 ? 1100 + random.nextInt(2000) : 1 + random.nextInt(120);
        byte[] value = new byte[length];
        random.nextBytes(value);
        return value;
    }

    /** Applies one operation to the database; returns when it is acknowledged. */
    static void apply(TrainKV db, Op op) {
        switch (op.maintenance()) {
            case FLUSH -> db.flush();
            case COMPACT -> db.compactRange(null, null);
            case VALUE_LOG_GC -> db.runValueLogGC(0.3);
            case COLLECT -> {
                List<ValueLogGcReport.FileEstimate> sealed = db.sampleValueLogGC(1.0).files();
                if (!sealed.isEmpty()) {
                    db.collectValueLogFiles(Set.of(sealed.get(op.pick() % sealed.size()).fileId()));
                }
            }
            default -> {
                if (op.ttl()) {
                    Map.Entry<String, byte[]> only = op.changes().entrySet().iterator().next();
                    WriteBatch batch = new WriteBatch().set(Entry.of(only.getKey().getBytes(StandardCharsets.UTF_8),
                            only.getValue()).withTtl(Duration.ofDays(3650)));
                    db.write(batch, op.sync());
                    return;
                }
                if (op.transaction()) {
                    db.update(txn -> {
                        for (Map.Entry<String, byte[]> change : op.changes().entrySet()) {
                            byte[] key = change.getKey().getBytes(StandardCharsets.UTF_8);
                            if (change.getValue() == null) {
                                txn.delete(key);
                            } else {
                                txn.set(key, change.getValue());
                            }
                        }
                    });
                    if (op.sync()) {
                        db.sync();
                    }
                    return;
                }
                db.write(batchOf(op.changes()), op.sync());
            }
        }
    }

    /** A batch of key changes (null value = delete). */
    static WriteBatch batchOf(Map<String, byte[]> changes) {
        WriteBatch batch = new WriteBatch();
        for (Map.Entry<String, byte[]> change : changes.entrySet()) {
            byte[] key = change.getKey().getBytes(StandardCharsets.UTF_8);
            if (change.getValue() == null) {
                batch.delete(key);
            } else {
                batch.set(key, change.getValue());
            }
        }
        return batch;
    }

    /** Applies an operation's changes to a model. */
    static void applyToModel(Map<String, byte[]> model, Op op) {
        applyToModel(model, op.changes());
    }

    /** Applies key changes (null value = delete) to a model. */
    static void applyToModel(Map<String, byte[]> model, Map<String, byte[]> changes) {
        for (Map.Entry<String, byte[]> change : changes.entrySet()) {
            if (change.getValue() == null) {
                model.remove(change.getKey());
            } else {
                model.put(change.getKey(), change.getValue());
            }
        }
    }

    /** Everything the database holds, read by point reads and checked against a full scan. */
    static Map<String, byte[]> readAll(TrainKV db) {
        return readAll(db, KEY_SPACE);
    }

    /**
     * Everything a database with keys {@code key-0000} up to {@code keySpace} (exclusive) holds,
     * read by point reads and checked against a full scan.
     *
     * @throws AssertionError if the two disagree
     */
    static Map<String, byte[]> readAll(TrainKV db, int keySpace) {
        Map<String, byte[]> state = new TreeMap<>();
        for (int i = 0; i < keySpace; i++) {
            String key = key(i);
            byte[] value = db.get(key.getBytes(StandardCharsets.UTF_8));
            if (value != null) {
                state.put(key, value);
            }
        }
        Map<String, byte[]> scanned = new TreeMap<>();
        try (DbIterator it = db.iterator()) {
            for (it.seekToFirst(); it.valid(); it.next()) {
                scanned.put(it.keyAsString(), it.value());
            }
        }
        if (!sameState(state, scanned)) {
            throw new AssertionError("point reads and a full scan disagree: " + describeDifference(state, scanned));
        }
        return state;
    }

    static boolean sameState(Map<String, byte[]> a, Map<String, byte[]> b) {
        if (!a.keySet().equals(b.keySet())) {
            return false;
        }
        for (Map.Entry<String, byte[]> e : a.entrySet()) {
            if (!Arrays.equals(e.getValue(), b.get(e.getKey()))) {
                return false;
            }
        }
        return true;
    }

    static String describeDifference(Map<String, byte[]> expected, Map<String, byte[]> actual) {
        Map<String, String> diff = new TreeMap<>();
        for (String key : expected.keySet()) {
            if (!actual.containsKey(key)) {
                diff.put(key, "missing");
            } else if (!Arrays.equals(expected.get(key), actual.get(key))) {
                diff.put(key, "different value");
            }
        }
        for (String key : actual.keySet()) {
            if (!expected.containsKey(key)) {
                diff.put(key, "unexpected");
            }
        }
        return diff.size() > 10 ? diff.size() + " keys differ, e.g. " + new HashMap<>(diff).entrySet().stream().limit(10).toList()
                : diff.toString();
    }
}
