package io.trainkv.tools;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/**
 * A key given on the command line ({@code --from}, {@code --to}, {@code --prefix}), read the same
 * way by every tool: hex after {@code 0x}, otherwise the UTF-8 bytes of the text.
 */
final class KeyArgument {

    /** The words every --help uses for it. */
    static final String HELP = "UTF-8 text, or hex if it starts with 0x";

    private KeyArgument() {
    }

    /**
     * The key's bytes, or null for null.
     *
     * @throws IllegalArgumentException if it starts with 0x but is not hex
     */
    static byte[] parse(String text) {
        if (text == null) {
            return null;
        }
        if (!text.startsWith("0x")) {
            return text.getBytes(StandardCharsets.UTF_8);
        }
        try {
            return HexFormat.of().parseHex(text.substring(2));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("key " + text + " starts with 0x but is not hex (an even number of "
                    + "digits 0-9a-f)");
        }
    }
}
