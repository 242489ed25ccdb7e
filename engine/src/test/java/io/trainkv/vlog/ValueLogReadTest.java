package io.trainkv.vlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.AllocationCounter;
import io.trainkv.util.ValuePointer;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A value read from a sealed, mapped value-log file allocates the value and a buffer over its
 * entry, nothing more: no copy of the key, no decoded entry, no second buffer for the checksum.
 * A read of a 1 KiB value allocated 1,264 bytes before, 1,120 now (the value's 1,040-byte array,
 * a 64-byte buffer and the checksum's 16 bytes on a 64-bit JVM with compressed pointers).
 */
class ValueLogReadTest {

    private static final int VALUE = 1024;
    private static final int READS = 300;

    @TempDir
    Path tempDir;

    @Test
    void aReadAllocatesTheValueAndABufferOverItsEntryOnly() throws Exception {
        AllocationCounter allocations = AllocationCounter.orSkip();
        HotSpotDiagnosticMXBean vm = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
        assumeTrue(vm != null && "true".equals(vm.getVMOption("UseCompressedOops").getValue())
                && "true".equals(vm.getVMOption("UseCompressedClassPointers").getValue()),
                "the bound counts object sizes with compressed pointers (not under ZGC on JDK 17, for one)");
        AtomicLong fileNumbers = new AtomicLong(1);
        try (ValueLog log = ValueLog.open(NioStorage.open(tempDir), List.of(), Set.of(), 256 << 10, true,
                fileNumbers::getAndIncrement, (name, size) -> { }, false, null)) {
            List<ValuePointer> pointers = new ArrayList<>();
            for (int i = 0; i < 10 * READS; i++) {
                byte[] value = new byte[VALUE];
                Arrays.fill(value, (byte) i);
                byte[] encoded = new byte[ValuePointer.SIZE];
                log.add(("key-" + (100_000 + i)).getBytes(), i + 1, value, encoded);
                pointers.add(ValuePointer.decode(encoded));
            }
            log.publishAppended();
            for (int i = 0; i < pointers.size(); i++) {
                byte[] expected = new byte[VALUE];
                Arrays.fill(expected, (byte) i);
                assertArrayEquals(expected, log.read(pointers.get(i)), "value " + i);
            }
            long[] sink = {0};
            long least = allocations.leastOver(10, run -> {
                for (int i = run * READS; i < (run + 1) * READS; i++) {
                    sink[0] += log.read(pointers.get(i)).length;
                }
            });
            long valueArray = 16 + VALUE; // a byte[]'s header and elements
            assertTrue(least < READS * (valueArray + 104), "reads of " + VALUE + "-byte values allocated "
                    + least / READS + " bytes each (" + sink[0] + " value bytes read)");
        }
    }
}
