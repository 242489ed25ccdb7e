package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.trainkv.CorruptionException;
import io.trainkv.DbIterator;
import io.trainkv.TrainKV;
import io.trainkv.TrainKVException;
import io.trainkv.crash.SweepDatabase.LogRecord;
import io.trainkv.crash.SweepDatabase.State;
import io.trainkv.storage.FileNames;
import io.trainkv.util.ValuePointer;
import io.trainkv.vlog.VlogEntry;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.logging.Level;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Damages one file of a database at a time, every kind of file, and checks what an open and a
 * full read give: the correct contents, the loss of nothing but a torn tail, or a
 * {@link CorruptionException} naming the damaged file and an offset; never a silent loss. The
 * databases ({@link SweepDatabase}) come from one session of many flushes, compactions and
 * value-log GC runs, killed after a sync (its manifest holds every edit) or closed; their newest
 * WAL holds writes after the last flush, some with values in the value log, so damage to that
 * log reaches the WAL replay.
 *
 * <p>Damage is a byte flipped, the file truncated, or the file deleted. Offsets are dense at both
 * ends of each file (headers, footers, tails) and at every record of the newest WAL and the
 * manifest and every value-log entry; files an open deletes as obsolete get three (first,
 * middle, last byte), since nothing reads them. No byte of these databases is unsynced, so a loss is
 * allowed only where the format calls the damage a torn tail: in the newest WAL, a bad record
 * with no record after it (a flip in its last record, any truncation); in the value log,
 * damage with no entry after it in the newest value-log file, where every WAL batch from the
 * first one that points at the damage on points at damage too, and no value-log durable mark in
 * the WAL records the damaged entry as fsynced. The writes of those records may be lost, nothing
 * else. A flipped byte that sound data follows is not a tail, and a deleted
 * file never is (every file's creation is fsynced before anything depends on it). Deleting the
 * newest WAL is not swept: nothing records that it existed. A failed open must leave the damaged
 * file as it was and destroy nothing else: once the file is restored, every write reads back.
 *
 * <p>Each case ends in one {@link Outcome}, judged by comparing the state after open in full
 * with the model (every key, every value, the absence of every deleted key). The CI run takes a
 * fixed sample of about {@value #CI_CASES_PER_KIND} cases per file kind and database state plus
 * the cases where the tail rules decide; {@code -Dtrainkv.sweep.long=true} runs every case and
 * prints a table of outcomes per file kind (the one in docs/reliability.md) and every failure.
 * Cases that fail on the current engine are listed in {@link KnownFailures}.
 */
class CorruptionSweepTest {

    /** Whether to run every case and print the table. */
    static final boolean LONG = Boolean.getBoolean("trainkv.sweep.long");

    private static final int CI_CASES_PER_KIND = 14;

    /** The kinds of files the sweep damages. */
    enum Kind {
        WAL, TABLE, MANIFEST, CURRENT, VALUE_LOG, LOCK;

        /** The kind of a file in the database directory, or null for a name the sweep leaves alone. */
        static Kind of(String name) {
            if (FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0) {
                return WAL;
            }
            if (FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0) {
                return TABLE;
            }
            if (FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0) {
                return VALUE_LOG;
            }
            if (FileNames.parseManifest(name) >= 0) {
                return MANIFEST;
            }
            if (name.equals(FileNames.CURRENT)) {
                return CURRENT;
            }
            return name.equals(FileNames.LOCK) ? LOCK : null;
        }
    }

    /** How a file is damaged. */
    enum Damage { FLIP, TRUNCATE, DELETE }

    /** How a case ended; the last two are failures. */
    enum Outcome {
        /** Open succeeded and every key reads back as written. */
        CORRECT,
        /** Open or a read threw a CorruptionException naming the damaged file, and a failed open destroyed nothing. */
        CORRUPTION_REPORTED,
        /** The writes of a torn tail are gone, nothing else. */
        TAIL_LOST,
        /** Wrong contents without an error: lost writes, resurrected deletes, wrong values. */
        SILENT_LOSS,
        /** Another exception, an exception naming another file, or a failed open that destroyed data. */
        OTHER_FAILURE;

        boolean failed() {
            return this == SILENT_LOSS || this == OTHER_FAILURE;
        }
    }

    /**
     * One damaged directory. {@code role} names the file by its part in the database rather than
     * its number (see {@link #role}), so that names survive changes in file numbering; {@code at}
     * is the flipped offset or the truncated length.
     */
    record Case(State state, Kind kind, String role, String file, Damage damage, long at, boolean mmap) {
        String name() {
            String what = switch (damage) {
                case FLIP -> "flip@" + at;
                case TRUNCATE -> "truncate@" + at;
                case DELETE -> "deleted";
            };
            return prefix(state, kind) + role + " " + what + (mmap ? " mmap" : " no-mmap");
        }

        static String prefix(State state, Kind kind) {
            return state.name().toLowerCase(Locale.ROOT) + " " + kind + " ";
        }
    }

    @TempDir
    static Path shared;
    /**
     * Where damaged copies are opened: tmpfs if the machine has one. Each open and close fsyncs
     * a dozen times, which dominates a case on a disk, and the sweep simulates no crash, so
     * durability is not what it tests.
     */
    private static Path scratch;
    private static Map<State, SweepDatabase> databases;
    private static final Map<String, int[]> COUNTS = new TreeMap<>();
    private static final List<String> FAILURES = new ArrayList<>();
    private static Level logLevel;

    @BeforeAll
    static void buildDatabases() throws IOException {
        logLevel = EngineLogs.silence();
        Path tmpfs = Path.of("/dev/shm");
        scratch = Files.isDirectory(tmpfs) && Files.isWritable(tmpfs)
                ? Files.createTempDirectory(tmpfs, "trainkv-sweep-") : shared;
        databases = SweepDatabase.build(scratch);
    }

    @AfterAll
    static void printTableAndCleanUp() throws IOException {
        EngineLogs.restore(logLevel);
        if (scratch != null && !scratch.equals(shared)) {
            try (Stream<Path> paths = Files.walk(scratch)) {
                for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        if (LONG) {
            System.out.println(table());
            FAILURES.forEach(f -> System.out.println("FAILED " + f));
        }
    }

    /** The outcome counts per database state and file kind, as a Markdown table. */
    static String table() {
        StringBuilder out = new StringBuilder("| database | file kind | cases | correct | corruption reported"
                + " | tail lost | silent loss | other failure |\n|---|---|---|---|---|---|---|---|\n");
        int[] total = new int[Outcome.values().length];
        for (Map.Entry<String, int[]> e : COUNTS.entrySet()) {
            out.append("| ").append(e.getKey().trim().replace(" ", " | ")).append(row(e.getValue())).append('\n');
            for (int i = 0; i < total.length; i++) {
                total[i] += e.getValue()[i];
            }
        }
        return out.append("| all | all").append(row(total)).append('\n').toString();
    }

    private static String row(int[] counts) {
        StringBuilder row = new StringBuilder(" | ").append(Arrays.stream(counts).sum());
        for (int count : counts) {
            row.append(" | ").append(count);
        }
        return row.append(" |").toString();
    }

    static Stream<Arguments> statesAndKinds() {
        return Arrays.stream(State.values()).flatMap(s -> Arrays.stream(Kind.values()).map(k -> Arguments.of(s, k)));
    }

    @ParameterizedTest(name = "{0} database, {1}")
    @MethodSource("statesAndKinds")
    void everyDamagedFileGivesCorrectDataATornTailOrACorruptionExceptionNamingIt(State state, Kind kind) {
        assertTimeoutPreemptively(Duration.ofMinutes(LONG ? 600 : 5), () -> sweep(databases.get(state), kind));
    }

    private static void sweep(SweepDatabase db, Kind kind) throws IOException {
        List<Case> cases = cases(db, kind);
        int[] counts = COUNTS.computeIfAbsent(Case.prefix(db.state, kind), k -> new int[Outcome.values().length]);
        Map<String, String> failures = new LinkedHashMap<>();
        for (Case c : cases) {
            StringBuilder detail = new StringBuilder();
            Outcome outcome = run(db, c, detail);
            counts[outcome.ordinal()]++;
            if (outcome.failed()) {
                failures.put(c.name(), outcome + ": " + detail);
                FAILURES.add(c.name() + " (" + c.file() + "): " + outcome + ": " + detail);
            }
        }
        if (LONG) {
            assertEquals(Map.of(), failures, failures.size() + " of " + cases.size() + " cases failed");
        } else {
            KnownFailures.checkAll(Case.prefix(db.state, kind), cases.stream().map(Case::name).toList(), failures);
        }
    }

    /**
     * Every case for {@code kind} in a long run. In CI: every {@code n}th of them, for about
     * {@link #CI_CASES_PER_KIND}, and the cases where the issue's rules decide: a flip in the
     * value-log entry of the first, a middle and the last newest-WAL record that points into the
     * value log; a flip in the first, a middle and the last record of the newest WAL and of the
     * manifest; deleting CURRENT, the manifest, the first live table and value-log file, and the
     * newest value-log file.
     */
    static List<Case> cases(SweepDatabase db, Kind kind) throws IOException {
        List<Case> all = new ArrayList<>();
        List<String> files = SweepDatabase.list(db.dir).stream().filter(n -> Kind.of(n) == kind).toList();
        Map<Boolean, Integer> ordinals = new HashMap<>();
        for (String file : files) {
            boolean obsolete = db.obsolete.contains(file);
            String role = role(kind, file.equals(db.newestWal), obsolete, ordinals.merge(obsolete, 1, Integer::sum));
            long size = Files.size(db.dir.resolve(file));
            List<Long> offsets = obsolete ? Stream.of(0L, size / 2, size - 1).filter(o -> o >= 0).distinct().toList()
                    : offsets(db, file, size);
            for (int i = 0; i < offsets.size(); i++) {
                all.add(new Case(db.state, kind, role, file, Damage.FLIP, offsets.get(i), i % 2 == 0));
                all.add(new Case(db.state, kind, role, file, Damage.TRUNCATE, offsets.get(i), i % 2 == 1));
            }
            if (!file.equals(db.newestWal)) {
                all.add(new Case(db.state, kind, role, file, Damage.DELETE, 0, all.size() % 2 == 0));
            }
        }
        if (LONG) {
            return all;
        }
        Set<Long> walTargets = middles(spread(db.walRecords));
        Set<Long> manifestTargets = middles(spread(db.manifestRecords));
        Set<ValuePointer> pointerTargets = spread(db.walRecords.stream().flatMap(r -> r.pointers().stream()).toList());
        Set<String> deleteTargets = new TreeSet<>(List.of(FileNames.CURRENT, db.newestValueLog));
        files.stream().filter(f -> !db.obsolete.contains(f) && Kind.of(f) != Kind.WAL).findFirst()
                .ifPresent(deleteTargets::add);
        List<Case> sample = new ArrayList<>();
        int stride = Math.max(1, all.size() / CI_CASES_PER_KIND);
        for (int i = 0; i < all.size(); i++) {
            Case c = all.get(i);
            boolean targeted = switch (c.damage()) {
                case FLIP -> (c.file().equals(db.newestWal) && walTargets.contains(c.at()))
                        || (c.file().equals(db.manifest) && manifestTargets.contains(c.at()))
                        || pointerTargets.stream().anyMatch(p -> p.offset() + p.length() / 2 == c.at()
                        && FileNames.name(p.fileId(), FileNames.Kind.VALUE_LOG).equals(c.file()));
                case DELETE -> deleteTargets.contains(c.file());
                case TRUNCATE -> false;
            };
            if (targeted || i % stride == stride / 2) {
                sample.add(c);
            }
        }
        return sample;
    }

    /** The first, middle and last element. */
    private static <T> Set<T> spread(List<T> list) {
        return list.isEmpty() ? Set.of()
                : new HashSet<>(List.of(list.get(0), list.get(list.size() / 2), list.get(list.size() - 1)));
    }

    private static Set<Long> middles(Set<LogRecord> records) {
        Set<Long> middles = new TreeSet<>();
        records.forEach(r -> middles.add(r.middle()));
        return middles;
    }

    /**
     * A file's name by its part in the database: newest-wal, wal-N, table-N, vlog-N, manifest,
     * and old-wal-N, old-table-N, collected-vlog-N, old-manifest-N for files an open deletes as
     * obsolete (N counts from 1 in file-number order among the live or the obsolete files of the
     * kind); CURRENT and LOCK by name.
     */
    private static String role(Kind kind, boolean newestWal, boolean obsolete, int ordinal) {
        String prefix = obsolete ? (kind == Kind.VALUE_LOG ? "collected-" : "old-") : "";
        return switch (kind) {
            case WAL -> newestWal ? "newest-wal" : prefix + "wal-" + ordinal;
            case TABLE -> prefix + "table-" + ordinal;
            case VALUE_LOG -> prefix + "vlog-" + ordinal;
            case MANIFEST -> obsolete ? "old-manifest-" + ordinal : "manifest";
            case CURRENT -> FileNames.CURRENT;
            case LOCK -> FileNames.LOCK;
        };
    }

    /**
     * Offsets to flip and lengths to truncate to: dense at both ends (headers, footers, tails),
     * 24 across the file, and the first and middle byte of every record of the newest WAL and
     * the manifest and of every value-log entry.
     */
    private static List<Long> offsets(SweepDatabase db, String file, long size) {
        Set<Long> offsets = new TreeSet<>();
        for (long o = 0; o < Math.min(size, 24); o += 3) {
            offsets.add(o);
        }
        for (int i = 1; i < 25; i++) {
            offsets.add(size * i / 25);
        }
        for (long o = Math.max(0, size - 60); o < size; o += 7) {
            offsets.add(o);
        }
        List<LogRecord> records = file.equals(db.newestWal) ? db.walRecords
                : file.equals(db.manifest) ? db.manifestRecords : List.of();
        for (LogRecord r : records) {
            offsets.add(r.offset());
            offsets.add(r.middle());
        }
        for (VlogEntry e : db.valueLogEntries.getOrDefault(file, List.of())) {
            offsets.add(e.offset());
            offsets.add(e.offset() + e.length() / 2);
        }
        offsets.removeIf(o -> o < 0 || o >= size);
        return new ArrayList<>(offsets);
    }

    /**
     * How many of the newest WAL's writes must survive the damage of {@code c}: all of them,
     * unless the damage is a torn tail as the class comment defines it.
     */
    static int writesThatMustSurvive(SweepDatabase db, Case c) {
        int all = db.tail.size();
        if (c.damage() == Damage.DELETE) {
            return all;
        }
        if (c.file().equals(db.newestWal)) {
            for (int i = 0; i < db.walRecords.size(); i++) {
                if (c.at() < db.walRecords.get(i).end()) {
                    return c.damage() == Damage.TRUNCATE || i == db.walRecords.size() - 1 ? batchesBefore(db, i) : all;
                }
            }
            return all;
        }
        if (!c.file().equals(db.newestValueLog)) {
            return all;
        }
        long damageEnd = c.damage() == Damage.FLIP ? c.at() + 1 : Long.MAX_VALUE;
        Set<Long> damaged = new TreeSet<>();
        for (VlogEntry e : db.valueLogEntries.get(c.file())) {
            if (e.offset() >= damageEnd) {
                return all; // a sound entry follows
            }
            if (e.offset() + e.length() > c.at()) {
                damaged.add(e.offset());
            }
        }
        long fileId = FileNames.parseNumber(c.file(), FileNames.Kind.VALUE_LOG);
        int first = -1;
        for (int i = 0; i < db.walRecords.size(); i++) {
            LogRecord r = db.walRecords.get(i);
            if (r.isDurableMark()) {
                continue;
            }
            boolean pointsAtDamage = r.pointers().stream()
                    .anyMatch(p -> p.fileId() == fileId && damaged.contains(p.offset()));
            boolean fsynced = r.pointers().stream().anyMatch(p -> p.fileId() == fileId && damaged.contains(p.offset())
                    && db.walRecords.stream().anyMatch(m -> m.markFileId() == fileId
                            && m.markLength() >= p.offset() + p.length()));
            if (fsynced) {
                return all; // a durable mark proves the damaged entry was written: damage, not a tail
            }
            if (pointsAtDamage && first < 0) {
                first = i;
            } else if (!pointsAtDamage && first >= 0) {
                return all; // a sound record follows
            }
        }
        return first < 0 ? all : batchesBefore(db, first);
    }

    /** The writes of the newest WAL before its record {@code index}: its batch records before it. */
    private static int batchesBefore(SweepDatabase db, int index) {
        return (int) db.walRecords.subList(0, index).stream().filter(r -> !r.isDurableMark()).count();
    }

    /** Damages a copy of the database as {@code c} says, opens it, reads everything and judges. */
    private static Outcome run(SweepDatabase db, Case c, StringBuilder detail) throws IOException {
        Path dir = copyOf(db);
        Path damaged = dir.resolve(c.file());
        switch (c.damage()) {
            case FLIP -> flip(damaged, c.at());
            case TRUNCATE -> {
                try (FileChannel channel = FileChannel.open(damaged, StandardOpenOption.WRITE)) {
                    channel.truncate(c.at());
                }
            }
            case DELETE -> Files.delete(damaged);
        }
        byte[] before = c.damage() == Damage.DELETE ? null : Files.readAllBytes(damaged);
        TrainKV opened;
        try {
            opened = TrainKV.open(SweepDatabase.options(dir).mmap(c.mmap()));
        } catch (RuntimeException e) {
            if (!reported(c, e, detail)) {
                return Outcome.OTHER_FAILURE;
            }
            String destroyed = destroyedByFailedOpen(db, c, dir, before);
            if (destroyed != null) {
                detail.append("the failed open (").append(e).append(") ").append(destroyed);
                return Outcome.OTHER_FAILURE;
            }
            return Outcome.CORRUPTION_REPORTED;
        }
        Map<String, byte[]> state = new TreeMap<>();
        Set<String> unreadable = new TreeSet<>();
        try (opened) {
            for (int i = 0; i < SweepDatabase.KEYS; i++) {
                String key = CrashWorkload.key(i);
                try {
                    byte[] value = opened.get(key.getBytes(StandardCharsets.UTF_8));
                    if (value != null) {
                        state.put(key, value);
                    }
                } catch (RuntimeException e) {
                    if (!reported(c, e, detail)) {
                        return Outcome.OTHER_FAILURE;
                    }
                    unreadable.add(key);
                }
            }
            Map<String, byte[]> scanned = new TreeMap<>();
            try (DbIterator it = opened.iterator()) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    scanned.put(it.keyAsString(), it.value());
                }
            } catch (RuntimeException e) {
                if (!reported(c, e, detail)) {
                    return Outcome.OTHER_FAILURE;
                }
                scanned = null;
                unreadable.add("(the full scan)");
            }
            if (scanned != null) {
                scanned.keySet().removeAll(unreadable);
                if (!CrashWorkload.sameState(state, scanned)) {
                    detail.append("point reads and a full scan disagree: ")
                            .append(CrashWorkload.describeDifference(state, scanned));
                    return Outcome.SILENT_LOSS;
                }
            }
        }
        int mustSurvive = writesThatMustSurvive(db, c);
        for (int survived = db.tail.size(); survived >= mustSurvive; survived--) {
            Map<String, byte[]> model = db.model(survived);
            model.keySet().removeAll(unreadable);
            if (CrashWorkload.sameState(model, state)) {
                if (!unreadable.isEmpty()) {
                    return Outcome.CORRUPTION_REPORTED;
                }
                return survived == db.tail.size() ? Outcome.CORRECT : Outcome.TAIL_LOST;
            }
        }
        Map<String, byte[]> expected = db.model(db.tail.size());
        expected.keySet().removeAll(unreadable);
        detail.append("open succeeded; ").append(mustSurvive).append(" of the newest WAL's ").append(db.tail.size())
                .append(" writes must survive; against all writes: ")
                .append(CrashWorkload.describeDifference(expected, state));
        return Outcome.SILENT_LOSS;
    }

    /**
     * Whether {@code e} reports the damage of {@code c}: a CorruptionException naming the damaged
     * file and an offset (for damage in CURRENT, the manifest it names will do, and for a deleted
     * manifest, CURRENT, which names it); for a deleted CURRENT, any TrainKVException naming
     * CURRENT. Appends what is wrong to {@code detail} otherwise.
     */
    private static boolean reported(Case c, RuntimeException e, StringBuilder detail) {
        if (e instanceof CorruptionException corruption) {
            Kind named = Kind.of(corruption.fileName());
            boolean manifestOrCurrent = (c.kind() == Kind.CURRENT && named == Kind.MANIFEST)
                    || (c.kind() == Kind.MANIFEST && c.damage() == Damage.DELETE && named == Kind.CURRENT);
            boolean namesIt = corruption.fileName().equals(c.file()) || manifestOrCurrent;
            if (namesIt && corruption.offset() >= 0 && e.getMessage().contains(corruption.fileName())) {
                return true;
            }
        } else if (c.kind() == Kind.CURRENT && c.damage() == Damage.DELETE && e instanceof TrainKVException
                && e.getMessage() != null && e.getMessage().contains(FileNames.CURRENT)) {
            return true;
        }
        detail.append(e);
        return false;
    }

    /**
     * What a failed open destroyed, or null. It may delete files its manifest proves obsolete and
     * replace the manifest, but must leave the damaged file as it was, and once that file is
     * restored, the database must open with every write: so nothing it needs was deleted or
     * changed.
     */
    private static String destroyedByFailedOpen(SweepDatabase db, Case c, Path dir, byte[] before) throws IOException {
        Path damaged = dir.resolve(c.file());
        if (before != null && !(Files.exists(damaged) && Arrays.equals(before, Files.readAllBytes(damaged)))) {
            return "changed the damaged file " + c.file();
        }
        Files.copy(db.dir.resolve(c.file()), damaged, StandardCopyOption.REPLACE_EXISTING);
        try (TrainKV restored = TrainKV.open(SweepDatabase.options(dir))) {
            Map<String, byte[]> state = CrashWorkload.readAll(restored, SweepDatabase.KEYS);
            Map<String, byte[]> expected = db.model(db.tail.size());
            if (!CrashWorkload.sameState(expected, state)) {
                return "lost data: with " + c.file() + " restored, " + CrashWorkload.describeDifference(expected, state);
            }
        } catch (RuntimeException | AssertionError e) {
            return "lost data: with " + c.file() + " restored, the open or a read fails: " + e;
        }
        return null;
    }

    private static Path copyOf(SweepDatabase db) throws IOException {
        Path copy = scratch.resolve("case");
        if (Files.exists(copy)) {
            try (Stream<Path> old = Files.list(copy)) {
                for (Path p : old.toList()) {
                    Files.delete(p);
                }
            }
        } else {
            Files.createDirectory(copy);
        }
        for (String name : SweepDatabase.list(db.dir)) {
            Files.copy(db.dir.resolve(name), copy.resolve(name));
        }
        return copy;
    }

    private static void flip(Path file, long offset) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            ByteBuffer one = ByteBuffer.allocate(1);
            channel.read(one, offset);
            one.put(0, (byte) (one.get(0) ^ 0x5a)).rewind();
            channel.write(one, offset);
        }
    }
}
