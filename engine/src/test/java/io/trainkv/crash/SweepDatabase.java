package io.trainkv.crash;

import io.trainkv.CorruptionException;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.ValueLogGcReport;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import io.trainkv.vlog.ValueLog;
import io.trainkv.vlog.VlogEntry;
import io.trainkv.wal.WalBatchDecoder;
import io.trainkv.wal.WalFormat;
import io.trainkv.wal.WalReader;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The undamaged database the corruption sweep copies and damages, with what the sweep needs to
 * judge a case: the model, the writes the newest WAL holds (one per record), where each record of
 * the newest WAL and of the manifest lies and which value-log entries the WAL's records point at,
 * the entries of every value-log file, and which files an open deletes as obsolete.
 *
 * <p>One session on a {@link SimulatedDisk} with one thread and no background compaction, so the
 * files are the same bytes on every run: rounds of writes (small values, value-log values,
 * deletes, batches), each flushed; a compaction of a key range every fourth round; a value-log
 * file collected every sixth; then, after the last flush, the writes the newest WAL holds, some
 * with values in the value log, and a sync. Two states of it are written out to directories:
 * {@link State#KILLED}, the process killed after the sync (the manifest holds every edit of the
 * session, and the files its edits made obsolete still wait for deletion); and
 * {@link State#CLOSED}, after {@code close()} (which replaces the manifest by a snapshot and
 * deletes those files). In neither is any byte unsynced.
 */
final class SweepDatabase {

    /** Keys are {@code key-0000} up to this, exclusive. */
    static final int KEYS = 400;
    private static final int ROUNDS = 24;
    private static final int TAIL_WRITES = 30;

    /** How the session ended. */
    enum State { KILLED, CLOSED }

    /**
     * One WAL or manifest record: where it lies, the value-log entries it points at, and for a
     * WAL's value-log durable mark, the file id and durable length it records (else -1 and -1).
     */
    record LogRecord(long offset, long end, List<ValuePointer> pointers, long markFileId, long markLength) {
        long middle() {
            return (offset + end) / 2;
        }

        boolean isDurableMark() {
            return markFileId >= 0;
        }
    }

    final State state;
    final Path dir;
    /** The model after every write before the newest WAL's. */
    final Map<String, byte[]> beforeTail;
    /** The writes in the newest WAL, one per batch record, in order. */
    final List<Map<String, byte[]>> tail;
    final String newestWal;
    final List<LogRecord> walRecords;
    /** The manifest CURRENT names. */
    final String manifest;
    final List<LogRecord> manifestRecords;
    /** Entries of each non-empty value-log file, by file name, in file order. */
    final Map<String, List<VlogEntry>> valueLogEntries;
    /** The highest-numbered value-log file holding entries. */
    final String newestValueLog;
    /**
     * Files an open deletes as obsolete: flushed WALs, compacted tables, collected value logs (not
     * the newest WAL and the manifest, which an open flushes and rewrites).
     */
    final Set<String> obsolete;

