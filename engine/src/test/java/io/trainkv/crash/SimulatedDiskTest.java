package io.trainkv.crash;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.WritableFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The crash instants the harness builds on: a process kill keeps every written byte and name
 * with its durability still owed, and an armed power cut takes the durable state at its exact
 * operation, before anything later is synced.
 */
class SimulatedDiskTest {

    private static byte[] contents(SimulatedDisk disk, String name) throws IOException {
        try (ReadableFile file = disk.openRead(name)) {
            ByteBuffer bytes = ByteBuffer.allocate((int) file.size());
            file.read(0, bytes);
            return bytes.array();
        }
    }

    private static ByteBuffer bytes(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void aProcessKillKeepsUnsyncedBytesAndNamesThatALaterPowerCutCanStillLose() throws IOException {
        SimulatedDisk disk = new SimulatedDisk();
        try (WritableFile synced = disk.create("synced")) {
            disk.syncDirectory();
            synced.append(bytes("durable"));
            synced.sync();
            synced.append(bytes(" and more"));
        }
        disk.create("unsynced-name").close();

        SimulatedDisk killed = disk.processKill();
        assertArrayEquals("durable and more".getBytes(StandardCharsets.UTF_8), contents(killed, "synced"));
        assertTrue(killed.exists("unsynced-name"));

        for (long seed = 0; seed < 20; seed++) {
            SimulatedDisk cut = killed.crash(new Random(seed));
            assertFalse(cut.exists("unsynced-name"), "a name never made durable by a directory fsync");
            String survived = new String(contents(cut, "synced"), StandardCharsets.UTF_8);
            assertTrue(survived.startsWith("durable") && survived.length() <= "durable and more".length(), survived);
        }
    }

    @Test
    void anArmedPowerCutTakesTheStateBeforeItsOperation() throws IOException {
        SimulatedDisk disk = new SimulatedDisk();
        disk.powerCutAfter(1, new Random(0));
        disk.create("created").close(); // operation 0
        assertFalse(disk.powerCutTaken());
        disk.syncDirectory(); // operation 1: the cut comes first, so the name is not durable in it
        assertTrue(disk.powerCutTaken());
        assertFalse(disk.powerCutState().exists("created"));
        assertTrue(disk.crash(new Random(0)).exists("created"));
    }

    @Test
    void aMappingHoldsTheFilesBytes() throws IOException {
        SimulatedDisk disk = new SimulatedDisk();
        try (WritableFile file = disk.create("f")) {
            file.append(bytes("0123456789"));
        }
        try (ReadableFile file = disk.openRead("f")) {
            ByteBuffer mapped = file.map(2, 5);
            byte[] read = new byte[mapped.remaining()];
            mapped.get(read);
            assertEquals("23456", new String(read, StandardCharsets.UTF_8));
        }
    }
}
