package io.trainkv.crash;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A {@link SimulatedDisk} that, before each operation that writes (create, append, truncate,
 * sync, rename, delete, directory sync), records the state a power cut at that instant could leave
 * and what the operation was, so that a test can check a power cut at every point of a run.
 */
final class PowerCutRecorder implements Storage {

    /** What an operation does to the directory. */
    enum Op { CREATE, APPEND, TRUNCATE, SYNC, RENAME, DELETE, SYNC_DIRECTORY }

    /** A power cut just before operation {@code op} on file {@code name} (null for the directory). */
    record PowerCut(Op op, String name, SimulatedDisk disk) {
    }

    private final SimulatedDisk disk;
    private final Random random;
    private final List<PowerCut> cuts = new ArrayList<>();

    /** Records cuts of {@code disk}; {@code random} decides what each cut does to unsynced bytes. */
    PowerCutRecorder(SimulatedDisk disk, Random random) {
        this.disk = disk;
        this.random = random;
    }

    /** The cuts recorded so far, in the order of the operations. */
    synchronized List<PowerCut> cuts() {
        return List.copyOf(cuts);
    }

    private synchronized void before(Op op, String name) {
        cuts.add(new PowerCut(op, name, disk.crash(random)));
    }

    @Override
    public WritableFile create(String name) throws IOException {
        before(Op.CREATE, name);
        return recorded(name, disk.create(name));
    }

    @Override
    public WritableFile openAppend(String name) throws IOException {
        return recorded(name, disk.openAppend(name));
    }

    private WritableFile recorded(String name, WritableFile file) {
        return new WritableFile() {
            @Override
            public void append(ByteBuffer data) throws IOException {
                before(Op.APPEND, name);
                file.append(data);
            }

            @Override
            public void sync() throws IOException {
                before(Op.SYNC, name);
                file.sync();
            }

            @Override
            public void truncate(long size) throws IOException {
                before(Op.TRUNCATE, name);
                file.truncate(size);
            }

            @Override
            public long size() throws IOException {
                return file.size();
            }

            @Override
            public void close() throws IOException {
                file.close();
            }
        };
    }

    @Override
    public ReadableFile openRead(String name) throws IOException {
        return disk.openRead(name);
    }

    @Override
    public void rename(String source, String target) throws IOException {
        before(Op.RENAME, target);
        disk.rename(source, target);
    }

    @Override
    public void delete(String name) throws IOException {
        before(Op.DELETE, name);
        disk.delete(name);
    }

    @Override
    public void syncDirectory() throws IOException {
        before(Op.SYNC_DIRECTORY, null);
        disk.syncDirectory();
    }

    @Override
    public List<String> list() throws IOException {
        return disk.list();
    }

    @Override
    public boolean exists(String name) throws IOException {
        return disk.exists(name);
    }

    @Override
    public long size(String name) throws IOException {
        return disk.size(name);
    }

    @Override
    public DirectoryLock lock(String name) throws IOException {
        return disk.lock(name);
    }

    @Override
    public String describe() {
        return disk.describe();
    }
}
