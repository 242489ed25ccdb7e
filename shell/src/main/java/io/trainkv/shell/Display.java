package io.trainkv.shell;

import io.trainkv.util.Bytes;

/**
 * How the shell prints keys and values: quoted, with non-printable bytes escaped (as the input
 * syntax accepts them back), and long values cut with their size shown.
 */
final class Display {

    /** Values longer than this are shown truncated. */
    static final int MAX_SHOWN = 200;

    private Display() {
    }

    static String quote(byte[] bytes) {
        if (bytes.length <= MAX_SHOWN) {
            return "\"" + Bytes.escape(bytes).replace("\"", "\\\"") + "\"";
        }
        byte[] head = java.util.Arrays.copyOf(bytes, MAX_SHOWN);
        return "\"" + Bytes.escape(head).replace("\"", "\\\"") + "\"... (" + bytes.length + " bytes)";
    }
}
