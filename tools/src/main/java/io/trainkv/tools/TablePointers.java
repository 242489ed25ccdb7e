package io.trainkv.tools;

import io.trainkv.CorruptionException;
import io.trainkv.manifest.ManifestState;
import io.trainkv.manifest.VersionEdit;
import io.trainkv.sstable.TableIterator;
import io.trainkv.sstable.TableReader;
import io.trainkv.storage.FileNames;
import io.trainkv.storage.NioStorage;
import io.trainkv.util.ValuePointer;
import io.trainkv.util.ValueStruct;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * The value pointers held by the live tables of a closed directory (every version a table holds,
 * read-only), for {@code check}, which resolves each, and {@code vlog-verify}, which asks whether
 * a live pointer reaches bytes of a value-log file that do not read back. Pointers into value-log
 * files GC collected are superseded and skipped.
 */
final class TablePointers {

    /** Receives each pointer with the table holding it and the entry's key and version. */
    @FunctionalInterface
    interface Visitor {
        void pointer(String table, byte[] key, long version, ValuePointer pointer);
    }

    /** A live table whose pointers are unknown: {@code missing} from the directory, or unreadable; and why, in words. */
    record Unknown(boolean missing, String describe) {

        /** The kind of problem, as {@code check} counts it: "missing table" or "unreadable table". */
        String kind() {
            return missing ? "missing table" : "unreadable table";
        }
    }

    private TablePointers() {
    }

    /**
     * Hands every pointer of the live tables of {@code state} to {@code visitor}, table by table.
     *
     * @return each live table that is missing or cannot be read (its pointers are unknown)
     */
    static List<Unknown> forEach(NioStorage storage, ManifestState state, Visitor visitor) {
        Set<Long> collected = state.valueLogsCollected();
        List<Unknown> unknown = new ArrayList<>();
        for (VersionEdit.Added table : state.liveTables().values()) {
            String name = FileNames.name(table.table().fileNumber(), FileNames.Kind.TABLE);
            if (!storage.exists(name)) {
                unknown.add(new Unknown(true, "missing table " + name + ": its value pointers cannot be checked"));
                continue;
            }
            try (TableReader reader = TableReader.open(storage.openRead(name), name, table.table().fileNumber(), false)) {
                TableIterator it = reader.iterator(false);
                for (it.seekToFirst(); it.valid(); it.next()) {
                    ValueStruct value = it.value();
                    if (value.isValuePointer() && !collected.contains(value.pointer().fileId())) {
                        visitor.pointer(name, it.userKey(), value.version(), value.pointer());
                    }
                }
            } catch (CorruptionException | IOException e) {
                unknown.add(new Unknown(false, "unreadable table " + name + ": " + e.getMessage()));
            }
        }
        return unknown;
    }
}
