package io.trainkv.crash;

import io.trainkv.Options;
import io.trainkv.TrainKV;
import java.io.PrintStream;
import java.nio.file.Path;

/**
 * The child of the process crash test: runs {@code count} operations of the workload with the
 * given seed on a real directory and prints {@code ack N} after operation N returns, until it is
 * killed or done.
 */
public final class CrashChildMain {

    private CrashChildMain() {
    }

    public static void main(String[] args) {
        Path dir = Path.of(args[0]);
        CrashWorkload workload = new CrashWorkload(Long.parseLong(args[1]));
        int count = Integer.parseInt(args[2]);
        PrintStream out = System.out;
        try (TrainKV db = TrainKV.open(CrashTest.small(Options.at(dir)))) {
            for (int i = 0; i < count; i++) {
                CrashWorkload.apply(db, workload.next());
                out.println("ack " + i);
                out.flush();
            }
        }
    }
}
