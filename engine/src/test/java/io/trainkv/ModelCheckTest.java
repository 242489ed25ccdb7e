package io.trainkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** One million random sets, gets and deletes checked against a TreeMap model, with reopens between. */
class ModelCheckTest {

    private static final int OPERATIONS = 1_000_000;
    private static final int KEY_SPACE = 40_000;
    private static final int REOPEN_EVERY = 250_000;

    @TempDir
    Path tempDir;

    @ParameterizedTest
    @EnumSource(FileSystemKind.class)
    void randomOperationsMatchTreeMapAcrossReopens(FileSystemKind fs) throws Exception {
        Path dir = fs.newDirectory(tempDir);
        long seed = 20261127L + fs.ordinal();
        Random random = new Random(seed);
        TreeMap<ByteBuffer, byte[]> model = new TreeMap<>();
        Options options = Options.at(dir).memtableSize(1 << 20);
        TrainKV db = TrainKV.open(options);
        try {
            for (int op = 1; op <= OPERATIONS; op++) {
                byte[] key = key(random.nextInt(KEY_SPACE));
                int kind = random.nextInt(100);
                if (kind < 45) {
                    byte[] value = new byte[random.nextInt(48)];
                    random.nextBytes(value);
                    db.set(key, value);
                    model.put(ByteBuffer.wrap(key), value);
                } else if (kind < 80) {
                    assertArrayEquals(model.get(ByteBuffer.wrap(key)), db.get(key),
                            "seed " + seed + ", operation " + op + ", key " + new String(key));
                } else {
                    db.delete(key);
                    model.remove(ByteBuffer.wrap(key));
                }
                if (op % REOPEN_EVERY == 0) {
                    db.close();
                    db = TrainKV.open(options);
                    verifyAll(db, model, seed);
                }
            }
        } finally {
            db.close();
        }
    }

    private static void verifyAll(TrainKV db, Map<ByteBuffer, byte[]> model, long seed) {
        int present = 0;
        for (int i = 0; i < KEY_SPACE; i++) {
            byte[] key = key(i);
            byte[] expected = model.get(ByteBuffer.wrap(key));
            byte[] actual = db.get(key);
            if (expected != null) {
                present++;
            }
            assertEquals(expected == null, actual == null, "seed " + seed + ", key " + i);
            if (expected != null) {
                assertEquals(true, Arrays.equals(expected, actual), "seed " + seed + ", key " + i);
            }
        }
        assertEquals(model.size(), present);
    }

    private static byte[] key(int i) {
        return String.format("key-%08d", i).getBytes();
    }
}
