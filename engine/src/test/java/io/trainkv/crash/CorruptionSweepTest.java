package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.trainkv.CorruptionException;
import io.trainkv.DbIterator;
import io.trainkv.Options;
import io.trainkv.TrainKV;
import io.trainkv.storage.FileNames;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Flips bytes at many offsets, and truncates at many lengths, every kind of file of a closed
 * database; opening and reading everything must either return correct data or fail with a
 * {@link CorruptionException} naming the damaged file, never wrong data, another exception or a
 * hang. Values may go missing only where the format says damage there looks like a torn write:
 * the final records of the newest WAL and the value-log entries those records point to. A
 * damaged or cut manifest tail loses nothing: files its lost edits made obsolete are deleted only
 * after a newer manifest snapshot, so recovery falls back to an older table set and replays the
 * WALs it still needs.
 */
class CorruptionSweepTest {

    private static final int KEYS = 400;

    /** The kinds of files the sweep damages. */
    enum Kind {
        WAL(name -> FileNames.parseNumber(name, FileNames.Kind.WAL) >= 0, true),
        TABLE(name -> FileNames.parseNumber(name, FileNames.Kind.TABLE) >= 0, false),
        MANIFEST(name -> FileNames.parseManifest(name) >= 0, false),
        CURRENT(name -> name.equals(FileNames.CURRENT), false),
        VALUE_LOG(name -> FileNames.parseNumber(name, FileNames.Kind.VALUE_LOG) >= 0, true);

        final Predicate<String> files;
        /** Whether damage may read as a torn tail, losing the newest unflushed writes. */
        final boolean mayLoseUnflushedTail;

        Kind(Predicate<String> files, boolean mayLoseUnflushedTail) {
            this.files = files;
            this.mayLoseUnflushedTail = mayLoseUnflushedTail;
        }
    }

    @TempDir
    static Path shared;

    private static Path golden;
    private static final Map<String, byte[]> EXPECTED = new LinkedHashMap<>();
    private static final List<String> UNFLUSHED = new ArrayList<>();

    static Options options(Path dir) {
        return CrashTest.small(Options.at(dir)).mmap(false);
    }

    @BeforeAll
    static void buildGoldenDatabase() {
        golden = shared.resolve("golden");
        Random random = new Random(99);
        try (TrainKV db = TrainKV.open(options(golden))) {
            for (int i = 0; i < KEYS; i++) {
                byte[] value = new byte[i % 5 == 0 ? 1500 : 40 + random.nextInt(60)];
                random.nextBytes(value);
                String key = String.format("key-%04d", i);
                db.set(key.getBytes(), value);
                EXPECTED.put(key, value);
                if (i == KEYS * 3 / 4) {
                    db.flush();
                }
                if (i > KEYS * 3 / 4) {
                    UNFLUSHED.add(key);
                }
            }
        }
    }

    private static List<Path> filesOf(Path dir, Kind kind) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> kind.files.test(p.getFileName().toString())).filter(p -> {
                try {
                    return Files.size(p) > 0;
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }).sorted().toList();
        }
    }

    private static Path copyOfGolden(String name) throws IOException {
        Path copy = shared.resolve(name);
        if (Files.exists(copy)) {
            try (Stream<Path> old = Files.list(copy)) {
                for (Path p : old.toList()) {
                    Files.delete(p);
                }
            }
        } else {
            Files.createDirectory(copy);
        }
        try (Stream<Path> files = Files.list(golden)) {
            for (Path p : files.toList()) {
                if (!p.getFileName().toString().equals(FileNames.LOCK)) {
                    Files.copy(p, copy.resolve(p.getFileName()));
                }
            }
        }
        return copy;
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    @Timeout(300)
    void flippedBytesAnywhereGiveCorrectDataOrACorruptionExceptionNamingTheFile(Kind kind) throws Exception {
        for (Path goldenFile : filesOf(golden, kind)) {
            long size = Files.size(goldenFile);
            for (long offset : offsets(size)) {
                Path dir = copyOfGolden("flip");
                Path damaged = dir.resolve(goldenFile.getFileName());
                flip(damaged, offset);
                check(dir, kind, damaged.getFileName().toString(), "byte " + offset + " flipped");
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Kind.class)
    @Timeout(300)
    void truncationAtAnyLengthGivesCorrectDataOrACorruptionExceptionNamingTheFile(Kind kind) throws Exception {
        for (Path goldenFile : filesOf(golden, kind)) {
            long size = Files.size(goldenFile);
            for (long length : offsets(size)) {
                Path dir = copyOfGolden("truncate");
                Path damaged = dir.resolve(goldenFile.getFileName());
                try (FileChannel channel = FileChannel.open(damaged, StandardOpenOption.WRITE)) {
                    channel.truncate(length);
                }
                check(dir, kind, damaged.getFileName().toString(), "truncated to " + length + " of " + size);
            }
        }
    }

    /** About 40 offsets across the file, denser at both ends where headers and footers live. */
    private static List<Long> offsets(long size) {
        List<Long> offsets = new ArrayList<>();
        for (long o = 0; o < Math.min(size, 24); o += 3) {
            offsets.add(o);
        }
        for (int i = 1; i < 25; i++) {
            offsets.add(size * i / 25);
        }
        for (long o = Math.max(0, size - 60); o < size; o += 7) {
            offsets.add(o);
        }
        return offsets.stream().filter(o -> o >= 0 && o < size).distinct().toList();
    }

    private static void check(Path dir, Kind kind, String damagedFile, String what) {
        String context = kind + " " + damagedFile + " " + what;
        try (TrainKV db = TrainKV.open(options(dir))) {
            for (Map.Entry<String, byte[]> e : EXPECTED.entrySet()) {
                byte[] actual;
                try {
                    actual = db.get(e.getKey().getBytes());
                } catch (CorruptionException c) {
                    assertNamesTheDamage(c, damagedFile, context);
                    continue;
                }
                if (actual == null) {
                    assertTrue(kind.mayLoseUnflushedTail && UNFLUSHED.contains(e.getKey()),
                            context + ": " + e.getKey() + " went missing");
                } else {
                    assertArrayEquals(e.getValue(), actual, context + ": wrong value for " + e.getKey());
                }
            }
            try (DbIterator it = db.iterator()) {
                for (it.seekToFirst(); it.valid(); it.next()) {
                    assertArrayEquals(EXPECTED.get(it.keyAsString()), it.value(), context + ": scan of " + it.keyAsString());
                }
            } catch (CorruptionException c) {
                assertNamesTheDamage(c, damagedFile, context);
            }
        } catch (CorruptionException c) {
            assertNamesTheDamage(c, damagedFile, context);
        } catch (RuntimeException | Error e) {
            if (e instanceof AssertionError assertion) {
                throw assertion;
            }
            fail(context + ": " + e, e);
        }
    }

    private static void assertNamesTheDamage(CorruptionException c, String damagedFile, String context) {
        assertTrue(c.getMessage().contains(c.fileName()) && c.offset() >= 0, context + ": " + c.getMessage());
        boolean namesIt = c.fileName().equals(damagedFile)
                || (damagedFile.equals(FileNames.CURRENT) && FileNames.parseManifest(c.fileName()) >= 0);
        assertTrue(namesIt, context + ": the exception names " + c.fileName() + ": " + c.getMessage());
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
