package io.trainkv.tools;

import io.trainkv.util.Bytes;
import io.trainkv.util.ValueStruct;
import java.util.HexFormat;
import java.util.Map;

/**
 * How the dump tools ({@code sstdump scan}, {@code wal-dump}, {@code vlog-dump}) show keys, values
 * and entries, so that one entry reads the same whichever file it is found in: bytes as escaped
 * text (printable ASCII, other bytes as {@code \xNN}) or, with {@code --hex}, as {@code 0x} hex; an
 * entry as a JSON object with its key, version, kind ({@code value}, {@code tombstone} or
 * {@code pointer}), the value or the pointer ({@link PointerFormat}), expiry and GC mark.
 *
 * @param hex whether bytes are shown as hex
 */
record EntryFormat(boolean hex) {

    /** Bytes as a JSON string's contents: escaped text, or 0x-prefixed hex. */
    String text(byte[] bytes) {
        return hex ? "0x" + HexFormat.of().formatHex(bytes) : Bytes.escape(bytes);
    }

    /** Bytes for the text output: quoted escaped text, or 0x-prefixed hex. */
    String quoted(byte[] bytes) {
        return hex ? text(bytes) : "\"" + text(bytes) + "\"";
    }

    /** One entry as a JSON object. */
    Map<String, Object> json(byte[] userKey, ValueStruct value) {
        Map<String, Object> row = Json.object("key", text(userKey), "version", value.version());
        if (value.isTombstone()) {
            row.put("kind", "tombstone");
        } else if (value.isValuePointer()) {
            row.put("kind", "pointer");
            row.put("pointer", PointerFormat.json(value.pointer()));
        } else {
            row.put("kind", "value");
            row.put("value", text(value.value()));
        }
        row.put("expiresAtMillis", value.expiresAtMillis());
        row.put("movedByGc", value.isMoved());
        return row;
    }

    /** The entry's value for the text output: the value, {@code (deleted)}, or {@code -> } and the pointer. */
    String value(ValueStruct value) {
        if (value.isTombstone()) {
            return "(deleted)";
        }
        if (value.isValuePointer()) {
            return "-> " + PointerFormat.text(value.pointer());
        }
        return quoted(value.value());
    }

    /** What follows an entry in the text output: its expiry and whether value-log GC moved it ("" if neither). */
    static String marks(ValueStruct value) {
        return (value.expiresAtMillis() != 0 ? " (expires " + value.expiresAtMillis() + ")" : "")
                + (value.isMoved() ? " (moved by value-log GC)" : "");
    }
}
