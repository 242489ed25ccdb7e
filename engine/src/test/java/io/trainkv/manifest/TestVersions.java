package io.trainkv.manifest;

import io.trainkv.util.KeyFormat;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds {@link Version}s of table metadata alone (no files, no readers) for tests of code that
 * only looks at a version's shape, such as the compaction picker.
 */
public final class TestVersions {

    private TestVersions() {
    }

    /** Metadata of table {@code fileNumber} of {@code fileSize} bytes holding user keys {@code smallest..largest}. */
    public static TableMeta table(long fileNumber, long fileSize, String smallest, String largest) {
        return new TableMeta(fileNumber, fileSize,
                KeyFormat.encode(smallest.getBytes(StandardCharsets.UTF_8), 1),
                KeyFormat.encode(largest.getBytes(StandardCharsets.UTF_8), 1));
    }

    /** A version whose level {@code i} holds {@code levels.get(i)}, in that order. */
    public static Version of(List<List<TableMeta>> levels) {
        List<List<TableHandle>> handles = new ArrayList<>();
        for (List<TableMeta> level : levels) {
            List<TableHandle> tables = new ArrayList<>();
            for (TableMeta meta : level) {
                tables.add(new TableHandle(meta, null, null));
            }
            handles.add(tables);
        }
        return new Version(handles);
    }
}
