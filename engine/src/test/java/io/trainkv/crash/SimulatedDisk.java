package io.trainkv.crash;

import io.trainkv.storage.DirectoryLock;
import io.trainkv.storage.DirectoryLockedException;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.FileAlreadyExistsException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * An in-memory database directory that remembers what is durable, so a test can produce the
 * state a power cut could leave. File contents are durable up to their last fsync; the names in
 * the directory (creations, renames, deletions) are durable as of the last directory fsync.
 * {@link #crash(Random)} returns a new disk holding, for each file named in the durable
 * directory, its synced bytes plus what a power cut may leave of the unsynced ones: nothing, all
 * of them, a random prefix (a torn write), or garbage of random length.
 */
public final class SimulatedDisk implements Storage {

    /** What a crash does with a file's unsynced bytes. */
    public enum TailFate { DROPPED, KEPT, TORN, GARBAGE }

    /** One file's bytes: all written so far, and the length that is durable. */
    private static final class Inode {
        byte[] data = new byte[0];
        int length;
        int syncedLength;
        /** Set when a truncate shrank the file below its synced length; durable only after the next fsync. */
        byte[] syncedImage;

        void append(ByteBuffer src) {
            int n = src.remaining();
            if (data.length < length + n) {
                data = Arrays.copyOf(data, Math.max(length + n, 2 * data.length + 16));
            }
            src.get(data, length, n);
            length += n;
        }

        void truncate(int size) {
            if (size < syncedLength && syncedImage == null) {
                syncedImage = Arrays.copyOf(data, syncedLength);
            }
            length = Math.min(length, size);
        }

        void sync() {
            syncedLength = length;
            syncedImage = null;
        }

        byte[] durable() {
            return syncedImage != null ? syncedImage.clone() : Arrays.copyOf(data, syncedLength);
        }
    }

    private final Map<String, Inode> names = new HashMap<>();
    private Map<String, Inode> durableNames = new HashMap<>();
    private boolean locked;
    private long operations;

    /** Operations performed so far (every create, append, sync, rename, delete, directory sync). */
    public synchronized long operations() {
        return operations;
    }

    /** The state a power cut at this instant could leave, as a fresh disk. */
    public synchronized SimulatedDisk crash(Random random) {
        SimulatedDisk after = new SimulatedDisk();
        Map<Inode, Inode> copies = new HashMap<>();
        for (Map.Entry<String, Inode> e : durableNames.entrySet()) {
            Inode copy = copies.computeIfAbsent(e.getValue(), inode -> survivor(inode, random));
            after.names.put(e.getKey(), copy);
        }
        after.durableNames = new HashMap<>(after.names);
        return after;
    }

    /**
     * The state a killed process leaves, as a fresh disk: the operating system keeps every byte
     * written and every name change, but what was not synced is still not durable, so a later
     * {@link #crash(Random)} of the returned disk can lose it. The lock is not held.
     */
    public synchronized SimulatedDisk afterProcessKill() {
        SimulatedDisk after = new SimulatedDisk();
        Map<Inode, Inode> copies = new HashMap<>();
        for (Map.Entry<String, Inode> e : names.entrySet()) {
            after.names.put(e.getKey(), copies.computeIfAbsent(e.getValue(), SimulatedDisk::copyOf));
        }
        for (Map.Entry<String, Inode> e : durableNames.entrySet()) {
            after.durableNames.put(e.getKey(), copies.computeIfAbsent(e.getValue(), SimulatedDisk::copyOf));
        }
        return after;
    }

    private static Inode copyOf(Inode inode) {
        Inode copy = new Inode();
        copy.data = Arrays.copyOf(inode.data, inode.length);
        copy.length = inode.length;
        copy.syncedLength = inode.syncedLength;
        copy.syncedImage = inode.syncedImage == null ? null : inode.syncedImage.clone();
        return copy;
    }

    private static Inode survivor(Inode inode, Random random) {
        Inode copy = new Inode();
        byte[] durable = inode.durable();
        byte[] unsynced = inode.length > durable.length && inode.syncedImage == null
                ? Arrays.copyOfRange(inode.data, durable.length, inode.length) : new byte[0];
        byte[] tail;
        switch (TailFate.values()[random.nextInt(TailFate.values().length)]) {
            case KEPT -> tail = unsynced;
            case TORN -> tail = Arrays.copyOf(unsynced, unsynced.length == 0 ? 0 : random.nextInt(unsynced.length + 1));
            case GARBAGE -> {
                tail = new byte[unsynced.length == 0 ? 0 : random.nextInt(unsynced.length + 1)];
                if (random.nextBoolean()) {
                    random.nextBytes(tail);
                }
            }
            default -> tail = new byte[0];
        }
        copy.append(ByteBuffer.wrap(durable));
        copy.append(ByteBuffer.wrap(tail));
        copy.sync();
        return copy;
    }

    private synchronized void count() {
        operations++;
    }

    private synchronized Inode inode(String name) throws IOException {
        Inode inode = names.get(name);
        if (inode == null) {
            throw new FileNotFoundException(name);
        }
        return inode;
    }

    @Override
    public synchronized WritableFile create(String name) throws IOException {
        count();
        if (names.containsKey(name)) {
            throw new FileAlreadyExistsException(name);
        }
        Inode inode = new Inode();
        names.put(name, inode);
        return writable(inode);
    }

    @Override
    public synchronized WritableFile openAppend(String name) throws IOException {
        count();
        return writable(inode(name));
    }

    private WritableFile writable(Inode inode) {
        return new WritableFile() {
            @Override
            public void append(ByteBuffer data) {
                synchronized (SimulatedDisk.this) {
                    operations++;
                    inode.append(data);
                }
            }

            @Override
            public void sync() {
                synchronized (SimulatedDisk.this) {
                    operations++;
                    inode.sync();
                }
            }

            @Override
            public void truncate(long size) {
                synchronized (SimulatedDisk.this) {
                    operations++;
                    inode.truncate((int) size);
                }
            }

            @Override
            public long size() {
                synchronized (SimulatedDisk.this) {
                    return inode.length;
                }
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public synchronized ReadableFile openRead(String name) throws IOException {
        Inode inode = inode(name);
        return new ReadableFile() {
            @Override
            public int read(long position, ByteBuffer dst) {
                synchronized (SimulatedDisk.this) {
                    if (position >= inode.length) {
                        return 0;
                    }
                    int n = (int) Math.min(dst.remaining(), inode.length - position);
                    dst.put(inode.data, (int) position, n);
                    return n;
                }
            }

            @Override
            public long size() {
                synchronized (SimulatedDisk.this) {
                    return inode.length;
                }
            }

            @Override
            public void close() {
            }
        };
    }

    @Override
    public synchronized void rename(String source, String target) throws IOException {
        count();
        Inode inode = inode(source);
        names.remove(source);
        names.put(target, inode);
    }

    @Override
    public synchronized void delete(String name) {
        count();
        names.remove(name);
    }

    @Override
    public synchronized void syncDirectory() {
        count();
        durableNames = new HashMap<>(names);
    }

    @Override
    public synchronized List<String> list() {
        return new ArrayList<>(names.keySet());
    }

    @Override
    public synchronized boolean exists(String name) {
        return names.containsKey(name);
    }

    @Override
    public synchronized long size(String name) throws IOException {
        return inode(name).length;
    }

    @Override
    public synchronized DirectoryLock lock(String name) throws IOException {
        if (locked) {
            throw new DirectoryLockedException("simulated disk is already open");
        }
        locked = true;
        return () -> {
            synchronized (SimulatedDisk.this) {
                locked = false;
            }
        };
    }

    @Override
    public String describe() {
        return "simulated disk";
    }
}
