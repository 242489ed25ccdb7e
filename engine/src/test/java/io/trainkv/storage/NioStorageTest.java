package io.trainkv.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** NioStorage on jimfs and on the default file system, plus the FileNames scheme it stores files under. */
class NioStorageTest {

    /** The file systems every storage test runs on. */
    enum Fs { JIMFS, DEFAULT }

    @TempDir
    Path tempDir;

    private FileSystem jimfs;

    @AfterEach
    void closeJimfs() throws IOException {
        if (jimfs != null) {
            jimfs.close();
        }
    }

    /** A database directory path, not yet created, on the given file system. */
    private Path directory(Fs fs) {
        if (fs == Fs.JIMFS) {
            jimfs = Jimfs.newFileSystem(Configuration.unix());
            return jimfs.getPath("/data/db");
        }
        return tempDir.resolve("data").resolve("db");
    }

    private static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void append(WritableFile file, String text) throws IOException {
        file.append(ByteBuffer.wrap(b(text)));
    }

    private static byte[] readAll(Storage storage, String name) throws IOException {
        try (ReadableFile file = storage.openRead(name)) {
            ByteBuffer buffer = ByteBuffer.allocate((int) file.size());
            assertEquals(buffer.capacity(), file.read(0, buffer));
            return buffer.array();
        }
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void openCreatesTheDirectoryAndBindsToItsAbsolutePath(Fs fs) throws IOException {
        Path dir = directory(fs);
        NioStorage storage = NioStorage.open(dir);
        assertTrue(Files.isDirectory(dir));
        assertEquals(dir.toAbsolutePath().normalize(), storage.directory());
        assertTrue(storage.describe().contains(dir.getFileName().toString()));
        assertEquals(List.of(), storage.list());

        try (WritableFile file = storage.create("000001.wal")) {
            append(file, "kept");
        }
        NioStorage again = NioStorage.open(dir.resolve("..").resolve("db"));
        assertEquals(storage.directory(), again.directory(), "the directory path is normalized");
        assertArrayEquals(b("kept"), readAll(again, "000001.wal"), "reopening keeps existing files");
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void createRefusesAnExistingFile(Fs fs) throws IOException {
        NioStorage storage = NioStorage.open(directory(fs));
        try (WritableFile file = storage.create("000001.wal")) {
            append(file, "original");
        }
        assertThrows(FileAlreadyExistsException.class, () -> storage.create("000001.wal"));
        assertArrayEquals(b("original"), readAll(storage, "000001.wal"), "a refused create leaves the file alone");
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void appendSizeSyncAndTruncate(Fs fs) throws IOException {
        NioStorage storage = NioStorage.open(directory(fs));
        try (WritableFile file = storage.create("data")) {
            assertEquals(0, file.size());
            append(file, "hello");
            assertEquals(5, file.size());
            ByteBuffer slice = ByteBuffer.wrap(b("--abc--"), 2, 3);
            file.append(slice);
            assertEquals(0, slice.remaining(), "append consumes every remaining byte");
            assertEquals(8, file.size());
            file.sync();
            assertEquals(8, storage.size("data"));
            assertArrayEquals(b("helloabc"), readAll(storage, "data"));

            file.truncate(3);
            assertEquals(3, file.size());
            assertEquals(3, storage.size("data"));
            append(file, "XYZ");
            assertEquals(6, file.size());
            file.sync();
            assertArrayEquals(b("helXYZ"), readAll(storage, "data"), "appends continue at the truncated end");

            file.truncate(0);
            append(file, "new");
            file.sync();
            assertArrayEquals(b("new"), readAll(storage, "data"));
        }
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void openAppendContinuesAtTheEnd(Fs fs) throws IOException {
        NioStorage storage = NioStorage.open(directory(fs));
        try (WritableFile file = storage.create("log")) {
            append(file, "first;");
        }
        try (WritableFile file = storage.openAppend("log")) {
            assertEquals(6, file.size());
            append(file, "second");
            assertEquals(12, file.size());
            file.sync();
        }
        assertArrayEquals(b("first;second"), readAll(storage, "log"));
        assertThrows(NoSuchFileException.class, () -> storage.openAppend("missing"));
        assertThrows(NoSuchFileException.class, () -> storage.openRead("missing"));
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void positionalReadsIncludingAShortReadAtTheEnd(Fs fs) throws IOException {
        NioStorage storage = NioStorage.open(directory(fs));
        byte[] content = new byte[10_000];
        for (int i = 0; i < content.length; i++) {
            content[i] = (byte) (i * 31 + 7);
        }
        try (WritableFile file = storage.create("blob")) {
            file.append(ByteBuffer.wrap(content));
            file.sync();
        }
        try (ReadableFile file = storage.openRead("blob")) {
            assertEquals(10_000, file.size());

            ByteBuffer head = ByteBuffer.allocate(16);
            assertEquals(16, file.read(0, head));
            assertArrayEquals(Arrays.copyOfRange(content, 0, 16), head.array());

            ByteBuffer middle = ByteBuffer.allocate(4_000);
            assertEquals(4_000, file.read(5_000, middle));
            assertArrayEquals(Arrays.copyOfRange(content, 5_000, 9_000), middle.array());

            ByteBuffer tail = ByteBuffer.allocate(100);
            assertEquals(30, file.read(9_970, tail), "a read past the end returns what there is");
            assertEquals(30, tail.position());
            assertArrayEquals(Arrays.copyOfRange(content, 9_970, 10_000),
                    Arrays.copyOf(tail.array(), 30));

            ByteBuffer atEnd = ByteBuffer.allocate(8);
            assertEquals(0, file.read(10_000, atEnd));
            assertEquals(0, file.read(20_000, atEnd));
            assertEquals(0, atEnd.position());

            ByteBuffer offsetInto = ByteBuffer.allocate(10);
            offsetInto.position(4);
            assertEquals(6, file.read(1, offsetInto));
            assertArrayEquals(Arrays.copyOfRange(content, 1, 7), Arrays.copyOfRange(offsetInto.array(), 4, 10));

            ByteBuffer again = ByteBuffer.allocate(16);
            assertEquals(16, file.read(0, again), "reads are positional and leave no cursor behind");
            assertArrayEquals(head.array(), again.array());
        }
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void renameReplacesTheTarget(Fs fs) throws IOException {
        NioStorage storage = NioStorage.open(directory(fs));
        try (WritableFile file = storage.create("CURRENT.tmp")) {
            append(file, "MANIFEST-000002\n");
        }
        try (WritableFile file = storage.create(FileNames.CURRENT)) {
            append(file, "MANIFEST-000001\n");
        }
        storage.rename("CURRENT.tmp", FileNames.CURRENT);
        storage.syncDirectory();
        assertFalse(storage.exists("CURRENT.tmp"));
        assertTrue(storage.exists(FileNames.CURRENT));
        assertArrayEquals(b("MANIFEST-000002\n"), readAll(storage, FileNames.CURRENT));
        assertEquals(Set.of(FileNames.CURRENT), new HashSet<>(storage.list()));

        storage.rename(FileNames.CURRENT, "fresh");
        assertEquals(Set.of("fresh"), new HashSet<>(storage.list()));
        assertThrows(NoSuchFileException.class, () -> storage.rename("missing", "other"));
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void deleteRemovesAFileAndIgnoresAMissingOne(Fs fs) throws IOException {
        NioStorage storage = NioStorage.open(directory(fs));
        storage.create("000003.sst").close();
        assertTrue(storage.exists("000003.sst"));
        storage.delete("000003.sst");
        assertFalse(storage.exists("000003.sst"));
        storage.delete("000003.sst");
        storage.delete("never-existed");
        storage.syncDirectory();
        assertEquals(List.of(), storage.list());
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void listShowsOnlyRegularFiles(Fs fs) throws IOException {
        Path dir = directory(fs);
        NioStorage storage = NioStorage.open(dir);
        for (String name : List.of("000001.wal", "000002.sst", "000003.vlog", FileNames.CURRENT)) {
            storage.create(name).close();
        }
        Files.createDirectory(dir.resolve("subdirectory"));
        Files.createDirectory(dir.resolve("000004.sst"));
        assertEquals(Set.of("000001.wal", "000002.sst", "000003.vlog", FileNames.CURRENT), new HashSet<>(storage.list()));
        assertEquals(4, storage.list().size());
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void sizeAndExists(Fs fs) throws IOException {
        NioStorage storage = NioStorage.open(directory(fs));
        assertFalse(storage.exists("x"));
        try (WritableFile file = storage.create("x")) {
            append(file, "12345");
        }
        assertTrue(storage.exists("x"));
        assertEquals(5, storage.size("x"));
        assertThrows(NoSuchFileException.class, () -> storage.size("y"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "a/b", "../escape", "a\\b", "/abs"})
    void namesThatAreNotPlainFileNamesAreRejected(String name) throws IOException {
        NioStorage storage = NioStorage.open(directory(Fs.JIMFS));
        assertThrows(IllegalArgumentException.class, () -> storage.delete(name));
        assertTrue(Files.isDirectory(storage.directory()), "the database directory survives");
        assertThrows(IllegalArgumentException.class, () -> storage.create(name));
        assertThrows(IllegalArgumentException.class, () -> storage.openRead(name));
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void aDirectoryCanBeLockedOnceAtATime(Fs fs) throws IOException {
        Path dir = directory(fs);
        NioStorage storage = NioStorage.open(dir);
        NioStorage other = NioStorage.open(dir);
        DirectoryLock lock = storage.lock(FileNames.LOCK);
        try {
            assertTrue(storage.exists(FileNames.LOCK));
            DirectoryLockedException second = assertThrows(DirectoryLockedException.class, () -> other.lock(FileNames.LOCK));
            assertTrue(second.getMessage().contains(storage.directory().toString()),
                    "message should name the directory: " + second.getMessage());
            assertThrows(DirectoryLockedException.class, () -> storage.lock(FileNames.LOCK),
                    "the same storage cannot lock twice either");
            NioStorage viaDotDot = NioStorage.open(dir.resolve("..").resolve("db"));
            assertThrows(DirectoryLockedException.class, () -> viaDotDot.lock(FileNames.LOCK));
        } finally {
            lock.close();
        }
        lock.close();
        try (DirectoryLock again = other.lock(FileNames.LOCK)) {
            assertThrows(DirectoryLockedException.class, () -> storage.lock(FileNames.LOCK));
        }
        storage.lock(FileNames.LOCK).close();
    }

    @Test
    void aFailedLockThroughAnotherPathToTheSameDirectoryKeepsTheOwnersLock() throws Exception {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path dir = directory(Fs.DEFAULT);
        NioStorage owner = NioStorage.open(dir);
        Path alias = Files.createSymbolicLink(tempDir.resolve("alias"), dir);
        Path lockFile = dir.resolve(FileNames.LOCK);
        try (DirectoryLock lock = owner.lock(FileNames.LOCK)) {
            assertEquals(LockFromAnotherProcess.HELD, tryLockFromAnotherProcess(lockFile),
                    "precondition: another process finds the directory locked");
            NioStorage viaAlias = NioStorage.open(alias);
            assertThrows(DirectoryLockedException.class, () -> viaAlias.lock(FileNames.LOCK));
            assertEquals(LockFromAnotherProcess.HELD, tryLockFromAnotherProcess(lockFile),
                    "after a refused second lock in this process, another process must still find the directory locked");
        }
        assertEquals(LockFromAnotherProcess.ACQUIRED, tryLockFromAnotherProcess(lockFile));
    }

    private static int tryLockFromAnotherProcess(Path lockFile) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        Process process = new ProcessBuilder(java.toString(), "-cp", System.getProperty("java.class.path"),
                LockFromAnotherProcess.class.getName(), lockFile.toString())
                .redirectErrorStream(true)
                .start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int status = process.waitFor();
        assertTrue(status == LockFromAnotherProcess.HELD || status == LockFromAnotherProcess.ACQUIRED,
                "lock probe failed with status " + status + ": " + output);
        return status;
    }

    /** Entry point run in a child JVM: tries to take the file lock a database directory's owner holds. */
    static final class LockFromAnotherProcess {
        static final int ACQUIRED = 0;
        static final int HELD = 3;

        public static void main(String[] args) throws IOException {
            try (FileChannel channel = FileChannel.open(Path.of(args[0]), StandardOpenOption.WRITE)) {
                FileLock lock = channel.tryLock();
                System.exit(lock == null ? HELD : ACQUIRED);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Fs.class)
    void locksOfDifferentDirectoriesAreIndependent(Fs fs) throws IOException {
        Path dir = directory(fs);
        NioStorage first = NioStorage.open(dir.resolveSibling("one"));
        NioStorage second = NioStorage.open(dir.resolveSibling("two"));
        try (DirectoryLock a = first.lock(FileNames.LOCK); DirectoryLock b = second.lock(FileNames.LOCK)) {
            assertTrue(first.exists(FileNames.LOCK));
            assertTrue(second.exists(FileNames.LOCK));
        }
    }

    @Test
    void onAPosixDiskFilesAreOwnerOnlyAndTheDirectoryToo() throws IOException {
        assumeTrue(FileSystems.getDefault().supportedFileAttributeViews().contains("posix"));
        Path dir = directory(Fs.DEFAULT);
        NioStorage storage = NioStorage.open(dir);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        storage.create("000001.wal").close();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("000001.wal"))));
        try (DirectoryLock lock = storage.lock(FileNames.LOCK)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve(FileNames.LOCK))));
        }
        storage.rename("000001.wal", "000002.wal");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("000002.wal"))));
    }

    @Test
    void onAPosixJimfsFilesAreOwnerOnlyAndTheDirectoryToo() throws IOException {
        jimfs = Jimfs.newFileSystem(Configuration.unix().toBuilder().setAttributeViews("basic", "owner", "posix").build());
        Path dir = jimfs.getPath("/srv/db");
        NioStorage storage = NioStorage.open(dir);
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        storage.create("000001.sst").close();
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("000001.sst"))));
    }