    private SweepDatabase(State state, Path dir, Map<String, byte[]> beforeTail, List<Map<String, byte[]>> tail)
            throws IOException {
        this.state = state;
        this.dir = dir;
        this.beforeTail = beforeTail;
        this.tail = tail;
        Storage storage = NioStorage.open(dir);
        List<String> names = new ArrayList<>(new TreeSet<>(storage.list()));
        newestWal = names.stream().filter(n -> FileNames.parseNumber(n, FileNames.Kind.WAL) >= 0)
                .reduce((a, b) -> b).orElseThrow();
        walRecords = records(storage, newestWal, true);
        long batches = walRecords.stream().filter(r -> !r.isDurableMark()).count();
        if (batches != tail.size()) {
            throw new IllegalStateException("the newest WAL holds " + batches + " batch records, not one per write"
                    + " after the last flush (" + tail.size() + ")");
        }
        manifest = Files.readString(dir.resolve(FileNames.CURRENT), StandardCharsets.UTF_8).trim();
        manifestRecords = records(storage, manifest, false);
        Map<String, List<VlogEntry>> entries = new TreeMap<>();
        String newest = null;
        for (String name : names) {
            long id = FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG);
            if (id >= 0 && storage.size(name) > 0) {
                List<VlogEntry> list = new ArrayList<>();
                try (ReadSource source = ReadSource.open(storage.openRead(name), false)) {
                    CorruptionException damage = ValueLog.scanFile(source, name, id, list::add);
                    if (damage != null) {
                        throw damage;
                    }
                }
                entries.put(name, list);
                newest = name;
            }
        }
        valueLogEntries = Collections.unmodifiableMap(entries);
        newestValueLog = newest;
        Set<String> replaced = obsoleteFiles(dir.resolveSibling(dir.getFileName() + "-check"));
        replaced.removeAll(List.of(newestWal, manifest)); // live, but an open flushes the one and rewrites the other
        obsolete = Collections.unmodifiableSet(replaced);
    }

    static Options options(Path dir) {
        return sized(Options.at(dir));
    }

    /**
     * The crash tests' small sizes with 4 KiB tables (so the key range spans many), and no
     * size-triggered compaction, which would run in the background and vary the files.
     */
    private static Options sized(Options options) {
        return CrashTest.small(options).baseLevelSize(1L << 30).level0Triggers(1000, 1000, 1000).targetFileSize(4096);
    }

    /** Builds the session and writes both states out under {@code root}. */
    static Map<State, SweepDatabase> build(Path root) throws IOException {
        Random random = new Random(20261130);
        Map<String, byte[]> model = new HashMap<>();
        Map<String, byte[]> beforeTail;
        List<Map<String, byte[]>> tail = new ArrayList<>();
        SimulatedDisk disk = new SimulatedDisk();
        Path killed = root.resolve("killed");
        TrainKV db = TrainKV.open(sized(Options.inTempDirectory().storage(disk)));
        try {
            for (int round = 0; round < ROUNDS; round++) {
                for (int i = 0; i < 40; i++) {
                    write(db, randomChanges(random), model);
                }
                db.flush();
                if (round % 4 == 1) {
                    int from = random.nextInt(KEYS / 2);
                    db.compactRange(CrashWorkload.key(from).getBytes(StandardCharsets.UTF_8),
                            CrashWorkload.key(from + KEYS / 3).getBytes(StandardCharsets.UTF_8));
                }
                if (round % 6 == 5) {
                    ValueLogGcReport sample = db.sampleValueLogGC(1.0);
                    if (!sample.files().isEmpty()) {
                        db.collectValueLogFiles(Set.of(sample.files().get(0).fileId()));
                    }
                    db.flush();
                }
            }
            beforeTail = Map.copyOf(model);
            for (int i = 0; i < TAIL_WRITES; i++) {
                Map<String, byte[]> changes = randomChanges(random);
                if (i == TAIL_WRITES * 2 / 3) { // overwrite an earlier tail write: its value-log entry is dead
                    changes = new LinkedHashMap<>();
                    for (String key : tail.get(3).keySet()) {
                        changes.put(key, value(random, false));
                    }
                }
                write(db, changes, model);
                tail.add(Collections.unmodifiableMap(changes));
            }
            db.sync();
            writeOut(disk.processKill(), killed);
        } finally {
            CrashTest.closeQuietly(db);
        }
        Path closed = root.resolve("closed");
        writeOut(disk, closed);
        Map<State, SweepDatabase> databases = new LinkedHashMap<>();
        databases.put(State.KILLED, new SweepDatabase(State.KILLED, killed, beforeTail, List.copyOf(tail)));
        databases.put(State.CLOSED, new SweepDatabase(State.CLOSED, closed, beforeTail, List.copyOf(tail)));
        return databases;
    }

    /** A set (small or value-log value), a delete, or a batch of three. */
    private static Map<String, byte[]> randomChanges(Random random) {
        Map<String, byte[]> changes = new LinkedHashMap<>();
        int kind = random.nextInt(100);
        int count = kind < 90 ? 1 : 3;
        for (int j = 0; j < count; j++) {
            int what = kind < 90 ? kind : random.nextInt(90);
            changes.put(CrashWorkload.key(random.nextInt(KEYS)), what < 75 ? value(random, what >= 55) : null);
        }
        return changes;
    }

    private static byte[] value(Random random, boolean large) {
        byte[] value = new byte[large ? 1100 + random.nextInt(900) : 20 + random.nextInt(80)];
        random.nextBytes(value);
        return value;
    }

    private static void write(TrainKV db, Map<String, byte[]> changes, Map<String, byte[]> model) {
        db.write(CrashWorkload.batchOf(changes));
        CrashWorkload.applyToModel(model, changes);
    }

    /** The model after every write before the newest WAL's and the first {@code tailWrites} of its writes. */
    Map<String, byte[]> model(int tailWrites) {
        Map<String, byte[]> model = new HashMap<>(beforeTail);
        for (int i = 0; i < tailWrites; i++) {
            CrashWorkload.applyToModel(model, tail.get(i));
        }
        return model;
    }

    /** Writes every file of {@code disk} into {@code dir}, and the empty LOCK file an open creates there. */
    private static void writeOut(SimulatedDisk disk, Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String name : disk.list()) {
            try (ReadableFile file = disk.openRead(name)) {
                ByteBuffer bytes = ByteBuffer.allocate((int) file.size());
                file.read(0, bytes);
                Files.write(dir.resolve(name), bytes.array());
            }
        }
        Files.write(dir.resolve(FileNames.LOCK), new byte[0]);
    }

    private static List<LogRecord> records(Storage storage, String name, boolean batches) throws IOException {
        List<LogRecord> records = new ArrayList<>();
        try (ReadableFile file = storage.openRead(name)) {
            WalReader reader = new WalReader(file, name, false);
            ByteBuffer payload;
            while ((payload = reader.next()) != null) {
                long offset = reader.recordOffset();
                long end = offset + WalFormat.HEADER_SIZE + payload.remaining();
                List<ValuePointer> pointers = new ArrayList<>();
                long[] mark = {-1, -1};
                if (batches) {
                    WalBatchDecoder.decode(payload, new WalBatchDecoder.Visitor() {
                        @Override
                        public void entry(long version, byte meta, byte userMeta, long expiresAt, byte[] key,
                                          byte[] value) {
                            if ((meta & ValueStruct.META_VALUE_POINTER) != 0) {
                                pointers.add(ValuePointer.decode(value));
                            }
                        }

                        @Override
                        public void durableMark(long fileId, long durableLength) {
                            mark[0] = fileId;
                            mark[1] = durableLength;
                        }
                    });
                }
                records.add(new LogRecord(offset, end, List.copyOf(pointers), mark[0], mark[1]));
            }
        }
        return List.copyOf(records);
    }

    /**
     * Opens a copy in {@code check}, which must read back every write, and returns the files that
     * open deleted.
     *
     * @throws AssertionError if the undamaged database does not read back every write
     */
    private Set<String> obsoleteFiles(Path check) throws IOException {
        Files.createDirectories(check);
        List<String> files = list(dir);
        for (String name : files) {
            Files.copy(dir.resolve(name), check.resolve(name));
        }
        try (TrainKV db = TrainKV.open(options(check))) {
            Map<String, byte[]> expected = model(tail.size());
            Map<String, byte[]> state = CrashWorkload.readAll(db, KEYS);
            if (!CrashWorkload.sameState(expected, state)) {
                throw new AssertionError("the undamaged " + this.state + " database reads back wrong: "
                        + CrashWorkload.describeDifference(expected, state));
            }
        }
        Set<String> deleted = new TreeSet<>();
        for (String name : files) {
            if (!Files.exists(check.resolve(name))) {
                deleted.add(name);
            }
        }
        return deleted;
    }

    /** The names of the files in {@code dir}, sorted. */
    static List<String> list(Path dir) throws IOException {
        try (var files = Files.list(dir)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
