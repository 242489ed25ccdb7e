package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Database iterators: both directions, bounds, prefixes, seeks and snapshots, against a model. */
class IteratorTest {

    @TempDir
    Path tempDir;

    private static String key(int i) {
        return String.format("k%05d", i);
    }

    /** What an iterator over {@code options}-like bounds must return, from the model. */
    private static List<String> expected(TreeMap<String, String> model, boolean reverse, String from, String to,
                                         String prefix) {
        if (from != null && to != null && from.compareTo(to) >= 0) {
            return List.of();
        }
        NavigableMap<String, String> view = model;
        if (from != null) {
            view = view.tailMap(from, true);
        }
        if (to != null) {
            view = view.headMap(to, false);
        }
        List<String> result = new ArrayList<>();
        for (Map.Entry<String, String> e : (reverse ? view.descendingMap() : view).entrySet()) {
            if (prefix == null || e.getKey().startsWith(prefix)) {
                result.add(e.getKey() + "=" + e.getValue());
            }
        }
        return result;
    }

    private static List<String> walk(DbIterator it) {
        List<String> result = new ArrayList<>();
        for (it.seekToFirst(); it.valid(); it.next()) {
            result.add(it.keyAsString() + "=" + it.valueAsString());
        }
        return result;
    }

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void iteratorsInBothDirectionsWithBoundsMatchTheModelThroughCompactions(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        Random random = new Random(404 + fs.ordinal());
        TreeMap<String, String> model = new TreeMap<>();
        TrainKV db = TrainKV.open(CompactionTest.smallTree(dir));
        try {
            for (int round = 0; round < 12; round++) {
                for (int op = 0; op < 6_000; op++) {
                    String k = key(random.nextInt(8_000));
                    if (random.nextInt(4) == 0) {
                        db.delete(k);
                        model.remove(k);
                    } else {
                        String v = "v" + round + "-" + op + "-" + "x".repeat(random.nextInt(60));
                        db.set(k, v);
                        model.put(k, v);
                    }
                }
                if (round == 6) {
                    db.close();
                    db = TrainKV.open(CompactionTest.smallTree(dir));
                }
                for (int check = 0; check < 6; check++) {
                    boolean reverse = random.nextBoolean();
                    String from = random.nextInt(3) == 0 ? null : key(random.nextInt(8_000));
                    String to = random.nextInt(3) == 0 ? null : key(random.nextInt(8_000));
                    String prefix = random.nextInt(3) == 0 ? "k0" + random.nextInt(8) : null;
                    IteratorOptions options = reverse ? IteratorOptions.reverse() : IteratorOptions.forward();
                    if (from != null) {
                        options.from(from);
                    }
                    if (to != null) {
                        options.to(to);
                    }
                    if (prefix != null) {
                        options.prefix(prefix);
                    }
                    try (DbIterator it = db.iterator(options)) {
                        assertEquals(expected(model, reverse, from, to, prefix), walk(it),
                                "round " + round + " reverse=" + reverse + " from=" + from + " to=" + to + " prefix=" + prefix);
                    }
                }
            }
            Stats stats = db.stats();
            assertTrue(stats.compactions() > 0, stats.toString());
        } finally {
            db.close();
        }
    }

