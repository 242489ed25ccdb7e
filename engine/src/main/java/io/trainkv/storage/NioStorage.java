package io.trainkv.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@link Storage} over {@code java.nio.file}: works on the default file system and on any other
 * provider (jimfs in tests). Directories and files it creates are owner-only where the file system
 * supports POSIX permissions.
 */
public final class NioStorage implements Storage {

    /**
     * Real paths of directories locked by this JVM. File locks alone do not stop a second opener
     * in-process on every file system, and a failed second attempt must never open (and so, on
     * close, release) a channel on the owner's lock file: POSIX drops a process's lock when any of
     * its channels on the file closes.
     */
    private static final Set<Path> LOCKED_IN_THIS_JVM = ConcurrentHashMap.newKeySet();

    private static final Set<PosixFilePermission> OWNER_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_DIRECTORY = PosixFilePermissions.fromString("rwx------");

    private final Path directory;
    private final boolean posix;

    private NioStorage(Path directory) {
        this.directory = directory;
        this.posix = directory.getFileSystem().supportedFileAttributeViews().contains("posix");
    }

    /** Opens a storage over {@code directory}, creating it (owner-only) if it does not exist. */
    public static NioStorage open(Path directory) throws IOException {
        Path absolute = directory.toAbsolutePath().normalize();
        NioStorage storage = new NioStorage(absolute);
        if (!Files.isDirectory(absolute)) {
            if (storage.posix) {
                Files.createDirectories(absolute, PosixFilePermissions.asFileAttribute(OWNER_DIRECTORY));
            } else {
                Files.createDirectories(absolute);
            }
        }
        return storage;
    }

    /** The directory this storage is bound to. */
    public Path directory() {
        return directory;
    }

