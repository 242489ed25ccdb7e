package io.trainkv.util;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.memtable.MemTable;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** MergingIterator: the sorted union of its children in both directions, first-listed child wins on equal keys, seeks, close. */
class MergingIteratorTest {

    private static final byte NONE = 0;

    /** One stored entry: an internal key and what it maps to. */
    private record Entry(byte[] internalKey, ValueStruct value) {
    }

    /**
     * An InternalIterator over a list of entries sorted by internal key. Like the engine's iterators
     * it copies the key into a reused buffer that is longer than the key and holds junk past it, and
     * it fails loudly when used while not positioned.
     */
    private static final class ListIterator implements InternalIterator {
        private final List<Entry> entries;
        private final boolean reverse;
        private int index = -1;
        private byte[] buffer = new byte[0];
        private int keyLength;
        int closes;

        ListIterator(List<Entry> entries, boolean reverse) {
            this.entries = new ArrayList<>(entries);
            this.entries.sort((a, b) -> KeyFormat.compare(a.internalKey(), b.internalKey()));
            this.reverse = reverse;
        }

        @Override
        public boolean valid() {
            return index >= 0;
        }

        @Override
        public void seekToFirst() {
            moveTo(reverse ? entries.size() - 1 : 0);
        }

        @Override
        public void seek(byte[] userKey, long version) {
            byte[] target = KeyFormat.encode(userKey, version);
            int atLeast = 0; // the first index whose key is at or after the target
            int hi = entries.size();
            while (atLeast < hi) {
                int mid = (atLeast + hi) >>> 1;
                if (KeyFormat.compare(entries.get(mid).internalKey(), target) < 0) {
                    atLeast = mid + 1;
                } else {
                    hi = mid;
                }
            }
            if (!reverse) {
                moveTo(atLeast);
            } else if (atLeast < entries.size() && KeyFormat.compare(entries.get(atLeast).internalKey(), target) == 0) {
                moveTo(atLeast);
            } else {
                moveTo(atLeast - 1);
            }
        }

        @Override
        public void next() {
            requireValid();
            moveTo(reverse ? index - 1 : index + 1);
        }

        @Override
        public byte[] keyBuffer() {
            requireValid();
            return buffer;
        }

        @Override
        public int keyLength() {
            requireValid();
            return keyLength;
        }

        @Override
        public ValueStruct value() {
            requireValid();
            return entries.get(index).value();
        }

        @Override
        public void close() {
            closes++;
        }

        private void moveTo(int target) {
            if (target < 0 || target >= entries.size()) {
                index = -1;
                return;
            }
            index = target;
            byte[] key = entries.get(target).internalKey();
            if (buffer.length < key.length + 5) {
                buffer = new byte[key.length + 13];
            }
            Arrays.fill(buffer, (byte) 0xEE);
            System.arraycopy(key, 0, buffer, 0, key.length);
            keyLength = key.length;
        }