    @ParameterizedTest
    @CsvSource({
        "0, WAL, 000000.wal",
        "7, WAL, 000007.wal",
        "42, TABLE, 000042.sst",
        "999999, VALUE_LOG, 999999.vlog",
        "1234567, TABLE, 1234567.sst",
    })
    void namesAreZeroPaddedToSixDigits(long number, FileNames.Kind kind, String expected) {
        assertEquals(expected, FileNames.name(number, kind));
    }

    static List<Arguments> numbersAndKinds() {
        List<Arguments> cases = new ArrayList<>();
        for (FileNames.Kind kind : FileNames.Kind.values()) {
            for (long number : new long[] {0, 1, 7, 999_999, 1_000_000, 123_456_789_012L, 999_999_999_999_999_999L}) {
                cases.add(Arguments.of(number, kind));
            }
        }
        return cases;
    }

    @ParameterizedTest
    @MethodSource("numbersAndKinds")
    void nameAndParseNumberRoundTrip(long number, FileNames.Kind kind) {
        String name = FileNames.name(number, kind);
        assertEquals(number, FileNames.parseNumber(name, kind));
        for (FileNames.Kind other : FileNames.Kind.values()) {
            if (other != kind) {
                assertEquals(-1, FileNames.parseNumber(name, other), name + " is not a " + other + " name");
            }
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1_000_000_000_000_000_000L, Long.MAX_VALUE})
    void everyNameThatNameProducesParsesBack(long number) {
        String name = FileNames.name(number, FileNames.Kind.WAL);
        assertEquals(number, FileNames.parseNumber(name, FileNames.Kind.WAL), name);
    }

