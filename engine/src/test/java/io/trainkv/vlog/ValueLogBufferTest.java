package io.trainkv.vlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.Storage;
import io.trainkv.util.ValuePointer;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The write leader's value-log buffer stays bounded however many large values one batch holds:
 * {@link ValueLog#add} appends it to the file once it reaches {@link ValueLog#PENDING_WRITE_BYTES}
 * (a batch of 16 MiB values totalling over 2 GiB used to overflow its int-indexed array).
 */
class ValueLogBufferTest {

    @Test
    void theBufferIsAppendedToTheFileOnceItHoldsPendingWriteBytes() throws Exception {
        try (FileSystem fs = Jimfs.newFileSystem(Configuration.unix())) {
            Storage storage = NioStorage.open(Files.createDirectories(fs.getPath("/db")));
            AtomicLong fileNumbers = new AtomicLong(1);
            try (ValueLog log = ValueLog.open(storage, List.of(), Set.of(), 1L << 30, false,
                    fileNumbers::getAndIncrement, (name, size) -> { }, false)) {
                String name = FileNames.name(log.activeFileId(), FileNames.Kind.VALUE_LOG);
                byte[] key = {'k'};
                List<ValuePointer> pointers = new ArrayList<>();
                List<byte[]> values = new ArrayList<>();
                int valueBytes = 3 << 20;
                for (int i = 0; i < 7; i++) { // the seventh add finds 18 MiB buffered, past 16 MiB
                    byte[] value = new byte[valueBytes];
                    Arrays.fill(value, (byte) i);
                    values.add(value);
                    pointers.add(log.add(key, i + 1, value));
                }
                long appended = storage.size(name);
                assertTrue(appended >= ValueLog.PENDING_WRITE_BYTES, "appended before writePending: " + appended);
                assertEquals(pointers.get(6).offset(), appended, "the seventh entry is still buffered");
                log.writePending();
                for (int i = 0; i < pointers.size(); i++) {
                    assertArrayEquals(values.get(i), log.read(pointers.get(i)), "value " + i);
                }
            }
        }
    }
}