    @Override
    public WritableFile create(String name) throws IOException {
        FileChannel channel = FileChannel.open(path(name),
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE), ownerOnly());
        return new ChannelWritableFile(channel);
    }

    /**
     * A {@link MappedLogFile} on the default file system, where mappings share the page cache
     * with other readers of the file; the channel path ({@link #create}) on any other provider.
     */
    @Override
    public WritableFile createLog(String name) throws IOException {
        if (directory.getFileSystem() != FileSystems.getDefault()) {
            return create(name);
        }
        FileChannel channel = FileChannel.open(path(name),
                Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE), ownerOnly());
        return new MappedLogFile(channel);
    }

    /** On the default file system only, like {@link #createLog}; null elsewhere. */
    @Override
    public MappedByteBuffer mapFixedSize(String name, int bytes, boolean writable) throws IOException {
        if (directory.getFileSystem() != FileSystems.getDefault()) {
            return null;
        }
        Path file = path(name);
        if (!writable) {
            if (!Files.isRegularFile(file)) {
                return null;
            }
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
                if (channel.size() != bytes) {
                    requireOnlyZeros(channel, file, bytes);
                    return null;
                }
                return channel.map(FileChannel.MapMode.READ_ONLY, 0, bytes);
            }
        }
        boolean interrupted = InterruptShield.clear();
        try (FileChannel channel = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.READ,
                StandardOpenOption.WRITE), ownerOnly())) {
            if (channel.size() != bytes) {
                requireOnlyZeros(channel, file, bytes);
                channel.truncate(0);
                ByteBuffer zeros = ByteBuffer.allocate(64 << 10);
                for (long at = 0; at < bytes; ) {
                    zeros.clear().limit((int) Math.min(zeros.capacity(), bytes - at));
                    at += channel.write(zeros, at);
                }
                channel.force(true);
                syncDirectory();
            }
            return channel.map(FileChannel.MapMode.READ_WRITE, 0, bytes);
        } finally {
            InterruptShield.restore(interrupted);
        }
    }

    /**
     * Refuses a file of the wrong length for {@link #mapFixedSize} unless it holds only zeros
     * (what a creation a crash stopped leaves): anything else may be another version's data.
     */
    private static void requireOnlyZeros(FileChannel channel, Path file, int bytes) throws IOException {
        if (!new ChannelReadableFile(channel).isZeros(0, channel.size())) { // a view: the caller closes the channel
            throw new FileSystemException(file.toString(), null, "holds " + channel.size() + " bytes, not "
                    + bytes + ", and not only zeros: cut short or damaged, or another version's file; left as it is");
        }
    }

    @Override
    public WritableFile openAppend(String name) throws IOException {
        FileChannel channel = FileChannel.open(path(name), StandardOpenOption.WRITE);
        boolean interrupted = InterruptShield.clear();
        try {
            channel.position(channel.size());
        } finally {
            InterruptShield.restore(interrupted);
        }
        return new ChannelWritableFile(channel);
    }

    @Override
    public ReadableFile openRead(String name) throws IOException {
        return new ChannelReadableFile(FileChannel.open(path(name), StandardOpenOption.READ));
    }

    @Override
    public void rename(String source, String target) throws IOException {
        Files.move(path(source), path(target), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void delete(String name) throws IOException {
        Files.deleteIfExists(path(name));
    }

    /**
     * Links through {@link Files#createLink} when {@code target} is a {@code NioStorage} on the same
     * file-system provider; false where the provider or the operating system refuses (another
     * device, a file system without hard links).
     */
    @Override
    public boolean linkInto(String name, Storage target) throws IOException {
        if (!(target instanceof NioStorage other) || other.directory.getFileSystem() != directory.getFileSystem()) {
            return false;
        }
        Path link = other.path(name);
        if (Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(link.toString());
        }
        try {
            Files.createLink(link, path(name));
            return true;
        } catch (UnsupportedOperationException e) {
            return false;
        } catch (FileSystemException e) {
            if (Files.exists(link, LinkOption.NOFOLLOW_LINKS) || !Files.exists(path(name))) {
                throw e; // not a refusal to link: the file is missing, or something raced us to the name
            }
            return false; // another device (EXDEV), or a file system without hard links
        }
    }

    @Override
    public void syncDirectory() throws IOException {
        if (directory.getFileSystem() != FileSystems.getDefault()) {
            return; // in-memory file systems have nothing to make durable
        }
        boolean interrupted = InterruptShield.clear();
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } finally {
            InterruptShield.restore(interrupted);
        }
    }

    @Override
    public List<String> list() throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> stream = Files.newDirectoryStream(directory, Files::isRegularFile)) {
            for (Path file : stream) {
                names.add(file.getFileName().toString());
            }
        }
        return names;
    }

    @Override
    public boolean exists(String name) {
        return Files.exists(path(name));
    }

    @Override
    public long size(String name) throws IOException {
        return Files.size(path(name));
    }

    @Override
    public DirectoryLock lock(String name) throws IOException {
        Path realDirectory = directory.toRealPath();
        if (!LOCKED_IN_THIS_JVM.add(realDirectory)) {
            throw new DirectoryLockedException("database directory " + directory
                    + " is already open in this process; close the other instance first");
        }
        FileChannel channel = null;
        try {
            Set<OpenOption> options = Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            channel = FileChannel.open(path(name), options, ownerOnly());
            FileLock fileLock;
            try {
                fileLock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                fileLock = null;
            }
            if (fileLock == null) {
                throw new DirectoryLockedException("database directory " + directory
                        + " is locked by another process (lock file " + path(name) + ")");
            }
            return new ChannelDirectoryLock(channel, fileLock, realDirectory);
        } catch (IOException | RuntimeException | Error e) {
            if (channel != null) {
                channel.close();
            }
            LOCKED_IN_THIS_JVM.remove(realDirectory);
            throw e;
        }
    }

    @Override
    public String describe() {
        return directory.toString();
    }

    private Path path(String name) {
        if (name.isEmpty() || name.indexOf('/') >= 0 || name.indexOf('\\') >= 0 || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("not a plain file name: " + name);
        }
        return directory.resolve(name);
    }

    private FileAttribute<?>[] ownerOnly() {
        return posix ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_FILE)} : new FileAttribute<?>[0];
    }

    private final class ChannelDirectoryLock implements DirectoryLock {
        private final FileChannel channel;
        private final FileLock fileLock;
        private final Path realDirectory;
        private boolean released;

        ChannelDirectoryLock(FileChannel channel, FileLock fileLock, Path realDirectory) {
            this.channel = channel;
            this.fileLock = fileLock;
            this.realDirectory = realDirectory;
        }

        @Override
        public synchronized void close() throws IOException {
            if (released) {
                return;
            }
            released = true;
            try {
                fileLock.release();
                channel.close();
            } finally {
                LOCKED_IN_THIS_JVM.remove(realDirectory);
            }
        }
    }

    private static final class ChannelWritableFile implements WritableFile {
        private final FileChannel channel;

        ChannelWritableFile(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public void append(ByteBuffer data) throws IOException {
            boolean interrupted = InterruptShield.clear();
            try {
                while (data.hasRemaining()) {
                    channel.write(data);
                }
            } finally {
                InterruptShield.restore(interrupted);
            }
        }

        @Override
        public void sync() throws IOException {
            InterruptShield.force(channel, false);
        }

        @Override
        public void writeBack() throws IOException {
            InterruptShield.force(channel, false);
        }

        @Override
        public void truncate(long size) throws IOException {
            boolean interrupted = InterruptShield.clear();
            try {
                channel.truncate(size);
                channel.position(size);
            } finally {
                InterruptShield.restore(interrupted);
            }
        }

        @Override
        public long size() throws IOException {
            return channel.position();
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    private static final class ChannelReadableFile implements ReadableFile {
        private final FileChannel channel;

        ChannelReadableFile(FileChannel channel) {
            this.channel = channel;
        }

        @Override
        public int read(long position, ByteBuffer dst) throws IOException {
            boolean interrupted = InterruptShield.clear();
            try {
                int total = 0;
                while (dst.hasRemaining()) {
                    int n = channel.read(dst, position + total);
                    if (n < 0) {
                        break;
                    }
                    total += n;
                }
                return total;
            } finally {
                InterruptShield.restore(interrupted);
            }
        }

        @Override
        public long size() throws IOException {
            return channel.size();
        }

        @Override
        public ByteBuffer map(long position, long size) throws IOException {
            boolean interrupted = InterruptShield.clear();
            try {
                return channel.map(FileChannel.MapMode.READ_ONLY, position, size);
            } finally {
                InterruptShield.restore(interrupted);
            }
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }
}
