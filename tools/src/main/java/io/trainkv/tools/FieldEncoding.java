package io.trainkv.tools;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.HexFormat;

/**
 * How the key and value bytes of {@code load} and {@code dump} files are written as text: UTF-8
 * text as it is, or hex or base64 for binary data. A dump in an encoding loads back byte for byte
 * with the same encoding.
 */
enum FieldEncoding {
    text, hex, base64;

    /**
     * The bytes a field stands for.
     *
     * @throws IllegalArgumentException if the field is not valid hex or base64
     */
    byte[] decode(String field) {
        return switch (this) {
            case text -> field.getBytes(StandardCharsets.UTF_8);
            case hex -> {
                try {
                    yield HexFormat.of().parseHex(field);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("not hex: " + e.getMessage());
                }
            }
            case base64 -> {
                try {
                    yield Base64.getDecoder().decode(field);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("not base64: " + e.getMessage());
                }
            }
        };
    }

    /**
     * The field that stands for {@code bytes}.
     *
     * @throws IllegalArgumentException if this is {@code text} and the bytes are not valid UTF-8
     */
    String encode(byte[] bytes) {
        return switch (this) {
            case text -> {
                try {
                    yield StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
                } catch (CharacterCodingException e) {
                    throw new IllegalArgumentException("not valid UTF-8 text");
                }
            }
            case hex -> HexFormat.of().formatHex(bytes);
            case base64 -> Base64.getEncoder().encodeToString(bytes);
        };
    }
}
