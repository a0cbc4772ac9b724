package io.celeriac.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.io.UncheckedIOException;

/**
 * The one JSON mapper for messages, results and task arguments.
 *
 * <p>It is strict on purpose: a task declared {@code add(int x, int y)} called with {@code "2"} or
 * {@code 2.5} is an argument error, not a silent conversion, because the caller is often another
 * language and a silent conversion would hide its bug.
 */
public final class Json {
    private Json() {
    }

    public static final ObjectMapper MAPPER = create();
    public static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private static ObjectMapper create() {
        // Jackson refuses strings over 20 M characters by default (StreamReadConstraints, 2.15+): a
        // 15 MiB argument (20 M characters of base64) would make a message "not JSON" and a large
        // result unreadable. Sizes are Celeriac's to limit (task_payload_max_bytes, checked where a
        // message is sent and a result stored), and this one mapper reads every message, result,
        // process-pool frame and store record, so its reader takes strings of any length.
        com.fasterxml.jackson.core.JsonFactory factory = com.fasterxml.jackson.core.JsonFactory.builder()
                .streamReadConstraints(com.fasterxml.jackson.core.StreamReadConstraints.builder()
                        .maxStringLength(Integer.MAX_VALUE).build())
                .build();
        ObjectMapper m = JsonMapper.builder(factory)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                // Floats are doubles, as in Python: 1.0 stays 1.0 and -0.0 stays -0.0 through args,
                // kwargs and results (BigDecimal nodes would be normalised to 1 and 0). Python's json
                // writes NaN and Infinity as bare tokens, so they are read and written that way too.
                .enable(com.fasterxml.jackson.core.json.JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
                .disable(com.fasterxml.jackson.core.json.JsonWriteFeature.WRITE_NAN_AS_STRINGS)
                .configure(com.fasterxml.jackson.databind.cfg.JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES, false)
                .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
                .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
                .addModule(new JavaTimeModule())
                .build();
        // A JSON value of one kind never silently becomes another (JSON integers may widen to floats).
        fail(m, LogicalType.Textual, CoercionInputShape.Integer, CoercionInputShape.Float, CoercionInputShape.Boolean);
        fail(m, LogicalType.Integer, CoercionInputShape.String, CoercionInputShape.Float, CoercionInputShape.Boolean);
        fail(m, LogicalType.Float, CoercionInputShape.String, CoercionInputShape.Boolean);
        fail(m, LogicalType.Boolean, CoercionInputShape.String, CoercionInputShape.Integer, CoercionInputShape.Float);
        return m;
    }

    private static void fail(ObjectMapper m, LogicalType target, CoercionInputShape... shapes) {
        for (CoercionInputShape shape : shapes) {
            m.coercionConfigFor(target).setCoercion(shape, CoercionAction.Fail);
        }
    }

    /** The JSON text of {@code value} (an empty list or map without a trip through the mapper). */
    public static String write(Object value) {
        if (value instanceof java.util.List<?> l && l.isEmpty() || value instanceof ArrayNode a && a.isEmpty()) {
            return "[]";
        }
        if (value instanceof java.util.Map<?, ?> m && m.isEmpty() || value instanceof ObjectNode o && o.isEmpty()) {
            return "{}";
        }
        if (value instanceof JsonNode n) {
            java.io.StringWriter out = new java.io.StringWriter(128);
            try (com.fasterxml.jackson.core.JsonGenerator g = MAPPER.createGenerator(out)) {
                writeTree(g, n);
            } catch (java.io.IOException e) {
                throw new UncheckedIOException(e);
            }
            return out.toString();
        }
        try {
            return MAPPER.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Writes a tree to {@code g} as the mapper would, without the mapper: every message, result and
     * process-pool frame is a tree, and {@code ObjectMapper.writeValue} sets up a serializer
     * provider for each call, which cost more than writing a small tree. The kinds a tree read by
     * {@link #read} holds are written here; any other node (a POJO, binary, a decimal) goes to the mapper.
     */
    public static void writeTree(com.fasterxml.jackson.core.JsonGenerator g, JsonNode n) throws java.io.IOException {
        if (n == null) {
            g.writeNull();
            return;
        }
        switch (n.getNodeType()) {
            case NULL, MISSING -> g.writeNull();
            case STRING -> g.writeString(n.textValue());
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case ARRAY -> {
                g.writeStartArray(n, n.size());
                for (JsonNode e : n) {
                    writeTree(g, e);
                }
                g.writeEndArray();
            }
            case OBJECT -> {
                g.writeStartObject(n, n.size());
                for (java.util.Map.Entry<String, JsonNode> e : n.properties()) {
                    g.writeFieldName(e.getKey());
                    writeTree(g, e.getValue());
                }
                g.writeEndObject();
            }
            case NUMBER -> {
                switch (n.numberType()) {
                    case INT -> g.writeNumber(n.intValue());
                    case LONG -> g.writeNumber(n.longValue());
                    case DOUBLE -> g.writeNumber(n.doubleValue());
                    case FLOAT -> g.writeNumber(n.floatValue());
                    case BIG_INTEGER -> g.writeNumber(n.bigIntegerValue());
                    default -> g.writeTree(n); // decimals: the mapper's settings decide their form
                }
            }
            default -> g.writeTree(n);
        }
    }

    /**
     * Appends {@code text} as a JSON string (quoted and escaped), or {@code null} for null: for small
     * hand-built JSON on a hot path, read back by any JSON parser.
     */
    public static StringBuilder quote(StringBuilder out, String text) {
        if (text == null) {
            return out.append("null");
        }
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"');
    }

    /** Parses JSON text; throws Jackson's exception (with a location) when it is not JSON. */
    public static JsonNode read(String text) throws JsonProcessingException {
        return MAPPER.readTree(text);
    }

    /** Parses JSON in UTF-8 bytes; throws Jackson's exception (with a location) when it is not JSON or not UTF-8. */
    public static JsonNode read(byte[] utf8) throws JsonProcessingException {
        try {
            return MAPPER.readTree(utf8);
        } catch (JsonProcessingException e) {
            throw e;
        } catch (java.io.IOException e) { // an array in memory has no I/O to fail
            throw new UncheckedIOException(e);
        }
    }

    /** The size in bytes of a value's JSON text (UTF-8), as {@link #write} would give it, without building the text. */
    public static long byteSize(JsonNode value) {
        if (value == null || value.isNull()) {
            return 4; // null: most results (a task that returns nothing), no trip through the mapper
        }
        if (value.isNumber() || value.isBoolean()) {
            return value.toString().length();
        }
        Counting out = new Counting();
        try (com.fasterxml.jackson.core.JsonGenerator g = MAPPER.createGenerator(out)) {
            writeTree(g, value); // as write() writes it, in UTF-8
        } catch (java.io.IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.count;
    }

    private static final class Counting extends java.io.OutputStream {
        long count;

        @Override
        public void write(int b) {
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            count += len;
        }
    }

    /** Any Java value (records, POJOs, collections, primitives) as a JSON tree. */
    public static JsonNode toTree(Object value) {
        return MAPPER.valueToTree(value);
    }
}
