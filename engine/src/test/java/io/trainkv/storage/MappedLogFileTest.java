package io.trainkv.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Storage#createLog} on the default file system: appends through a mapping read back
 * through the file, the file is preallocated with zeros ahead of the appends while open, and
 * closing cuts it to exactly the appended bytes and releases the mapping.
 */
class MappedLogFileTest {

    private static final int REGION = MappedLogFile.REGION_BYTES;

    @TempDir
    Path tempDir;

    @Test
    void appendsAcrossRegionsAreInTheFileAtOnceFollowedByZerosAndCloseCutsTheZeros() throws IOException {
        NioStorage storage = NioStorage.open(tempDir);
        Path file = tempDir.resolve("000001.log");
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        Random random = new Random(17);
        try (WritableFile log = storage.createLog("000001.log")) {
            assertInstanceOf(MappedLogFile.class, log);
            while (expected.size() < 2 * REGION + 12_345) {
                byte[] record = new byte[1 + random.nextInt(random.nextBoolean() ? 300 : 70_000)];
                random.nextBytes(record);
                if (random.nextBoolean()) {
                    ByteBuffer data = ByteBuffer.allocate(record.length + 7).position(7);
                    data.put(record).position(7);
                    log.append(data);
                    assertFalse(data.hasRemaining());
                } else {
                    byte[] padded = new byte[record.length + 5];
                    System.arraycopy(record, 0, padded, 3, record.length);
                    log.append(padded, 3, record.length);
                }
                expected.write(record);
                assertEquals(expected.size(), log.size());
            }
            awaitNextRegion((MappedLogFile) log);
            byte[] onDisk = Files.readAllBytes(file); // another reader sees the appends before any sync
            assertEquals(4L * REGION, onDisk.length, "preallocated in whole regions, one past the appends' region");
            assertArrayEquals(expected.toByteArray(), Arrays.copyOf(onDisk, expected.size()));
            for (int i = expected.size(); i < onDisk.length; i++) {
                assertEquals(0, onDisk[i], "preallocated byte " + i);
            }
            log.sync();
            assertEquals(4L * REGION, Files.size(file), "a sync keeps the preallocation");
        }
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(file));
    }

    /**
     * The region after the one being appended to is preallocated, mapped and its pages faulted in
     * on another thread before the appender reaches it (the file's length, and the resident
     * bytes of its mappings in /proc/self/smaps), and the appender's bytes are exact across it.
     */
    @Test
    void theNextRegionIsPreallocatedMappedAndFaultedInAheadOfTheAppender() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/smaps")), "needs /proc/self/smaps");
        NioStorage storage = NioStorage.open(tempDir);
        Path file = tempDir.toRealPath().resolve("000007.log");
        byte[] first = filled(REGION, (byte) 5);
        byte[] second = filled(REGION, (byte) 6);
        byte[] third = filled(REGION, (byte) 7);
        try (WritableFile log = storage.createLog("000007.log")) {
            log.append(ByteBuffer.wrap(first));
            log.append(ByteBuffer.wrap(second, 0, 1)); // moves into the second region: the third is prepared
            awaitNextRegion((MappedLogFile) log);
            assertEquals(3L * REGION, Files.size(file), "the region after the appends' region is preallocated");
            long resident = residentMappedBytes(file);
            assertTrue(resident >= REGION, "only " + resident + " bytes of the file's mappings are resident");
            log.append(ByteBuffer.wrap(second, 1, second.length - 1));
            log.append(ByteBuffer.wrap(third));
        }
        byte[] onDisk = Files.readAllBytes(file);
        assertEquals(3L * REGION, onDisk.length);
        assertArrayEquals(first, Arrays.copyOfRange(onDisk, 0, REGION));
        assertArrayEquals(second, Arrays.copyOfRange(onDisk, REGION, 2 * REGION));
        assertArrayEquals(third, Arrays.copyOfRange(onDisk, 2 * REGION, 3 * REGION));
    }

    /** A truncate back into an earlier region drops the region prepared ahead; appends then land at the cut. */
    @Test
    void aTruncateWhileTheNextRegionIsPreparedKeepsTheAppendsExact() throws IOException {
        NioStorage storage = NioStorage.open(tempDir);
        byte[] first = filled(REGION + 100, (byte) 1);
        byte[] second = filled(2 * REGION, (byte) 2);
        try (WritableFile log = storage.createLog("000008.log")) {
            log.append(ByteBuffer.wrap(first));
            awaitNextRegion((MappedLogFile) log);
            log.truncate(REGION - 50);
            log.append(ByteBuffer.wrap(second));
            assertEquals(3L * REGION - 50, log.size());
        }
        byte[] expected = Arrays.copyOf(first, 3 * REGION - 50);
        System.arraycopy(second, 0, expected, REGION - 50, second.length);
        assertArrayEquals(expected, Files.readAllBytes(tempDir.resolve("000008.log")));
    }

    /**
     * {@link WritableFile#writeBack()} from another thread while the appender crosses regions
     * neither fails nor disturbs the appends: the file ends exactly the appended bytes.
     */
    @Test
    void writeBacksFromAnotherThreadWhileAppendingKeepTheBytesExact() throws Exception {
        NioStorage storage = NioStorage.open(tempDir);
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        Random random = new Random(23);
        AtomicBoolean appending = new AtomicBoolean(true);
        AtomicInteger writeBacks = new AtomicInteger();
        AtomicReference<Throwable> failed = new AtomicReference<>();
        try (WritableFile log = storage.createLog("000009.log")) {
            Thread writeBack = new Thread(() -> {
                try {
                    while (appending.get() || writeBacks.get() == 0) {
                        log.writeBack();
                        writeBacks.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failed.set(e);
                }
            });
            writeBack.start();
            while (expected.size() < 3 * REGION + 777) {
                byte[] record = new byte[1 + random.nextInt(5_000)];
                random.nextBytes(record);
                log.append(record, 0, record.length);
                expected.write(record);
            }
            appending.set(false);
            writeBack.join();
        }
        assertNull(failed.get());
        assertTrue(writeBacks.get() > 0);
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(tempDir.resolve("000009.log")));
    }

    @Test
    void truncateCutsTheLogAndLaterAppendsContinueFromThere() throws IOException {
        NioStorage storage = NioStorage.open(tempDir);
        byte[] first = filled(REGION - 10, (byte) 1);
        byte[] second = filled(40, (byte) 2);
        byte[] third = new byte[2 * REGION + 77];
        new Random(5).nextBytes(third);
        try (WritableFile log = storage.createLog("000002.log")) {
            log.append(ByteBuffer.wrap(first));
            log.append(ByteBuffer.wrap(second)); // crosses into a second region
            log.truncate(first.length - 5);
            assertEquals(first.length - 5, log.size());
            log.append(ByteBuffer.wrap(second));
            assertEquals(first.length - 5 + second.length, log.size());
            // regions now start mid-page: the ones prepared ahead are touched from a page boundary
            log.append(third, 0, third.length);
        }
        byte[] expected = Arrays.copyOf(first, first.length - 5 + second.length + third.length);
        System.arraycopy(second, 0, expected, first.length - 5, second.length);
        System.arraycopy(third, 0, expected, first.length - 5 + second.length, third.length);
        assertArrayEquals(expected, Files.readAllBytes(tempDir.resolve("000002.log")));
    }

    @Test
    void closeUnmapsTheFileAndRefusesLaterUse() throws IOException {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs /proc/self/maps");
        NioStorage storage = NioStorage.open(tempDir);
        Path file = tempDir.toRealPath().resolve("000003.log");
        WritableFile log = storage.createLog("000003.log");
        log.append(ByteBuffer.wrap(filled(100, (byte) 7)));
        assertTrue(mapped(file), "the open log is mapped");
        log.close();
        assertFalse(mapped(file), "close unmaps the log");
        assertEquals(100, Files.size(file));
        assertThrows(ClosedChannelException.class, () -> log.append(ByteBuffer.wrap(new byte[1])));
        assertThrows(ClosedChannelException.class, log::sync);
        log.close(); // a second close does nothing
    }

    @Test
    void anEmptyLogClosesEmpty() throws IOException {
        NioStorage storage = NioStorage.open(tempDir);
        storage.createLog("000004.log").close();
        assertEquals(0, Files.size(tempDir.resolve("000004.log")));
    }

    @Test
    void otherFileSystemsAppendThroughTheChannelWithoutPreallocating() throws IOException {
        try (FileSystem jimfs = Jimfs.newFileSystem(Configuration.unix())) {
            NioStorage storage = NioStorage.open(jimfs.getPath("/db"));
            try (WritableFile log = storage.createLog("000005.log")) {
                assertFalse(log instanceof MappedLogFile);
                log.append(ByteBuffer.wrap(filled(10, (byte) 3)));
                assertEquals(10, storage.size("000005.log"));
            }
        }
    }

    @Test
    void aPreallocationThatFailsPartWayIsStillCutByClose() throws IOException {
        Path file = tempDir.resolve("000006.log");
        FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ,
                StandardOpenOption.WRITE);
        long fullAt = REGION + (128 << 10); // the disk fills part way through the second region's zeros
        MappedLogFile log = new MappedLogFile(new DiskFullChannel(channel, fullAt));
        log.append(ByteBuffer.wrap(filled(REGION, (byte) 9)));
        IOException full = assertThrows(IOException.class, () -> log.append(ByteBuffer.wrap(filled(1, (byte) 9))));
        assertEquals("No space left on device", full.getMessage());
        assertEquals(fullAt, Files.size(file), "the zeros written before the failure are in the file");
        log.close();
        assertEquals(REGION, Files.size(file), "a closed log is exactly its appends");
    }

    /** A channel on a file system that refuses positional writes at and past {@code fullAt} bytes. */
    private static final class DiskFullChannel extends FileChannel {
        private final FileChannel file;
        private final long fullAt;

        DiskFullChannel(FileChannel file, long fullAt) {
            this.file = file;
            this.fullAt = fullAt;
        }

        @Override
        public int write(ByteBuffer src, long position) throws IOException {
            if (position + src.remaining() > fullAt) {
                throw new IOException("No space left on device");
            }
            return file.write(src, position);
        }

        @Override
        public int read(ByteBuffer dst) throws IOException {
            return file.read(dst);
        }

        @Override
        public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
            return file.read(dsts, offset, length);
        }

        @Override
        public int write(ByteBuffer src) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long write(ByteBuffer[] srcs, int offset, int length) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long position() throws IOException {
            return file.position();
        }

        @Override
        public FileChannel position(long newPosition) throws IOException {
            file.position(newPosition);
            return this;
        }

        @Override
        public long size() throws IOException {
            return file.size();
        }

        @Override
        public FileChannel truncate(long size) throws IOException {
            file.truncate(size);
            return this;
        }

        @Override
        public void force(boolean metaData) throws IOException {
            file.force(metaData);
        }

        @Override
        public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
            return file.transferTo(position, count, target);
        }

        @Override
        public long transferFrom(ReadableByteChannel src, long position, long count) {
            throw new UnsupportedOperationException();
        }

        @Override
        public int read(ByteBuffer dst, long position) throws IOException {
            return file.read(dst, position);
        }

        @Override
        public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
            return file.map(mode, position, size);
        }

        @Override
        public FileLock lock(long position, long size, boolean shared) throws IOException {
            return file.lock(position, size, shared);
        }

        @Override
        public FileLock tryLock(long position, long size, boolean shared) throws IOException {
            return file.tryLock(position, size, shared);
        }

        @Override
        protected void implCloseChannel() throws IOException {
            file.close();
        }
    }

    private static void awaitNextRegion(MappedLogFile log) {
        while (!log.nextRegionReady()) {
            Thread.onSpinWait();
        }
    }

    /** The bytes of this process's mappings of {@code file} that are in its page tables ({@code Rss} in smaps). */
    private static long residentMappedBytes(Path file) throws IOException {
        long kilobytes = 0;
        boolean inFile = false;
        for (String line : Files.readAllLines(Path.of("/proc/self/smaps"))) {
            if (line.matches("[0-9a-f]+-[0-9a-f]+ .*")) { // a mapping's header: addresses, ..., path
                inFile = line.endsWith(file.toString());
            } else if (inFile && line.startsWith("Rss:")) {
                kilobytes += Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return kilobytes * 1024;
    }

    private static boolean mapped(Path file) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(line -> line.endsWith(file.toString()));
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, value);
        return bytes;
    }
}
