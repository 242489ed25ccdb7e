package io.trainkv.manifest;

import io.trainkv.CorruptionException;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.ReadableFile;
import io.trainkv.storage.Storage;
import io.trainkv.storage.WritableFile;
import io.trainkv.util.ByteOutput;
import io.trainkv.wal.RecordFraming;
import io.trainkv.wal.WalCorruptionException;
import io.trainkv.wal.WalReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The manifest files: {@code MANIFEST-NNNNNN} is a log of {@link VersionEdit}s in the WAL's record
 * framing, starting with a snapshot of the whole state; {@code CURRENT} names the live one. A new
 * manifest becomes live atomically: it is written and fsynced, {@code CURRENT.tmp} is written and
 * fsynced, renamed over {@code CURRENT}, and the directory fsynced. An edit counts once its record
 * is fsynced; a torn final record (short, or zeros) is an edit that never committed, but a complete
 * final record with a bad checksum is damage: it may be the only record of a flush.
 */
public final class ManifestLog implements Closeable {

    private final String name;
    private final long number;
    private final WritableFile file;

    private ManifestLog(String name, long number, WritableFile file) {
        this.name = name;
        this.number = number;
        this.file = file;
    }

    /** The edits of the live manifest, oldest first, and its name. */
    public record Replayed(String manifestName, List<VersionEdit> edits) {
    }

    /**
     * Reads the manifest {@code CURRENT} names, or returns null if there is no {@code CURRENT}.
     * Read-only; tools use it too.
     *
     * @throws io.trainkv.CorruptionException naming the file and offset of any damage
     */
    public static Replayed replay(Storage storage, int maxLevels) throws IOException {
        if (!storage.exists(FileNames.CURRENT)) {
            return null;
        }
        String manifestName = readCurrent(storage);
        if (!storage.exists(manifestName)) {
            throw new CorruptionException(FileNames.CURRENT, 0, "CURRENT names " + manifestName
                    + ", which does not exist");
        }
        return replay(storage, manifestName, maxLevels);
    }

    /**
     * Reads the edits of the manifest {@code manifestName}, whether or not {@code CURRENT} names it.
     *
     * @throws io.trainkv.CorruptionException naming the file and offset of any damage, or if the
     *         manifest holds no complete edit
     */
    public static Replayed replay(Storage storage, String manifestName, int maxLevels) throws IOException {
        List<VersionEdit> edits = new ArrayList<>();
        try (ReadableFile file = storage.openRead(manifestName)) {
            WalReader reader = new WalReader(file, manifestName, true, false);
            ByteBuffer payload;
            while ((payload = reader.next()) != null) {
                try {
                    edits.add(VersionEdit.decode(payload, maxLevels));
                } catch (IllegalArgumentException e) {
                    throw new CorruptionException(manifestName, reader.recordOffset(), "manifest " + manifestName
                            + " at offset " + reader.recordOffset() + ": malformed edit: " + e.getMessage(), e);
                }
            }
        } catch (WalCorruptionException e) {
            throw new CorruptionException(e.fileName(), e.offset(), "manifest " + e.getMessage(), e);
        }
        if (edits.isEmpty()) {
            throw new CorruptionException(manifestName, 0, "manifest " + manifestName + " holds no complete edit");
        }
        return new Replayed(manifestName, edits);
    }

    private static String readCurrent(Storage storage) throws IOException {
        long size = storage.size(FileNames.CURRENT);
        if (size < 2 || size > 256) {
            throw new CorruptionException(FileNames.CURRENT, 0, "CURRENT is " + size + " bytes, not a manifest name");
        }
        ByteBuffer bytes = ByteBuffer.allocate((int) size);
        try (ReadableFile file = storage.openRead(FileNames.CURRENT)) {
            file.read(0, bytes);
        }
        String text = new String(bytes.array(), 0, bytes.position(), StandardCharsets.UTF_8);
        if (!text.endsWith("\n") || FileNames.parseManifest(text.substring(0, text.length() - 1)) < 0) {
            throw new CorruptionException(FileNames.CURRENT, 0, "CURRENT does not hold a manifest name and newline");
        }
        return text.substring(0, text.length() - 1);
    }

    /**
     * Creates manifest {@code number} holding {@code snapshot}, makes it durable and switches
     * {@code CURRENT} to it. The previous manifest, if any, is deleted afterwards. A checkpoint
     * writes a new directory's manifest with it (no previous): {@code CURRENT} comes last.
     */
    public static ManifestLog create(Storage storage, long number, VersionEdit snapshot, String previous) throws IOException {
        String name = FileNames.manifest(number);
        WritableFile file = storage.create(name);
        try {
            ManifestLog log = new ManifestLog(name, number, file);
            log.append(snapshot);
            storage.syncDirectory();
            storage.delete(FileNames.CURRENT_TEMP);
            try (WritableFile current = storage.create(FileNames.CURRENT_TEMP)) {
                current.append(ByteBuffer.wrap((name + "\n").getBytes(StandardCharsets.UTF_8)));
                current.sync();
            }
            storage.rename(FileNames.CURRENT_TEMP, FileNames.CURRENT);
            storage.syncDirectory();
            if (previous != null && !previous.equals(name)) {
                storage.delete(previous);
            }
            return log;
        } catch (IOException | RuntimeException | Error e) {
            file.close();
            throw e;
        }
    }

    /** Appends an edit and fsyncs it. */
    void append(VersionEdit edit) throws IOException {
        ByteOutput payload = new ByteOutput(256);
        edit.encode(payload);
        file.append(RecordFraming.frame(payload.array(), payload.size()));
        file.sync();
    }

    String name() {
        return name;
    }

    long number() {
        return number;
    }

    long size() throws IOException {
        return file.size();
    }

    @Override
    public void close() throws IOException {
        file.close();
    }
}
