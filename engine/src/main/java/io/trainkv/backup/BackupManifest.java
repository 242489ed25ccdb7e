package io.trainkv.backup;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.zip.CRC32C;

/**
 * The manifest of one backup, {@code meta/NNNNNN} in a backup directory: which database files
 * the backup holds, where each is stored, its size and CRC32C. The format is text, one record per
 * line, ending in a line with the CRC32C of every byte before it, so a torn or edited manifest is
 * recognised (docs/format.md, "Backup directory"):
 *
 * <pre>
 * trainkv-backup 1
 * id 3
 * version 1812
 * created-millis 1764470000000
 * file 000012.sst 4096 1a2b3c4d shared/000012.sst_4096_1a2b3c4d
 * file 000015.wal 1234 deadbeef private/000003/000015.wal
 * crc32c 0badcafe
 * </pre>
 *
 * Sizes are bytes, CRC32C values eight lower-case hex digits, stored paths relative to the
 * backup directory with {@code /} separators.
 */
public record BackupManifest(long id, long version, long createdMillis, List<File> files) {

    /** The first line of every backup manifest: the format name and its version. */
    public static final String HEADER = "trainkv-backup 1";

    /** One database file of the backup: its name in the database, size in bytes, CRC32C and stored path. */
    public record File(String name, long size, int crc32c, String storedPath) {
    }

    public BackupManifest {
        files = List.copyOf(files);
    }

    /** Bytes of every file the backup holds. */
    public long bytes() {
        return files.stream().mapToLong(File::size).sum();
    }

    /** The manifest as it is stored. */
    public byte[] encode() {
        StringBuilder text = new StringBuilder();
        text.append(HEADER).append('\n');
        text.append("id ").append(id).append('\n');
        text.append("version ").append(version).append('\n');
        text.append("created-millis ").append(createdMillis).append('\n');
        for (File f : files) {
            text.append("file ").append(f.name()).append(' ').append(f.size()).append(' ').append(hex(f.crc32c()))
                    .append(' ').append(f.storedPath()).append('\n');
        }
        int checksum = crc(text.toString().getBytes(StandardCharsets.UTF_8));
        text.append("crc32c ").append(hex(checksum)).append('\n');
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Reads a stored manifest.
     *
     * @throws IllegalArgumentException saying what is wrong, if the bytes are not a complete,
     *         intact backup manifest
     */
    public static BackupManifest decode(byte[] bytes) {
        String text = new String(bytes, StandardCharsets.UTF_8);
        int last = text.lastIndexOf("crc32c ");
        if (!text.startsWith(HEADER + "\n") || last < 0 || !text.endsWith("\n")) {
            throw new IllegalArgumentException("not a complete backup manifest (no '" + HEADER + "' header or no "
                    + "crc32c line at the end)");
        }
        int expected = parseHex(text.substring(last + "crc32c ".length(), text.length() - 1));
        int actual = crc(text.substring(0, last).getBytes(StandardCharsets.UTF_8));
        if (expected != actual) {
            throw new IllegalArgumentException("backup manifest checksum mismatch: stored crc32c " + hex(expected)
                    + ", computed " + hex(actual));
        }
        long id = -1;
        long version = -1;
        long created = -1;
        List<File> files = new ArrayList<>();
        String[] lines = text.substring(0, last).split("\n");
        for (int i = 1; i < lines.length; i++) {
            String[] fields = lines[i].split(" ");
            switch (fields[0]) {
                case "id" -> id = parseLong(fields, lines[i]);
                case "version" -> version = parseLong(fields, lines[i]);
                case "created-millis" -> created = parseLong(fields, lines[i]);
                case "file" -> {
                    if (fields.length != 5) {
                        throw new IllegalArgumentException("malformed line: " + lines[i]);
                    }
                    files.add(new File(fields[1], Long.parseLong(fields[2]), parseHex(fields[3]), fields[4]));
                }
                default -> throw new IllegalArgumentException("unknown line: " + lines[i]);
            }
        }
        if (id < 0 || version < 0 || created < 0) {
            throw new IllegalArgumentException("backup manifest lacks its id, version or created-millis line");
        }
        return new BackupManifest(id, version, created, files);
    }

    private static long parseLong(String[] fields, String line) {
        if (fields.length != 2) {
            throw new IllegalArgumentException("malformed line: " + line);
        }
        return Long.parseLong(fields[1]);
    }

    /** The name of backup {@code id}'s manifest in {@code meta/}, e.g. {@code 000003}. */
    public static String name(long id) {
        return String.format(Locale.ROOT, "%06d", id);
    }

    /** A CRC32C as stored: eight lower-case hex digits. */
    public static String hex(int crc32c) {
        return HexFormat.of().toHexDigits(crc32c);
    }

    private static int parseHex(String hex) {
        if (hex.length() != 8) {
            throw new IllegalArgumentException("not a CRC32C of eight hex digits: " + hex);
        }
        return (int) Long.parseLong(hex, 16);
    }

    private static int crc(byte[] bytes) {
        CRC32C crc = new CRC32C();
        crc.update(bytes);
        return (int) crc.getValue();
    }
}
