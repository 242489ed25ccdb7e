package io.trainkv.crash;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The child of the process crash test: {@code DIR SEED COUNT MMAP} prints {@link #OPENING}, opens
 * the database in DIR (mapping files if MMAP is {@code true}), runs COUNT operations of the
 * workload with that seed and prints {@code ack N} after operation N returns, until it is killed
 * or done. With COUNT 0 it only recovers the database and closes it, for a kill during recovery.
 */
public final class CrashChildMain {

    /** The line printed just before the database is opened. */
    static final String OPENING = "opening";

    private CrashChildMain() {
    }

    public static void main(String[] args) {
        EngineLogs.silence();
        Path dir = Path.of(args[0]);
        CrashWorkload workload = new CrashWorkload(Long.parseLong(args[1]));
        int count = Integer.parseInt(args[2]);
        boolean mapped = Boolean.parseBoolean(args[3]);
        PrintStream out = System.out;
        out.println(OPENING);
        out.flush();
        try (TrainKV db = TrainKV.open(CrashTest.small(Options.at(dir)).mmap(mapped))) {
            for (int i = 0; i < count; i++) {
                CrashWorkload.apply(db, workload.next());
                out.println("ack " + i);
                out.flush();
            }
        }
    }
}
