package io.trainkv.crash;

import io.trainkv.FaultInjectingStorage;
import io.trainkv.FaultInjectingStorage.Op;
import io.trainkv.storage.Storage;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Runs a {@link SimulatedDisk} behind a {@link FaultInjectingStorage} whose hook, before each
 * operation that writes (create, append, truncate, sync, rename, delete, directory sync), records
 * the state a power cut at that instant could leave and what the operation was, so that a test
 * can check a power cut at every point of a run.
 */
final class PowerCutRecorder {

    /** The operations that change what a power cut leaves. */
    private static final Set<Op> WRITES = EnumSet.of(Op.CREATE, Op.APPEND, Op.TRUNCATE, Op.SYNC, Op.RENAME,
            Op.DELETE, Op.SYNC_DIRECTORY);

    /** A power cut just before operation {@code op} on file {@code name} (the source of a rename; empty for the directory). */
    record PowerCut(Op op, String name, SimulatedDisk disk) {
    }

    private final List<PowerCut> cuts = new ArrayList<>();
    private final Storage storage;

    /** Records cuts of {@code disk}; {@code random} decides what each cut does to unsynced bytes. */
    PowerCutRecorder(SimulatedDisk disk, Random random) {
        this.storage = new FaultInjectingStorage(disk, (op, name) -> {
            if (WRITES.contains(op)) {
                synchronized (cuts) {
                    cuts.add(new PowerCut(op, name, disk.crash(random)));
                }
            }
        });
    }

    /** The storage to open the database on. */
    Storage storage() {
        return storage;
    }

    /** The cuts recorded so far, in the order of the operations. */
    List<PowerCut> cuts() {
        synchronized (cuts) {
            return List.copyOf(cuts);
        }
    }
}