    @Test
    void anIteratorKeepsItsSnapshotWhileWritesFlushesAndCompactionsGoOn() throws Exception {
        TreeMap<String, String> model = new TreeMap<>();
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(tempDir.resolve("db")))) {
            for (int i = 0; i < 5_000; i++) {
                db.set(key(i), "first-" + i);
                model.put(key(i), "first-" + i);
            }
            try (DbIterator forward = db.iterator(); DbIterator backward = db.iterator(IteratorOptions.reverse())) {
                for (int i = 0; i < 5_000; i += 2) {
                    db.set(key(i), "second-" + i);
                }
                for (int i = 1; i < 5_000; i += 4) {
                    db.delete(key(i));
                }
                db.set("zzz-new", "later");
                db.flatten();
                assertEquals(expected(model, false, null, null, null), walk(forward));
                assertEquals(expected(model, true, null, null, null), walk(backward));
            }
            assertEquals("second-0", db.get(key(0)));
            try (DbIterator fresh = db.iterator(IteratorOptions.forward().prefix("zzz"))) {
                assertEquals(List.of("zzz-new=later"), walk(fresh));
            }
        }
    }

    /**
     * Keys longer and values larger than the iterator's reused buffers start with, values inline
     * and in the value log, in tables and memtables, several versions of a key: an iterator opened
     * before the second round of writes still returns each key's first version in both directions
     * (reverse meets the newer, invisible version after the visible one), a fresh one the newest,
     * deleted keys hidden; user meta comes from the version returned, and the arrays returned belong
     * to the caller.
     */
    @Test
    void eachKeysNewestVisibleVersionIsReturnedWhateverItsSizeAndWhereItLives() {
        Options options = CompactionTest.smallTree(tempDir.resolve("db")).valueThreshold(300);
        TreeMap<String, String> first = new TreeMap<>();
        TreeMap<String, String> second = new TreeMap<>();
        try (TrainKV db = TrainKV.open(options)) {
            for (int i = 0; i < 400; i++) {
                String k = key(i) + "-" + "p".repeat(i % 61);
                String v = "first-" + i + "-" + "x".repeat((i * 37) % 700);
                db.set(Entry.of(k, v).withUserMeta((byte) 1));
                first.put(k, v);
            }
            db.flush();
            second.putAll(first);
            try (DbIterator oldForward = db.iterator(); DbIterator oldReverse = db.iterator(IteratorOptions.reverse())) {
                int i = 0;
                for (String k : first.keySet()) {
                    if (i % 3 == 0) {
                        db.delete(k);
                        second.remove(k);
                    } else if (i % 3 == 1) {
                        String v = "second-" + i + "-" + "y".repeat((i * 53) % 650);
                        db.set(Entry.of(k, v).withUserMeta((byte) 2));
                        second.put(k, v);
                    }
                    if (i == 200) {
                        db.flush(); // the rest stays in the memtable
                    }
                    i++;
                }
                assertEquals(expected(first, false, null, null, null), walk(oldForward));
                assertEquals(expected(first, true, null, null, null), walk(oldReverse));
                for (oldReverse.seekToFirst(); oldReverse.valid(); oldReverse.next()) {
                    assertEquals((byte) 1, oldReverse.entry().userMeta(), oldReverse.keyAsString());
                }
            }
            for (boolean reverse : new boolean[] {false, true}) {
                try (DbIterator fresh = db.iterator(reverse ? IteratorOptions.reverse() : IteratorOptions.forward())) {
                    assertEquals(expected(second, reverse, null, null, null), walk(fresh));
                    for (fresh.seekToFirst(); fresh.valid(); fresh.next()) {
                        String k = fresh.keyAsString();
                        Entry entry = fresh.entry();
                        assertEquals(second.get(k).startsWith("second") ? (byte) 2 : (byte) 1, entry.userMeta(), k);
                        byte[] key = fresh.key();
                        byte[] value = fresh.value();
                        key[0] ^= 1;
                        value[0] ^= 1;
                        assertEquals(k, fresh.keyAsString(), "changing a returned key changes nothing else");
                        assertEquals(second.get(k), fresh.valueAsString(), "changing a returned value changes nothing else");
                    }
                }
            }
        }
    }

    /**
     * Seeks over a tree of several levels where keys are rewritten in later rounds, so that a key
     * has versions in several levels, and where most seeks name a key that most levels lack (a
     * merge then puts off those levels' seeks behind their bloom filters): each seek, forward and
     * reverse, to present and absent keys, lands where the model says and walks on through the
     * levels it put off, with each key's newest value.
     */
    @Test
    void seeksLandAndWalkOnAsTheModelSaysThroughLevelsThatLackTheKey() {
        Random random = new Random(405);
        TreeMap<String, String> model = new TreeMap<>();
        try (TrainKV db = TrainKV.open(CompactionTest.smallTree(tempDir.resolve("db")))) {
            for (int round = 0; round < 8; round++) {
                for (int op = 0; op < 3_000; op++) {
                    String k = key(random.nextInt(4_000) * 2);
                    if (random.nextInt(6) == 0) {
                        db.delete(k);
                        model.remove(k);
                    } else {
                        String v = "r" + round + "-" + op;
                        db.set(k, v);
                        model.put(k, v);
                    }
                }
                if (round < 7) {
                    db.flush();
                }
            }
            assertTrue(db.stats().compactions() > 0, db.stats().toString());
            try (DbIterator forward = db.iterator(); DbIterator reverse = db.iterator(IteratorOptions.reverse())) {
                for (int i = 0; i < 600; i++) {
                    String target = key(random.nextInt(8_002)); // odd numbers are never written
                    forward.seek(target);
                    reverse.seek(target);
                    assertEquals(firstEntries(model.tailMap(target, true), 12), walkFromHere(forward, 12), "forward seek " + target);
                    assertEquals(firstEntries(model.headMap(target, true).descendingMap(), 12), walkFromHere(reverse, 12),
                            "reverse seek " + target);
                }
            }
        }
    }

    private static List<String> firstEntries(Map<String, String> view, int limit) {
        List<String> result = new ArrayList<>();
        for (Map.Entry<String, String> e : view.entrySet()) {
            if (result.size() == limit) {
                break;
            }
            result.add(e.getKey() + "=" + e.getValue());
        }
        return result;
    }

    /** Up to {@code limit} entries from the iterator's position on. */
    private static List<String> walkFromHere(DbIterator it, int limit) {
        List<String> result = new ArrayList<>();
        for (; it.valid() && result.size() < limit; it.next()) {
            result.add(it.keyAsString() + "=" + it.valueAsString());
        }
        return result;
    }

    @Test
    void seeksLandOnTheRightKeyInBothDirections() {
        try (TrainKV db = TrainKV.open(Options.inTempDirectory())) {
            for (int i = 0; i < 100; i += 10) {
                db.set(key(i), "v" + i);
            }
            db.flush();
            db.set(key(55), "v55");
            try (DbIterator it = db.iterator()) {
                it.seek(key(41));
                assertEquals(key(50), it.keyAsString());
                it.next();
                assertEquals(key(55), it.keyAsString());
                it.seek(key(95));
                assertFalse(it.valid());
            }
            try (DbIterator it = db.iterator(IteratorOptions.reverse())) {
                it.seek(key(41));
                assertEquals(key(40), it.keyAsString());
                it.seek(key(55));
                assertEquals(key(55), it.keyAsString());
                it.next();
                assertEquals(key(50), it.keyAsString());
                it.seek("a");
                assertFalse(it.valid());
            }
            try (DbIterator it = db.iterator(IteratorOptions.reverse().from(key(20)).to(key(60)))) {
                it.seek(key(99));
                assertEquals(key(55), it.keyAsString(), "a seek past the upper bound starts below it");
            }
        }
    }

    @Test
    void tombstonesAndExpiredEntriesAreHiddenAndUserMetaIsReturned() {
        try (TrainKV db = TrainKV.open(Options.inTempDirectory())) {
            db.set("a", "1");
            db.set(Entry.of("b", "2").withExpiresAt(Instant.ofEpochMilli(1)));
            db.set(Entry.of("c", "3").withUserMeta((byte) 9));
            db.set("d", "4");
            db.delete("d");
            try (DbIterator it = db.iterator()) {
                assertEquals(List.of("a=1", "c=3"), walk(it));
                it.seek("c");
                assertEquals((byte) 9, it.entry().userMeta());
            }
            try (DbIterator it = db.iterator(IteratorOptions.reverse())) {
                assertEquals(List.of("c=3", "a=1"), walk(it));
            }
        }
    }

    @Test
    void toExcludesItsKeyAndToInclusiveIncludesItButNotTheKeysThatExtendIt() {
        try (TrainKV db = TrainKV.open(Options.inTempDirectory())) {
            for (String key : List.of("a", "b", "b\u0000", "b\u0000\u0000", "b0", "c")) {
                db.set(key, "v");
            }
            try (DbIterator it = db.iterator(IteratorOptions.forward().from("a").to("b"))) {
                assertEquals(List.of("a=v"), walk(it));
            }
            try (DbIterator it = db.iterator(IteratorOptions.forward().from("a").toInclusive("b"))) {
                assertEquals(List.of("a=v", "b=v"), walk(it));
            }
            try (DbIterator it = db.iterator(IteratorOptions.reverse().from("b").toInclusive("b\u0000"))) {
                assertEquals(List.of("b\u0000=v", "b=v"), walk(it));
            }
        }
    }

    @Test
    void usingAClosedIteratorOrAnIteratorOfAClosedDatabaseThrowsIllegalStateException() {
        TrainKV db = TrainKV.open(Options.inTempDirectory());
        db.set("a", "1");
        DbIterator closedFirst = db.iterator();
        closedFirst.close();
        IllegalStateException e = assertThrows(IllegalStateException.class, closedFirst::seekToFirst);
        assertEquals("iterator is closed", e.getMessage());
        DbIterator open = db.iterator();
        open.seekToFirst();
        assertTrue(open.valid());
        db.close();
        assertThrows(IllegalStateException.class, open::valid);
        assertThrows(IllegalStateException.class, open::next);
        open.close();
        IllegalStateException unpositioned = assertThrows(IllegalStateException.class, () -> {
            try (TrainKV other = TrainKV.open(Options.inTempDirectory()); DbIterator it = other.iterator()) {
                it.seekToFirst();
                it.key();
            }
        });
        assertEquals("iterator is not positioned on a key", unpositioned.getMessage());
    }
}