    @ParameterizedTest
    @ValueSource(strings = {"12.wal", "12345.wal", "abcdef.wal", "000001.sst", "000001.vlog", "000001.WAL", "000001",
            ".wal", "000001.wal.tmp", "-00001.wal", "+00001.wal", " 000001.wal", "0000a1.wal", "00000\u0661.wal",
            "MANIFEST-000001", "CURRENT", "LOCK"})
    void parseNumberRejectsOtherNamesAsWal(String name) {
        assertEquals(-1, FileNames.parseNumber(name, FileNames.Kind.WAL));
    }

    @Test
    void parseNumberAcceptsLongerZeroPaddedNumbers() {
        assertEquals(42, FileNames.parseNumber("0000042.wal", FileNames.Kind.WAL));
        assertEquals(123_456_789L, FileNames.parseNumber("123456789.vlog", FileNames.Kind.VALUE_LOG));
        assertEquals(5, FileNames.parseNumber("000005.sst", FileNames.Kind.TABLE));
    }

    @Test
    void nameRejectsNegativeNumbers() {
        assertThrows(IllegalArgumentException.class, () -> FileNames.name(-1, FileNames.Kind.WAL));
        assertThrows(IllegalArgumentException.class, () -> FileNames.name(Long.MIN_VALUE, FileNames.Kind.TABLE));
    }

    @Test
    void fixedNamesAndSuffixes() {
        assertEquals("LOCK", FileNames.LOCK);
        assertEquals("CURRENT", FileNames.CURRENT);
        assertEquals(".wal", FileNames.Kind.WAL.suffix());
        assertEquals(".sst", FileNames.Kind.TABLE.suffix());
        assertEquals(".vlog", FileNames.Kind.VALUE_LOG.suffix());
    }
}
