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
import java.util.IdentityHashMap;
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
 *
 * <p>Two more instants a crash test needs: {@link #processKill()} is the state a killed process
 * leaves (the operating system keeps every written byte and name, and still owes the fsyncs), and
 * {@link #powerCutAfter(long, Random)} arms a power cut in the middle of whatever runs next (a
 * recovery, a flush): the disk takes the {@link #crash(Random)} state just before its Nth
 * mutating operation from then on. Files can be memory-mapped (a copy of the bytes, which is
 * what a mapping of an immutable file reads), so the engine's mmap and positional read paths
 * both run here.
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

        Inode copy() {
            Inode copy = new Inode();
            copy.data = Arrays.copyOf(data, length);
            copy.length = length;
            copy.syncedLength = syncedLength;
            copy.syncedImage = syncedImage == null ? null : syncedImage.clone();
            return copy;
        }
    }

    private final Map<String, Inode> names = new HashMap<>();
    private Map<String, Inode> durableNames = new HashMap<>();
    private boolean locked;
    private long operations;
    /** The operation count at which the armed power cut happens, or -1 if none is armed. */
    private long powerCutAt = -1;
    private Random powerCutRandom;
    private SimulatedDisk powerCutState;

    /**
     * Operations performed so far (every create, open for append, append, sync, truncate,
     * rename, delete, directory sync).
     */
    public synchronized long operations() {
        return operations;
    }

    /**
     * Arms a power cut just before the {@code n}th mutating operation from now (0: at once): the
     * disk then keeps the state {@link #crash(Random)} with {@code random} gives at that instant,
     * for {@link #powerCutState()}, and goes on working (what the engine does afterwards is what
     * the cut erased). Replaces an earlier armed cut.
     */
    public synchronized void powerCutAfter(long n, Random random) {
        if (n < 0) {
            throw new IllegalArgumentException("operation count must not be negative: " + n);
        }
        powerCutState = null;
        powerCutAt = operations + n;
        powerCutRandom = random;
        if (n == 0) {
            takePowerCut();
        }
    }

    /** Whether the armed power cut has happened. */
    public synchronized boolean powerCutTaken() {
        return powerCutState != null;
    }

    /**
     * The state the armed power cut left; if it has not happened yet, it happens now.
     *
     * @throws IllegalStateException if no power cut was armed
     */
    public synchronized SimulatedDisk powerCutState() {
        if (powerCutState == null) {
            if (powerCutRandom == null) {
                throw new IllegalStateException("no power cut is armed");
            }
            takePowerCut();
        }
        return powerCutState;
    }

    private void takePowerCut() {
        powerCutState = crash(powerCutRandom);
        powerCutAt = -1;
    }

    /**
     * The state a killed process leaves, as a fresh unlocked disk: every name and written byte as
     * it is now, with the same bytes and names still unsynced (a later {@link #crash(Random)} of
     * the copy may lose them).
     */
    public synchronized SimulatedDisk processKill() {
        SimulatedDisk after = new SimulatedDisk();
        Map<Inode, Inode> copies = new IdentityHashMap<>();
        for (Map.Entry<String, Inode> e : names.entrySet()) {
            after.names.put(e.getKey(), copies.computeIfAbsent(e.getValue(), Inode::copy));
        }
        for (Map.Entry<String, Inode> e : durableNames.entrySet()) {
            after.durableNames.put(e.getKey(), copies.computeIfAbsent(e.getValue(), Inode::copy));
        }
        return after;
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

    /** Counts a mutating operation, taking the armed power cut first if this is its instant. */
    private synchronized void count() {
        if (operations == powerCutAt) {
            takePowerCut();
        }
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
                    count();
                    inode.append(data);
                }
            }

            @Override
            public void sync() {
                synchronized (SimulatedDisk.this) {
                    count();
                    inode.sync();
                }
            }

            @Override
            public void truncate(long size) {
                synchronized (SimulatedDisk.this) {
                    count();
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

            /** A direct copy of the bytes: the engine maps only files it no longer appends to. */
            @Override
            public ByteBuffer map(long position, long size) throws IOException {
                synchronized (SimulatedDisk.this) {
                    if (position < 0 || size < 0 || position + size > inode.length) {
                        throw new IOException("cannot map " + size + " bytes at " + position + " of a file of "
                                + inode.length + " bytes");
                    }
                    ByteBuffer mapped = ByteBuffer.allocateDirect((int) size);
                    mapped.put(inode.data, (int) position, (int) size).flip();
                    return mapped;
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
