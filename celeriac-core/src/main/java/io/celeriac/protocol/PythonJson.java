package io.celeriac.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Iterator;
import java.util.Map;

/**
 * JSON text as Python's {@code json.dumps} writes it by default ({@code ", "} and {@code ": "}
 * separators, non-ASCII escaped as {@code \\uXXXX}): for values stored beside ones Python wrote,
 * such as the entries of a chord's join set, so that entries from either language look alike.
 */
public final class PythonJson {
    private PythonJson() {
    }

    public static String write(JsonNode n) {
        StringBuilder b = new StringBuilder();
        write(n, b);
        return b.toString();
    }

    private static void write(JsonNode n, StringBuilder b) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            b.append("null");
        } else if (n.isObject()) {
            b.append('{');
            Iterator<Map.Entry<String, JsonNode>> it = n.fields();
            boolean first = true;
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!first) {
                    b.append(", ");
                }
                first = false;
                string(e.getKey(), b);
                b.append(": ");
                write(e.getValue(), b);
            }
            b.append('}');
        } else if (n.isArray()) {
            b.append('[');
            for (int i = 0; i < n.size(); i++) {
                if (i > 0) {
                    b.append(", ");
                }
                write(n.get(i), b);
            }
            b.append(']');
        } else if (n.isTextual()) {
            string(n.asText(), b);
        } else {
            b.append(Json.write(n)); // numbers and booleans: the same text in both
        }
    }

    private static void string(String s, StringBuilder b) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                case '\b' -> b.append("\\b");
                case '\f' -> b.append("\\f");
                default -> {
                    if (c < 0x20 || c > 0x7e) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }
}