        private void requireValid() {
            if (index < 0) {
                throw new IllegalStateException("child iterator used while not positioned");
            }
        }
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void mergingChildrenGivesTheSortedUnion(boolean reverse) {
        for (int round = 0; round < 40; round++) {
            Random random = new Random(0x5EED_4001L + round);
            List<List<Entry>> sources = randomSources(random);
            TreeMap<byte[], Entry> model = union(sources);
            List<ListIterator> children = iterators(sources, reverse);
            MergingIterator merged = new MergingIterator(new ArrayList<>(children), reverse);
            merged.seekToFirst();
            assertWalk(reverse ? model.descendingMap() : model, merged, Integer.MAX_VALUE, "round " + round);
            merged.close();
            for (ListIterator child : children) {
                assertEquals(1, child.closes);
            }
        }
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void seekLandsWhereTheSortedUnionSaysThenWalksOn(boolean reverse) {
        Random random = new Random(0x5EED_4002L);
        for (int round = 0; round < 20; round++) {
            List<List<Entry>> sources = randomSources(random);
            TreeMap<byte[], Entry> model = union(sources);
            MergingIterator merged = new MergingIterator(new ArrayList<>(iterators(sources, reverse)), reverse);
            for (int i = 0; i < 300; i++) {
                byte[] userKey = randomUserKey(random);
                long version = random.nextInt(20) == 0 ? Long.MAX_VALUE : random.nextInt(8);
                byte[] target = KeyFormat.encode(userKey, version);
                merged.seek(userKey, version);
                NavigableMap<byte[], Entry> rest = reverse
                        ? model.headMap(target, true).descendingMap()
                        : model.tailMap(target, true);
                assertWalk(rest, merged, 10, (reverse ? "reverse" : "forward") + " seek " + Bytes.escape(userKey) + "@" + version);
            }
        }
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void theChildListedFirstWinsAnEqualKeyWhichIsReturnedOnce(boolean reverse) {
        List<Entry> a = List.of(entry("k", 5, "a"), entry("m", 1, "a"));
        List<Entry> b = List.of(entry("k", 5, "b"), entry("k", 4, "b"), entry("m", 1, "b"), entry("m", 0, "b"));
        List<Entry> c = List.of(entry("k", 5, "c"), entry("m", 1, "c"));
        List<String> expected = List.of("k@5=a", "k@4=b", "m@1=a", "m@0=b");
        assertEquals(reverse ? reversed(expected) : expected, walk(List.of(a, b, c), reverse));

        List<String> otherOrder = List.of("k@5=c", "k@4=b", "m@1=c", "m@0=b");
        assertEquals(reverse ? reversed(otherOrder) : otherOrder, walk(List.of(c, b, a), reverse));

        List<String> middleFirst = List.of("k@5=b", "k@4=b", "m@1=b", "m@0=b");
        assertEquals(reverse ? reversed(middleFirst) : middleFirst, walk(List.of(b, c, a), reverse));
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void aDuplicateIsReturnedOnceEvenWhenNoEarlierChildHoldsTheNeighbours(boolean reverse) {
        List<Entry> empty = List.of();
        List<Entry> first = List.of(entry("x", 3, "first"));
        List<Entry> second = List.of(entry("a", 1, "second"), entry("x", 3, "second"), entry("z", 1, "second"));
        List<String> expected = List.of("a@1=second", "x@3=first", "z@1=second");
        assertEquals(reverse ? reversed(expected) : expected, walk(List.of(empty, first, second), reverse));
        assertEquals(reverse ? reversed(expected) : expected, walk(List.of(first, empty, second, empty), reverse));
        assertEquals(List.of("x@3=first"), walk(List.of(first, first, first), reverse), "identical children");
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void aSeekOntoADuplicateReturnsTheFirstChildsEntryOnce(boolean reverse) {
        List<Entry> newer = List.of(entry("k", 5, "new"), entry("k", 3, "new"));
        List<Entry> older = List.of(entry("j", 1, "old"), entry("k", 5, "old"), entry("k", 3, "old"), entry("l", 1, "old"));
        MergingIterator merged = new MergingIterator(new ArrayList<>(iterators(List.of(newer, older), reverse)), reverse);
        merged.seek(Bytes.utf8("k"), 5);
        assertEquals("k@5=new", describe(merged));
        merged.next();
        assertTrue(merged.valid());
        assertEquals(reverse ? "j@1=old" : "k@3=new", describe(merged));
        merged.seek(Bytes.utf8("k"), 3);
        assertEquals("k@3=new", describe(merged));
        merged.next();
        assertTrue(merged.valid());
        assertEquals(reverse ? "k@5=new" : "l@1=old", describe(merged));
        merged.seek(Bytes.utf8("k"), 4);
        assertEquals(reverse ? "k@5=new" : "k@3=new", describe(merged), "between versions");
        merged.next();
        assertEquals(reverse ? "j@1=old" : "l@1=old", describe(merged));
        merged.next();
        assertFalse(merged.valid());
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void noChildrenOrOnlyEmptyChildrenAreInvalid(boolean reverse) {
        MergingIterator none = new MergingIterator(List.of(), reverse);
        assertFalse(none.valid());
        none.seekToFirst();
        assertFalse(none.valid());
        none.seek(Bytes.utf8("k"), 1);
        assertFalse(none.valid());
        none.close();

        List<ListIterator> children = iterators(List.of(List.of(), List.of(), List.of()), reverse);
        MergingIterator empties = new MergingIterator(new ArrayList<>(children), reverse);
        empties.seekToFirst();
        assertFalse(empties.valid());
        empties.seek(new byte[0], Long.MAX_VALUE);
        assertFalse(empties.valid());
        empties.seek(new byte[0], 0);
        assertFalse(empties.valid());
        empties.close();
        for (ListIterator child : children) {
            assertEquals(1, child.closes);
        }
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void aSeekPastTheEndIsInvalidAndTheIteratorStaysInvalid(boolean reverse) {
        List<Entry> one = List.of(entry("b", 2, "one"));
        List<Entry> two = List.of(entry("c", 2, "two"));
        MergingIterator merged = new MergingIterator(new ArrayList<>(iterators(List.of(one, two), reverse)), reverse);
        if (reverse) {
            merged.seek(Bytes.utf8("b"), 3);
        } else {
            merged.seek(Bytes.utf8("c"), 1);
        }
        assertFalse(merged.valid());
        assertFalse(merged.valid());
        merged.seekToFirst();
        assertEquals(reverse ? "c@2=two" : "b@2=one", describe(merged));
        merged.next();
        merged.next();
        assertFalse(merged.valid());
        assertFalse(merged.valid(), "an exhausted merge stays exhausted");
    }

    @Test
    void closeClosesEveryChildWhereverTheyStand() {
        List<Entry> some = List.of(entry("a", 1, "x"), entry("b", 1, "x"), entry("c", 1, "x"));
        List<Entry> few = List.of(entry("b", 1, "y"));
        for (boolean reverse : new boolean[] {false, true}) {
            for (int steps = -1; steps <= 4; steps++) {
                List<ListIterator> children = iterators(List.of(some, List.of(), few, some, List.of()), reverse);
                MergingIterator merged = new MergingIterator(new ArrayList<>(children), reverse);
                if (steps >= 0) {
                    merged.seekToFirst();
                    for (int i = 0; i < steps && merged.valid(); i++) {
                        merged.next();
                    }
                }
                merged.close();
                for (ListIterator child : children) {
                    assertEquals(1, child.closes, "reverse " + reverse + ", closed after " + steps + " steps");
                }
            }
        }
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void memTablesMergeWithTheNewerListedFirstWinning(boolean reverse) {
        Random random = new Random(0x5EED_4003L);
        MemTable newer = new MemTable(2);
        MemTable older = new MemTable(1);
        TreeMap<byte[], Entry> model = new TreeMap<>(KeyFormat::compare);
        for (int i = 0; i < 3_000; i++) {
            byte[] userKey = randomUserKey(random);
            long version = random.nextInt(8);
            int where = random.nextInt(3); // 0: newer only, 1: older only, 2: both (a flushed copy)
            byte[] internalKey = KeyFormat.encode(userKey, version);
            if (where != 1 && newer.put(userKey, version, NONE, (byte) 2, ValueStruct.NO_EXPIRY, Bytes.utf8("new"))) {
                model.put(internalKey, new Entry(internalKey, value(version, "new")));
            }
            if (where != 0 && older.put(userKey, version, NONE, (byte) 1, ValueStruct.NO_EXPIRY, Bytes.utf8("old"))) {
                model.putIfAbsent(internalKey, new Entry(internalKey, value(version, "old")));
            }
        }
        MergingIterator merged = new MergingIterator(List.of(newer.iterator(reverse), older.iterator(reverse)), reverse);
        merged.seekToFirst();
        assertWalk(reverse ? model.descendingMap() : model, merged, Integer.MAX_VALUE, "memtables");
        for (int i = 0; i < 500; i++) {
            byte[] userKey = randomUserKey(random);
            long version = random.nextInt(9);
            byte[] target = KeyFormat.encode(userKey, version);
            merged.seek(userKey, version);
            assertWalk(reverse ? model.headMap(target, true).descendingMap() : model.tailMap(target, true), merged, 6,
                    "memtable seek " + Bytes.escape(userKey) + "@" + version);
        }
        merged.close();
    }

    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void mergesOfMergesKeepTheFirstListedWinner(boolean reverse) {
        Random random = new Random(0x5EED_4004L);
        List<List<Entry>> sources = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            sources.add(randomSource(random, i, 200));
        }
        TreeMap<byte[], Entry> model = union(sources);
        List<ListIterator> leaves = iterators(sources, reverse);
        MergingIterator left = new MergingIterator(List.of(leaves.get(0), leaves.get(1), leaves.get(2)), reverse);
        MergingIterator right = new MergingIterator(List.of(leaves.get(3), leaves.get(4), leaves.get(5)), reverse);
        MergingIterator merged = new MergingIterator(List.of(left, right), reverse);
        merged.seekToFirst();
        assertWalk(reverse ? model.descendingMap() : model, merged, Integer.MAX_VALUE, "nested");
        merged.close();
        for (ListIterator leaf : leaves) {
            assertEquals(1, leaf.closes);
        }
    }

    /**
     * Forty children over a small key space, so that most internal keys stand in several children
     * at once and the heap is several levels deep: the walk from either end and walks after seeks
     * (landing on keys, between them, before and past every child) give the sorted union with the
     * first-listed child's entry for every shared key, and the value view agrees with value().
     */
    @ParameterizedTest(name = "reverse: {0}")
    @ValueSource(booleans = {false, true})
    void manyChildrenMergeAsTheSortedUnionAndTheFirstListedWinsEveryTie(boolean reverse) {
        Random random = new Random(0x5EED_4005L);
        List<List<Entry>> sources = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            sources.add(i % 9 == 4 ? List.of() : randomSource(random, i, 5 + random.nextInt(120)));
        }
        TreeMap<byte[], Entry> model = union(sources);
        List<ListIterator> children = iterators(sources, reverse);
        MergingIterator merged = new MergingIterator(new ArrayList<>(children), reverse);
        merged.seekToFirst();
        assertWalk(reverse ? model.descendingMap() : model, merged, Integer.MAX_VALUE, "forty children");
        for (int i = 0; i < 400; i++) {
            byte[] userKey = randomUserKey(random);
            long version = random.nextInt(10) == 0 ? Long.MAX_VALUE : random.nextInt(8);
            byte[] target = KeyFormat.encode(userKey, version);
            merged.seek(userKey, version);
            NavigableMap<byte[], Entry> rest = reverse ? model.headMap(target, true).descendingMap() : model.tailMap(target, true);
            if (merged.valid()) {
                ByteBuffer view = merged.valueBuffer();
                int at = merged.valueOffset();
                Entry expected = rest.firstEntry().getValue();
                assertEquals(expected.value().encodedSize(), merged.valueSize());
                assertEquals(expected.value().meta(), ValueStruct.meta(view, at));
                assertEquals(expected.value().userMeta(), ValueStruct.userMeta(view, at),
                        "the view shows the winning child's entry");
            }
            assertWalk(rest, merged, 25, (reverse ? "reverse" : "forward") + " seek " + Bytes.escape(userKey) + "@" + version);
        }
        merged.close();
        for (ListIterator child : children) {
            assertEquals(1, child.closes);
        }
    }

    /**
     * A source that, asked to put a seek off behind a newer version, stands on the placeholder
     * and counts the seeks it really does (each would read a block of a table).
     */
    private static final class DeferringIterator implements InternalIterator {
        private final ListIterator inner;
        private byte[] placeholder;
        private long deferredVersion;
        int seeks;

        DeferringIterator(List<Entry> entries) {
            this.inner = new ListIterator(entries, false);
        }

        @Override
        public boolean valid() {
            return placeholder != null || inner.valid();
        }

        @Override
        public void seekToFirst() {
            placeholder = null;
            inner.seekToFirst();
        }

        @Override
        public void seek(byte[] userKey, long version) {
            placeholder = null;
            seeks++;
            inner.seek(userKey, version);
        }

        @Override
        public void deferSeekBehindNewerVersion(byte[] userKey, long version, long newerVersion) {
            placeholder = KeyFormat.encode(userKey, 0);
            deferredVersion = Math.min(version, newerVersion - 1);
        }

        @Override
        public boolean seekDeferred() {
            return placeholder != null;
        }

        @Override
        public void resolveSeek() {
            byte[] userKey = Arrays.copyOf(placeholder, placeholder.length - KeyFormat.VERSION_SIZE);
            seek(userKey, deferredVersion);
        }

        @Override
        public void next() {
            inner.next();
        }

        @Override
        public byte[] keyBuffer() {
            return placeholder != null ? placeholder : inner.keyBuffer();
        }

        @Override
        public int keyLength() {
            return placeholder != null ? placeholder.length : inner.keyLength();
        }

        @Override
        public ValueStruct value() {
            return inner.value();
        }

        @Override
        public void close() {
        }
    }

    /**
     * Sources shaped as an LSM tree's (a key's newer versions in newer sources, and copies of one
     * version in two adjacent sources as while a flush installs its table): a forward seek reads
     * only the sources down to the newest holding the sought key, the rest when the walk reaches
     * them, and the walk is the union's all the same.
     */
    @Test
    void aSeekPutsOffTheSourcesOlderThanTheNewestHoldingTheKey() {
        Random random = new Random(0x5EED_4010L);
        for (int round = 0; round < 200; round++) {
            int count = 2 + random.nextInt(5);
            List<List<Entry>> sources = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                sources.add(new ArrayList<>());
            }
            java.util.Set<String> drawn = new java.util.HashSet<>();
            for (int k = 0; k < 60; k++) {
                byte[] userKey = randomUserKey(random);
                if (!drawn.add(Bytes.escape(userKey))) {
                    continue; // each key's versions are laid out once, oldest source first
                }
                long version = 1 + random.nextInt(3);
                for (int i = count - 1; i >= 0; i--) { // oldest source first: versions grow towards the newest
                    if (random.nextInt(3) == 0) {
                        version += 1 + random.nextInt(3);
                        byte[] internalKey = KeyFormat.encode(userKey, version);
                        Entry entry = new Entry(internalKey, new ValueStruct(version, NONE, (byte) i,
                                ValueStruct.NO_EXPIRY, Bytes.utf8("s" + i)));
                        sources.get(i).add(entry);
                        if (i > 0 && random.nextInt(4) == 0) {
                            sources.get(i - 1).add(entry); // the newer source's copy of the same version
                        }
                    }
                }
            }
            for (List<Entry> source : sources) { // a key drawn twice: keep each internal key once per source
                TreeMap<byte[], Entry> distinct = new TreeMap<>(KeyFormat::compare);
                source.forEach(e -> distinct.putIfAbsent(e.internalKey(), e));
                source.clear();
                source.addAll(distinct.values());
            }
            TreeMap<byte[], Entry> model = union(sources);
            List<DeferringIterator> children = new ArrayList<>();
            for (List<Entry> source : sources) {
                children.add(new DeferringIterator(source));
            }
            MergingIterator merged = new MergingIterator(new ArrayList<>(children), false);
            for (int s = 0; s < 30; s++) {
                byte[] userKey = randomUserKey(random);
                long version = random.nextBoolean() ? Long.MAX_VALUE - 1 : random.nextInt(12);
                children.forEach(c -> c.seeks = 0);
                merged.seek(userKey, version);
                int newestHolding = -1;
                byte[] from = KeyFormat.encode(userKey, version);
                for (int i = 0; i < count && newestHolding < 0; i++) {
                    for (Entry e : sources.get(i)) {
                        if (KeyFormat.compare(e.internalKey(), from) >= 0 && Arrays.equals(
                                Arrays.copyOf(e.internalKey(), e.internalKey().length - KeyFormat.VERSION_SIZE), userKey)) {
                            newestHolding = i;
                            break;
                        }
                    }
                }
                if (newestHolding >= 0) {
                    for (int i = newestHolding + 1; i < count; i++) {
                        assertEquals(0, children.get(i).seeks, "source " + i + " is older than source " + newestHolding
                                + ", which holds the key: its seek waits");
                    }
                }
                assertWalk(model.tailMap(KeyFormat.encode(userKey, version), true), merged, Integer.MAX_VALUE,
                        "round " + round + ", seek " + Bytes.escape(userKey) + "@" + version);
            }
        }
    }

    /** Checks that {@code it} yields {@code expected}'s entries in order (at most {@code limit} of them), then ends. */
    private static void assertWalk(Map<byte[], Entry> expected, InternalIterator it, int limit, String what) {
        Iterator<Entry> entries = expected.values().iterator();
        int walked = 0;
        while (entries.hasNext() && walked < limit) {
            Entry entry = entries.next();
            int at = walked;
            assertTrue(it.valid(), () -> what + ": ended after " + at + " entries, expected " + describe(entry));
            assertEquals(describe(entry), describe(it), () -> what + ": entry " + at);
            assertEquals(entry.value().meta(), it.value().meta());
            assertEquals(entry.value().userMeta(), it.value().userMeta(), () -> what + ": came from the wrong child");
            it.next();
            walked++;
        }
        if (!entries.hasNext()) {
            assertFalse(it.valid(), () -> what + ": more entries than the union, next is " + describe(it));
        }
    }

    /** Walks a merge of {@code sources} from the first entry, describing each entry. */
    private static List<String> walk(List<List<Entry>> sources, boolean reverse) {
        MergingIterator merged = new MergingIterator(new ArrayList<>(iterators(sources, reverse)), reverse);
        List<String> out = new ArrayList<>();
        for (merged.seekToFirst(); merged.valid(); merged.next()) {
            out.add(describe(merged));
        }
        merged.close();
        return out;
    }

    private static List<ListIterator> iterators(List<List<Entry>> sources, boolean reverse) {
        List<ListIterator> out = new ArrayList<>();
        for (List<Entry> source : sources) {
            out.add(new ListIterator(source, reverse));
        }
        return out;
    }

    /** The union of the sources where, for an internal key held by several, the earliest-listed source wins. */
    private static TreeMap<byte[], Entry> union(List<List<Entry>> sources) {
        TreeMap<byte[], Entry> model = new TreeMap<>(KeyFormat::compare);
        for (List<Entry> source : sources) {
            for (Entry entry : source) {
                model.putIfAbsent(entry.internalKey(), entry);
            }
        }
        return model;
    }

    /** One to seven sources, some empty, drawn from a small key space so that they overlap often. */
    private static List<List<Entry>> randomSources(Random random) {
        int count = 1 + random.nextInt(7);
        List<List<Entry>> sources = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            sources.add(random.nextInt(4) == 0 ? List.of() : randomSource(random, i, random.nextInt(400)));
        }
        return sources;
    }

    /** Up to {@code size} distinct entries whose user meta and value name source {@code index}. */
    private static List<Entry> randomSource(Random random, int index, int size) {
        TreeMap<byte[], Entry> distinct = new TreeMap<>(KeyFormat::compare);
        for (int i = 0; i < size; i++) {
            byte[] internalKey = KeyFormat.encode(randomUserKey(random), random.nextInt(6));
            byte meta = random.nextInt(8) == 0 ? ValueStruct.META_TOMBSTONE : NONE;
            ValueStruct value = new ValueStruct(KeyFormat.version(internalKey), meta, (byte) index,
                    ValueStruct.NO_EXPIRY, Bytes.utf8("s" + index));
            distinct.putIfAbsent(internalKey, new Entry(internalKey, value));
        }
        List<Entry> entries = new ArrayList<>(distinct.values());
        Collections.shuffle(entries, random); // ListIterator sorts; the order given must not matter
        return entries;
    }

    private static Entry entry(String userKey, long version, String value) {
        byte[] internalKey = KeyFormat.encode(Bytes.utf8(userKey), version);
        return new Entry(internalKey, value(version, value));
    }

    private static ValueStruct value(long version, String value) {
        byte userMeta = (byte) ("new".equals(value) ? 2 : "old".equals(value) ? 1 : 0);
        return new ValueStruct(version, NONE, userMeta, ValueStruct.NO_EXPIRY, Bytes.utf8(value));
    }

    private static String describe(Entry entry) {
        return describe(entry.internalKey(), entry.value());
    }

    private static String describe(InternalIterator it) {
        if (!it.valid()) {
            return "<invalid>";
        }
        return describe(Arrays.copyOf(it.keyBuffer(), it.keyLength()), it.value());
    }

    private static String describe(byte[] internalKey, ValueStruct value) {
        return Bytes.escape(KeyFormat.userKey(internalKey)) + "@" + KeyFormat.version(internalKey)
                + "=" + new String(value.value(), StandardCharsets.UTF_8);
    }

    private static <T> List<T> reversed(List<T> list) {
        List<T> out = new ArrayList<>(list);
        Collections.reverse(out);
        return out;
    }

    private static byte[] randomUserKey(Random random) {
        int[] alphabet = {0x00, 'a', 'b', 0x80, 0xff};
        byte[] key = new byte[random.nextInt(4)];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) alphabet[random.nextInt(alphabet.length)];
        }
        return key;
    }
}
