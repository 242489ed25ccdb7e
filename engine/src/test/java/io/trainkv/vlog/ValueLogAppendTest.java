package io.trainkv.vlog;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.google.common.jimfs.Configuration;
import com.google.common.jimfs.Jimfs;
import io.trainkv.CorruptionException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.storage.ReadSource;
import io.trainkv.storage.Storage;
import io.trainkv.util.ValuePointer;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link ValueLog#add} appends each entry to the active file as it is added (the value copied
 * once, from the caller's array into the file), so nothing is held back however many large values
 * one batch has; readers see the entries once {@link ValueLog#publishAppended()} ran.
 */
class ValueLogAppendTest {

    @TempDir
    Path tempDir;

    @Test
    void eachAddIsInTheFileWhenItReturnsOnAChannelFile() throws Exception {
        try (FileSystem fs = Jimfs.newFileSystem(Configuration.unix())) {
            checkEachAddIsInTheFile(NioStorage.open(Files.createDirectories(fs.getPath("/db"))));
        }
    }

    @Test
    void eachAddIsInTheFileWhenItReturnsOnAMappedFile() throws Exception {
        checkEachAddIsInTheFile(NioStorage.open(tempDir));
    }

    private static void checkEachAddIsInTheFile(Storage storage) throws Exception {
        AtomicLong fileNumbers = new AtomicLong(1);
        try (ValueLog log = ValueLog.open(storage, List.of(), Set.of(), 1L << 30, false,
                fileNumbers::getAndIncrement, (name, size) -> { }, false, null)) {
            String name = FileNames.name(log.activeFileId(), FileNames.Kind.VALUE_LOG);
            List<ValuePointer> pointers = new ArrayList<>();
            List<byte[]> values = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                byte[] key = new byte[1 + 40 * i]; // longer keys than the first one too
                Arrays.fill(key, (byte) ('k' + i));
                byte[] value = new byte[(3 << 20) + i];
                Arrays.fill(value, (byte) i);
                byte[] encoded = new byte[ValuePointer.SIZE];
                log.add(key, i + 1, value, encoded);
                ValuePointer pointer = ValuePointer.decode(encoded);
                pointers.add(pointer);
                values.add(value);
                try (ReadSource file = ReadSource.open(storage.openRead(name), false)) {
                    VlogEntry entry = ValueLog.readEntry(file, name, pointer);
                    assertArrayEquals(value, entry.value(), "entry " + i + " is in the file once add returns");
                    assertArrayEquals(key, entry.key());
                    assertEquals(i + 1, entry.version());
                }
            }
            ValuePointer last = pointers.get(pointers.size() - 1);
            assertThrows(CorruptionException.class, () -> log.read(last), "not readable before it is published");
            log.publishAppended();
            for (int i = 0; i < pointers.size(); i++) {
                assertArrayEquals(values.get(i), log.read(pointers.get(i)), "value " + i);
            }
        }
    }
}
