package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.sstable.TableIterator;
import io.trainkv.sstable.TableProperties;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.Bytes;
import io.trainkv.util.KeyFormat;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code trainkv sstdump FILE|DIR}: inspects table files without opening the database (read-only;
 * it never writes). {@code check} parses every entry and compares the count with the properties;
 * {@code verify} checks every block's CRC; {@code properties} prints the properties block;
 * {@code scan} prints entries with their versions and value pointers. Exit 0 when every table is
 * sound, 1 when problems were found, 2 on usage or I/O errors.
 */
@Command(name = "sstdump", mixinStandardHelpOptions = true,
        description = "Check, verify, scan or describe table (.sst) files of a closed database directory.")
public final class SstDumpCommand implements Callable<Integer> {

    @Parameters(paramLabel = "FILE|DIR", description = "A table file, or a directory whose .sst files to inspect.")
    Path target;

    @Option(names = "--command", defaultValue = "check",
            description = "check | verify | properties | scan. Default: ${DEFAULT-VALUE}")
    String command;

    @Option(names = "--prefix", description = "scan: only user keys with this prefix.")
    String prefix;

    @Option(names = "--limit", defaultValue = "100", description = "scan: at most this many entries per table. Default: ${DEFAULT-VALUE}")
    int limit;

    @Option(names = "--hex", description = "Print keys and values as hex.")
    boolean hex;

    @Option(names = "--json", description = "Print one JSON object per table.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = new PrintWriter(System.out, true, StandardCharsets.UTF_8);
        PrintWriter err = new PrintWriter(System.err, true, StandardCharsets.UTF_8);
        String refusal = ClosedDirectory.refusalFor(target);
        if (refusal != null) {
            err.println("error: " + refusal);
            return 2;
        }
        if (!List.of("check", "verify", "properties", "scan").contains(command)) {
            err.println("error: unknown --command " + command + " (check, verify, properties or scan)");
            return 2;
        }
        List<Path> tables;
        try {
            tables = DatabaseFiles.of(target, FileNames.Kind.TABLE);
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        int problems = 0;
        for (Path table : tables) {
            problems += inspect(table, out, err) ? 0 : 1;
        }
        if (!json) {
            out.println(tables.size() + " table(s), " + problems + " with problems");
        }
        return problems == 0 ? 0 : 1;
    }

    /** Inspects one table; returns whether it is sound. */
    private boolean inspect(Path table, PrintWriter out, PrintWriter err) {
        String name = table.getFileName().toString();
        Path absolute = table.toAbsolutePath();
        long number = Math.max(0, FileNames.parseNumber(name, FileNames.Kind.TABLE));
        try (TableReader reader = TableReader.open(NioStorage.open(absolute.getParent()).openRead(name), name,
                number, false)) {
            TableProperties p = reader.properties();
            long entries = 0;
            List<String> rows = new ArrayList<>();
            if (!command.equals("properties")) {
                TableIterator it = reader.iterator(false);
                byte[] prefixBytes = prefix == null ? null : prefix.getBytes(StandardCharsets.UTF_8);
                for (it.seekToFirst(); it.valid(); it.next()) {
                    ValueStruct value = it.value();
                    entries++;
                    if (command.equals("scan") && rows.size() < limit && (prefixBytes == null
                            || startsWith(it.userKey(), prefixBytes))) {
                        rows.add(describe(it.userKey(), value));
                    }
                }
            }
            boolean countMatches = command.equals("properties") || entries == p.entryCount();
            if (json) {
                out.println(String.format(Locale.ROOT, "{\"file\":\"%s\",\"ok\":%b,\"entries\":%d,\"propertiesEntries\":%d,"
                        + "\"tombstones\":%d,\"dataBlocks\":%d,\"minVersion\":%d,\"maxVersion\":%d,\"bytes\":%d}",
                        name, countMatches, command.equals("properties") ? p.entryCount() : entries, p.entryCount(),
                        p.tombstoneCount(), p.dataBlockCount(), p.minVersion(), p.maxVersion(), reader.fileSize()));
            } else {
                out.println(name + ": " + reader.fileSize() + " bytes, " + p.entryCount() + " entries ("
                        + p.tombstoneCount() + " tombstones), " + p.dataBlockCount() + " data blocks, versions "
                        + p.minVersion() + ".." + p.maxVersion() + ", keys " + key(KeyFormat.userKey(p.smallestKey()))
                        + " .. " + key(KeyFormat.userKey(p.largestKey())));
                if (!p.valueLogBytes().isEmpty()) {
                    out.println("  value-log bytes referenced: " + p.valueLogBytes());
                }
                for (String row : rows) {
                    out.println("  " + row);
                }
            }
            if (!countMatches) {
                err.println(name + ": " + entries + " entries read but the properties say " + p.entryCount());
                return false;
            }
            return true;
        } catch (CorruptionException e) {
            err.println(name + ": " + e.getMessage());
            return false;
        } catch (IOException e) {
            err.println(name + ": cannot read: " + e.getMessage());
            return false;
        }
    }

    private String describe(byte[] userKey, ValueStruct value) {
        String shown;
        if (value.isTombstone()) {
            shown = "(deleted)";
        } else if (value.isValuePointer()) {
            shown = "-> " + value.pointer();
        } else {
            shown = key(value.value());
        }
        return key(userKey) + " @" + value.version() + " = " + shown
                + (value.expiresAtMillis() != 0 ? " (expires " + value.expiresAtMillis() + ")" : "");
    }

    private String key(byte[] bytes) {
        return hex ? "0x" + java.util.HexFormat.of().formatHex(bytes) : "\"" + Bytes.escape(bytes) + "\"";
    }

    private static boolean startsWith(byte[] key, byte[] prefix) {
        return key.length >= prefix.length && java.util.Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
    }
}
