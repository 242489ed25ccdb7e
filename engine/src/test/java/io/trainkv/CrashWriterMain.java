package io.trainkv;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Child process of {@link CrashRecoveryTest}: writes synced keys {@code prefix-N} forever and prints
 * {@code acked N} after each write returns, until the parent kills it.
 */
public final class CrashWriterMain {

    private CrashWriterMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String prefix = args[1];
        PrintStream out = System.out;
        try (TrainKV db = TrainKV.open(Options.at(dir).syncWrites(true).memtableSize(64 * 1024))) {
            for (long i = 0; ; i++) {
                if (i % 7 == 3) {
                    db.write(new WriteBatch().set(prefix + "-" + i, CrashRecoveryTest.value(prefix, i))
                            .set(prefix + "-pair-" + i, CrashRecoveryTest.value(prefix, i)));
                } else {
                    db.set(prefix + "-" + i, CrashRecoveryTest.value(prefix, i));
                }
                out.println("acked " + i);
                out.flush();
            }
        }
    }
}
