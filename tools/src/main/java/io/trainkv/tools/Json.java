package io.trainkv.tools;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The {@code --json} output of the tools and the JSON they read ({@code load}'s JSON lines), on
 * Jackson: one document per line, written from ordered maps, lists, strings, numbers, booleans and
 * null, so that every tool escapes names and keys the same way. Doubles are written plainly
 * (no exponent, no trailing zeros; NaN and infinities as null), so that ratios read the same in
 * text and JSON.
 */
final class Json {

    private static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .addModule(new SimpleModule("trainkv-tools")
                    .addSerializer(Raw.class, new RawSerializer())
                    .addSerializer(Double.class, new PlainDoubleSerializer())
                    .addSerializer(Double.TYPE, new PlainDoubleSerializer()))
            .build();

    private Json() {
    }

    /** An ordered object from alternating names and values: {@code object("file", name, "ok", true)}. */
    static Map<String, Object> object(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("names and values must pair up");
        }
        Map<String, Object> object = new LinkedHashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            object.put((String) namesAndValues[i], namesAndValues[i + 1]);
        }
        return object;
    }

    /** JSON text written as it is: the output of another tool's {@code --json}, embedded. */
    record Raw(String json) {
    }

    /**
     * {@code value} as compact JSON text on one line.
     *
     * @throws IllegalArgumentException if a value has no JSON form (not a map, list, string,
     *         number, boolean, null or {@link Raw})
     */
    static String write(Object value) {
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("no JSON form for " + value + ": " + e.getOriginalMessage(), e);
        }
    }

    /**
     * One JSON document, strictly: nothing after it, no duplicate member names.
     *
     * @throws JsonProcessingException describing what is malformed and where (line and column)
     */
    static JsonNode parse(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
    }

    /** The JSON type of a node in words, for error messages: "a number", "an object", "null". */
    static String kind(JsonNode node) {
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case OBJECT, POJO -> "an object";
            case STRING -> "a string";
            case NUMBER -> "a number";
            case BOOLEAN -> "a boolean";
            case NULL, MISSING -> "null";
            case BINARY -> "binary data";
        };
    }

    /** Writes a {@link Raw} as its text. */
    private static final class RawSerializer extends JsonSerializer<Raw> {
        @Override
        public void serialize(Raw value, JsonGenerator out, SerializerProvider serializers) throws IOException {
            out.writeRawValue(value.json());
        }
    }

    /** Writes a double without an exponent or trailing zeros, and a non-finite one as null. */
    private static final class PlainDoubleSerializer extends JsonSerializer<Double> {
        @Override
        public void serialize(Double value, JsonGenerator out, SerializerProvider serializers) throws IOException {
            if (Double.isFinite(value)) {
                out.writeNumber(BigDecimal.valueOf(value).stripTrailingZeros());
            } else {
                out.writeNull();
            }
        }
    }
}
