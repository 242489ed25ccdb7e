package io.trainkv;

import java.nio.file.Path;

/** Child process of {@link DirectoryLockTest}: tries to open a directory and reports what happened. */
public final class LockProbeMain {

    private LockProbeMain() {
    }

    public static void main(String[] args) {
        try (TrainKV db = TrainKV.open(Options.at(Path.of(args[0])))) {
            System.out.println("opened");
        } catch (DatabaseLockedException e) {
            System.out.println("locked: " + e.getMessage());
        }
    }
}
