package io.trainkv.tools;

import io.trainkv.storage.FileNames;
import io.trainkv.util.ValuePointer;
import java.util.Map;

/**
 * The one way every tool prints a value pointer: {@code 000007.vlog @ 1234 (+120 bytes)} in text
 * (the value-log file, the offset of the entry, its length in bytes) and
 * {@code {"file":7,"offset":1234,"length":120}} in JSON, never the record's own {@code toString}.
 */
final class PointerFormat {

    private PointerFormat() {
    }

    /** The pointer for a person: the value-log file's name, the entry's offset and its length (bytes). */
    static String text(ValuePointer pointer) {
        return FileNames.name(pointer.fileId(), FileNames.Kind.VALUE_LOG) + " @ " + pointer.offset() + " (+"
                + pointer.length() + " bytes)";
    }

    /** The pointer for {@code --json}: the value-log file number, the entry's offset and its length (bytes). */
    static Map<String, Object> json(ValuePointer pointer) {
        return Json.object("file", pointer.fileId(), "offset", pointer.offset(), "length", pointer.length());
    }
}
