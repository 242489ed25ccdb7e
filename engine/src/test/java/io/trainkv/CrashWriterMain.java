package io.trainkv;

import java.io.PrintStream;
import java.nio.file.Path;

/**
 * Child process of {@link CrashRecoveryTest} and {@link MappedWalCrashTest}: writes keys
 * {@code prefix-N}, synced unless the third argument is {@code nosync}, and prints
 * {@code acked N} after each write returns, until the parent kills it; with a fourth argument
 * {@code W}, it stops after write {@code W} and waits to be killed; a fifth is the value threshold
 * in bytes (0: every value goes to the value log).
 */
public final class CrashWriterMain {

    private CrashWriterMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        String prefix = args[1];
        PrintStream out = System.out;
        boolean sync = args.length < 3 || !args[2].equals("nosync");
        long last = args.length < 4 ? Long.MAX_VALUE : Long.parseLong(args[3]);
        Options options = Options.at(dir).syncWrites(sync).memtableSize(64 * 1024);
        if (args.length >= 5) {
            options.valueThreshold(Integer.parseInt(args[4]));
        }
        try (TrainKV db = TrainKV.open(options)) {
            for (long i = 0; i <= last; i++) {
                if (i % 7 == 3) {
                    db.write(new WriteBatch().set(prefix + "-" + i, CrashRecoveryTest.value(prefix, i))
                            .set(prefix + "-pair-" + i, CrashRecoveryTest.value(prefix, i)));
                } else {
                    db.set(prefix + "-" + i, CrashRecoveryTest.value(prefix, i));
                }
                out.println("acked " + i);
                out.flush();
            }
            Thread.sleep(Long.MAX_VALUE);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
