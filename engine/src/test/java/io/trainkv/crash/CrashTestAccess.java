package io.trainkv.crash;

import io.trainkv.Options;

/** Lets tests in other packages run the engine on a {@link SimulatedDisk} with the crash tests' small sizes. */
public final class CrashTestAccess {

    private CrashTestAccess() {
    }

    public static Options options(SimulatedDisk disk) {
        return CrashTest.options(disk);
    }
}
