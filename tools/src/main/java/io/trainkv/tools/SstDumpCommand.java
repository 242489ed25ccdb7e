package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.sstable.BlockHandle;
import io.trainkv.sstable.TableFormat;
import io.trainkv.sstable.TableIterator;
import io.trainkv.sstable.TableLayout;
import io.trainkv.sstable.TableProperties;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code trainkv sstdump FILE|DIR}: inspects table files without opening the database (read-only;
 * it never writes). {@code check} parses every entry and compares the count with the properties;
 * {@code verify} does the same (every data block's CRC is checked as it is read); {@code properties}
 * prints the properties block; {@code scan} prints entries with their versions and value pointers,
 * optionally limited by prefix and by a user-key range {@code [from, to)} ({@code [from, to]} with
 * --inclusive; every version of a key in it is shown); {@code raw} prints the block
 * layout (every data block with its offset, size, keys, entry count and CRC, the filter, properties
 * and index blocks, and the footer fields) and checks that the blocks tile the file. Exit 0 when
 * every table is sound, 1 when problems were found (each named with the file and byte offset on
 * standard error), 2 on usage or I/O errors.
 */
@Command(name = "sstdump", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Check, verify, scan, describe or lay out the table (.sst) files of a closed database "
                + "directory. Read-only.",
        footer = {"Exit codes: 0 every table sound; 1 problems found, each named with file and byte offset on "
                + "standard error; 2 usage or I/O error.",
            "",
            "Examples:",
            "  trainkv sstdump --command raw db/000012.sst",
            "  trainkv sstdump --command scan --from user:100 --to user:200 --limit 1000 db   (user:200 excluded)",
            "  trainkv sstdump --command scan --from user:100 --to user:199 --inclusive db   (user:199 included)",
            "  trainkv sstdump --command scan --prefix 0x00ff --hex --json db"})
public final class SstDumpCommand implements Callable<Integer> {

    private static final List<String> COMMANDS = List.of("check", "verify", "properties", "scan", "raw");

    @Parameters(paramLabel = "FILE|DIR", description = "A table file, or a directory whose .sst files to inspect.")
    Path target;

    @Option(names = "--command", defaultValue = "check", paramLabel = "CMD", description = {
        "One of (default: ${DEFAULT-VALUE}):",
        "check, verify: read every entry, checking each data block's CRC, and compare the count with the properties.",
        "properties: print the properties block (entries, tombstones, versions, key range).",
        "scan: as check, and print the entries (key @version = value, (deleted) or -> value-log pointer); "
                + "see --prefix, --from, --to (excluded: [from, to)), --inclusive, --limit.",
        "raw: print the block layout: per data block its offset, size (without the 4-byte CRC after it), "
                + "entry count, first and last key and CRC result; the filter, properties and index blocks; "
                + "the footer's handles, format version, checksum and magic. Also checks that the blocks tile "
                + "the file and that the counts match the properties."})
    String command;

    @Option(names = "--prefix", paramLabel = "KEY",
            description = "scan: only user keys starting with KEY: " + KeyArgument.HELP + " (0x6b6579 is \"key\").")
    String prefix;

    @Mixin
    KeyRange range;

    @Option(names = "--limit", defaultValue = "100", paramLabel = "N",
            description = "scan: print at most N matching entries per table (the scan still reads and checks "
                    + "every entry). Default: ${DEFAULT-VALUE}")
    int limit;

    @Option(names = "--hex", description = "Print keys and values as hex (0x...) instead of text with \\xNN "
            + "escapes. Does not change how --prefix, --from and --to are read.")
    boolean hex;

    @Option(names = "--json", description = "Print one JSON object per table, one per line, and no summary line: "
            + "with scan it holds the rows (key, version, kind value|tombstone|pointer, value or pointer), "
            + "with raw the layout. A table that cannot be read gives {\"file\":..., \"ok\":false, \"error\":...}.")
    boolean json;

    @Spec
    CommandSpec spec;

    private byte[] prefixBytes;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String usage = usageError();
        if (usage != null) {
            err.println("error: " + usage);
            return 2;
        }
        return ClosedDirectory.whileHeld(target, out, err, json, () -> inspectHeld(out, err));
    }

    /** The tool's work, with the directory held closed. */
    private int inspectHeld(PrintWriter out, PrintWriter err) {
        List<Path> tables;
        try {
            tables = DatabaseFiles.of(target, FileNames.Kind.TABLE);
        } catch (IOException e) {
            return ClosedDirectory.unusable(target, e.getMessage(), out, err, json);
        }
        int problems = 0;
        int unreadable = 0;
        for (Path table : tables) {
            int result = inspect(table, out, err);
            problems += result == 1 ? 1 : 0;
            unreadable += result == 2 ? 1 : 0;
        }
        if (!json) {
            out.println(tables.size() + " table(s), " + problems + " with problems"
                    + (unreadable > 0 ? ", " + unreadable + " unreadable" : ""));
        }
        return unreadable > 0 ? 2 : problems > 0 ? 1 : 0;
    }

    /** Checks the options and decodes the key arguments; the reason they are unusable, or null. */
    private String usageError() {
        if (!COMMANDS.contains(command)) {
            return "unknown --command " + command + " (check, verify, properties, scan or raw)";
        }
        if (!command.equals("scan") && (prefix != null || range.given())) {
            return "--prefix, --from, --to and --inclusive apply to --command scan only";
        }
        if (limit < 0) {
            return "--limit must be at least 0";
        }
        try {
            prefixBytes = KeyArgument.parse(prefix);
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
        return range.usageError();
    }

    /** Inspects one table: 0 sound, 1 problems found, 2 unreadable (I/O error). */
    private int inspect(Path table, PrintWriter out, PrintWriter err) {
        String name = table.getFileName().toString();
        Path absolute = table.toAbsolutePath();
        long number = Math.max(0, FileNames.parseNumber(name, FileNames.Kind.TABLE));
        try (TableReader reader = TableReader.open(NioStorage.open(absolute.getParent()).openRead(name), name,
                number, false)) {
            List<String> problems = command.equals("raw") ? raw(reader, out) : entries(reader, out);
            for (String problem : problems) {
                err.println(name + ": " + problem);
            }
            return problems.isEmpty() ? 0 : 1;
        } catch (CorruptionException e) {
            err.println(name + ": " + e.getMessage());
            if (json) {
                out.println(Json.write(Severity.DAMAGED.addTo(Json.object("file", name, "error", e.getMessage(),
                        "offset", e.offset()))));
            }
            return 1;
        } catch (IOException | UncheckedIOException e) {
            err.println(name + ": cannot read: " + e.getMessage());
            if (json) {
                out.println(Json.write(Severity.UNUSABLE.addTo(Json.object("file", name,
                        "error", "cannot read: " + e.getMessage()))));
            }
            return 2;
        }
    }

    /** check, verify, properties and scan; returns the problems found. */
    private List<String> entries(TableReader reader, PrintWriter out) {
        String name = reader.fileName();
        TableProperties p = reader.properties();
        long entries = 0;
        long matching = 0;
        List<Object> rows = new ArrayList<>();
        if (!command.equals("properties")) {
            TableIterator it = reader.iterator(false, false);
            boolean scan = command.equals("scan");
            for (it.seekToFirst(); it.valid(); it.next()) {
                ValueStruct value = it.value();
                entries++;
                if (scan && matches(it.userKey())) {
                    matching++;
                    if (rows.size() < limit) {
                        rows.add(json ? entries().json(it.userKey(), value) : describe(it.userKey(), value));
                    }
                }
            }
        }
        boolean countMatches = command.equals("properties") || entries == p.entryCount();
        if (json) {
            Map<String, Object> object = (countMatches ? Severity.OK : Severity.DAMAGED).addTo(Json.object("file", name,
                    "entryCount", command.equals("properties") ? p.entryCount() : entries,
                    "propertiesEntryCount", p.entryCount(), "tombstoneCount", p.tombstoneCount(),
                    "dataBlockCount", p.dataBlockCount(), "minVersion", p.minVersion(), "maxVersion", p.maxVersion(),
                    "smallestKey", keyText(KeyFormat.userKey(p.smallestKey())),
                    "largestKey", keyText(KeyFormat.userKey(p.largestKey())), "bytes", reader.fileSize()));
            if (command.equals("properties")) {
                Map<String, Object> valueLog = new LinkedHashMap<>();
                p.valueLogBytes().entrySet().stream().sorted(Map.Entry.comparingByKey())
                        .forEach(e -> valueLog.put(Long.toString(e.getKey()), e.getValue()));
                object.put("valueLogBytes", valueLog);
            }
            if (command.equals("scan")) {
                object.put("matchingCount", matching);
                object.put("entries", rows);
            }
            out.println(Json.write(object));
        } else {
            out.println(name + ": " + reader.fileSize() + " bytes, " + p.entryCount() + " entries ("
                    + p.tombstoneCount() + " tombstones), " + p.dataBlockCount() + " data blocks, versions "
                    + p.minVersion() + ".." + p.maxVersion() + ", keys " + key(KeyFormat.userKey(p.smallestKey()))
                    + " .. " + key(KeyFormat.userKey(p.largestKey())));
            if (!p.valueLogBytes().isEmpty()) {
                out.println("  value-log bytes referenced: " + p.valueLogBytes().entrySet().stream()
                        .sorted(Map.Entry.comparingByKey())
                        .map(e -> FileNames.name(e.getKey(), FileNames.Kind.VALUE_LOG) + " " + e.getValue() + " bytes")
                        .collect(Collectors.joining(", ")));
            }
            for (Object row : rows) {
                out.println("  " + row);
            }
            if (matching > rows.size()) {
                out.println("  ... " + (matching - rows.size()) + " more matching entries (--limit " + limit + ")");
            }
        }
        return countMatches ? List.of()
                : List.of(entries + " entries read but the properties say " + p.entryCount());
    }

    /** Whether {@code userKey} passes --prefix and the key range. */
    private boolean matches(byte[] userKey) {
        return (prefixBytes == null || startsWith(userKey, prefixBytes)) && range.contains(userKey);
    }

    /**
     * raw: prints the footer and every block of the layout, reads every data block, and returns the
     * problems: damaged blocks (with their offsets), blocks that do not tile the file, and counts
     * that disagree with the properties.
     */
    private List<String> raw(TableReader reader, PrintWriter out) throws IOException {
        TableLayout layout = reader.layout();
        TableProperties p = reader.properties();
        List<String> problems = new ArrayList<>();
        List<Object> blocks = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        long expectedOffset = 0;
        long entries = 0;
        boolean allRead = true;
        for (int i = 0; i < layout.dataBlocks().size(); i++) {
            TableLayout.IndexEntry entry = layout.dataBlocks().get(i);
            BlockHandle handle = entry.handle();
            expectedOffset = checkTiling("data block #" + i, handle, expectedOffset, problems);
            Map<String, Object> block = Json.object("block", i, "offset", handle.offset(), "size", handle.size());
            String detail;
            try {
                TableLayout.DataBlock data = reader.readDataBlock(handle);
                entries += data.entryCount();
                block.put("entryCount", data.entryCount());
                putKey(block, "firstKey", "firstVersion", data.firstKey());
                putKey(block, "lastKey", "lastVersion", entry.lastKey());
                block.put("crcOk", true);
                detail = String.format(Locale.ROOT, "%5d entries  %s .. %s  crc ok", data.entryCount(),
                        internalKey(data.firstKey()), internalKey(entry.lastKey()));
                if (data.lastKey() != null && !Arrays.equals(data.lastKey(), entry.lastKey())) {
                    problems.add("data block #" + i + " at offset " + handle.offset() + ": its last key "
                            + internalKey(data.lastKey()) + " is not the index key " + internalKey(entry.lastKey()));
                }
            } catch (CorruptionException e) {
                allRead = false;
                boolean crcOk = checksumMatches(reader, handle);
                block.put("entryCount", null);
                block.put("firstKey", null);
                block.put("firstVersion", null);
                putKey(block, "lastKey", "lastVersion", entry.lastKey());
                block.put("crcOk", crcOk);
                block.put("error", e.getMessage());
                detail = String.format(Locale.ROOT, "    ? entries  ? .. %s  %s", internalKey(entry.lastKey()),
                        crcOk ? "crc ok, contents DAMAGED" : "CRC MISMATCH");
                problems.add(e.getMessage());
            }
            blocks.add(block);
            lines.add(String.format(Locale.ROOT, "  %-17s offset %10d  size %8d +4  %s", "data block #" + i,
                    handle.offset(), handle.size(), detail));
        }
        expectedOffset = checkTiling("filter block", layout.filter(), expectedOffset, problems);
        expectedOffset = checkTiling("properties block", layout.properties(), expectedOffset, problems);
        expectedOffset = checkTiling("index block", layout.index(), expectedOffset, problems);
        if (expectedOffset != layout.footerOffset()) {
            problems.add("the footer at offset " + layout.footerOffset() + " does not follow the index block, which ends at "
                    + expectedOffset);
        }
        if (layout.dataBlocks().size() != p.dataBlockCount()) {
            problems.add("the index at offset " + layout.index().offset() + " lists " + layout.dataBlocks().size()
                    + " data blocks but the properties say " + p.dataBlockCount());
        }
        if (allRead && entries != p.entryCount()) {
            problems.add(entries + " entries in the data blocks but the properties say " + p.entryCount());
        }
        if (json) {
            Map<String, Object> footer = Json.object("offset", layout.footerOffset(), "size", TableFormat.FOOTER_SIZE,
                    "filter", handle(layout.filter()), "properties", handle(layout.properties()),
                    "index", handle(layout.index()), "formatVersion", layout.formatVersion(),
                    "checksum", hex32(layout.footerChecksum()), "magic", hex64(layout.magic()));
            Map<String, Object> index = handle(layout.index());
            index.put("entryCount", layout.dataBlocks().size());
            out.println(Json.write((problems.isEmpty() ? Severity.OK : Severity.DAMAGED).addTo(Json.object(
                    "file", reader.fileName(), "bytes", layout.fileSize(), "entryCount", allRead ? entries : null,
                    "propertiesEntryCount", p.entryCount(), "dataBlocks", blocks, "filterBlock", handle(layout.filter()),
                    "propertiesBlock", handle(layout.properties()), "indexBlock", index, "footer", footer,
                    "problems", problems))));
            return problems;
        }
        out.println(reader.fileName() + ": " + layout.fileSize() + " bytes, " + layout.dataBlocks().size()
                + " data blocks, " + (allRead ? entries : "?") + " entries (properties: " + p.entryCount() + ")");
        lines.forEach(out::println);
        out.println(metaLine("filter block", layout.filter(), ""));
        out.println(metaLine("properties block", layout.properties(), ""));
        out.println(metaLine("index block", layout.index(), String.format(Locale.ROOT, "%5d entries",
                layout.dataBlocks().size())));
        out.println(String.format(Locale.ROOT, "  %-17s offset %10d  size %8d", "footer", layout.footerOffset(),
                TableFormat.FOOTER_SIZE));
        out.println("    filter handle      offset " + layout.filter().offset() + ", size " + layout.filter().size());
        out.println("    properties handle  offset " + layout.properties().offset() + ", size "
                + layout.properties().size());
        out.println("    index handle       offset " + layout.index().offset() + ", size " + layout.index().size());
        out.println("    format version     " + layout.formatVersion());
        out.println("    checksum           " + hex32(layout.footerChecksum()) + " (crc32c of bytes 0..39, ok)");
        out.println("    magic              " + hex64(layout.magic()) + " (\"TRAINKV1\")");
        out.println(problems.isEmpty() ? "  layout ok: the blocks and the footer tile the file"
                : "  " + problems.size() + " problem(s), on standard error");
        return problems;
    }

    /** Adds a problem if {@code handle} does not start at {@code expected}; returns where the next block starts. */
    private static long checkTiling(String what, BlockHandle handle, long expected, List<String> problems) {
        if (handle.offset() != expected) {
            problems.add(what + " at offset " + handle.offset() + " should start at " + expected
                    + (handle.offset() > expected ? " (a gap)" : " (it overlaps the block before)"));
        }
        return handle.end();
    }

    private static boolean checksumMatches(TableReader reader, BlockHandle handle) {
        try {
            return reader.checksumMatches(handle);
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    private static String metaLine(String what, BlockHandle handle, String detail) {
        return String.format(Locale.ROOT, "  %-17s offset %10d  size %8d +4  %s", what, handle.offset(), handle.size(),
                detail).stripTrailing();
    }

    private static Map<String, Object> handle(BlockHandle handle) {
        return Json.object("offset", handle.offset(), "size", handle.size());
    }

    private static String hex32(int value) {
        return String.format(Locale.ROOT, "0x%08x", value);
    }

    private static String hex64(long value) {
        return String.format(Locale.ROOT, "0x%016x", value);
    }

    /** Puts an internal key as its user key (text or hex) and version, or nulls. */
    private void putKey(Map<String, Object> object, String keyName, String versionName, byte[] internalKey) {
        object.put(keyName, internalKey == null ? null : keyText(KeyFormat.userKey(internalKey)));
        object.put(versionName, internalKey == null ? null : KeyFormat.version(internalKey));
    }

    private String internalKey(byte[] internalKey) {
        return internalKey == null ? "(none)" : key(KeyFormat.userKey(internalKey)) + "@" + KeyFormat.version(internalKey);
    }

    private String describe(byte[] userKey, ValueStruct value) {
        return key(userKey) + " @" + value.version() + " = " + entries().value(value) + EntryFormat.marks(value);
    }

    private EntryFormat entries() {
        return new EntryFormat(hex);
    }

    private String key(byte[] bytes) {
        return entries().quoted(bytes);
    }

    private String keyText(byte[] bytes) {
        return entries().text(bytes);
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }
}
