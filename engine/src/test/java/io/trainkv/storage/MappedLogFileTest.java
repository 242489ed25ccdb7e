package io.trainkv.storage;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
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
                ByteBuffer data = ByteBuffer.allocate(record.length + 7).position(7);
                data.put(record).position(7);
                log.append(data);
                assertFalse(data.hasRemaining());
                expected.write(record);
                assertEquals(expected.size(), log.size());
            }
            byte[] onDisk = Files.readAllBytes(file); // another reader sees the appends before any sync
            assertEquals(3L * REGION, onDisk.length, "preallocated in whole regions ahead of the appends");
            assertArrayEquals(expected.toByteArray(), Arrays.copyOf(onDisk, expected.size()));
            for (int i = expected.size(); i < onDisk.length; i++) {
                assertEquals(0, onDisk[i], "preallocated byte " + i);
            }
            log.sync();
            assertEquals(3L * REGION, Files.size(file), "a sync keeps the preallocation");
        }
        assertArrayEquals(expected.toByteArray(), Files.readAllBytes(file));
    }

    @Test
    void truncateCutsTheLogAndLaterAppendsContinueFromThere() throws IOException {
        NioStorage storage = NioStorage.open(tempDir);
        byte[] first = filled(REGION - 10, (byte) 1);
        byte[] second = filled(40, (byte) 2);
        try (WritableFile log = storage.createLog("000002.log")) {
            log.append(ByteBuffer.wrap(first));
            log.append(ByteBuffer.wrap(second)); // crosses into a second region
            log.truncate(first.length - 5);
            assertEquals(first.length - 5, log.size());
            log.append(ByteBuffer.wrap(second));
            assertEquals(first.length - 5 + second.length, log.size());
        }
        byte[] expected = Arrays.copyOf(first, first.length - 5 + second.length);
        System.arraycopy(second, 0, expected, first.length - 5, second.length);
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

    private static boolean mapped(Path file) throws IOException {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(line -> line.endsWith(file.toString()));
    }

    private static byte[] filled(int length, byte value) {
        byte[] bytes = new byte[length];
        Arrays.fill(bytes, value);
        return bytes;
    }
}
