package io.celeriac.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;

/**
 * Python {@code repr} of JSON values, for the {@code argsrepr}/{@code kwargsrepr} headers that
 * Celery tools (Flower, {@code inspect active}) display. Display only: never parsed back.
 */
public final class PythonRepr {
    private PythonRepr() {
    }

    /** Celery truncates these headers to this many characters. */
    public static final int MAX_LENGTH = 1024;

    public static String args(JsonNode args) {
        StringBuilder sb = new StringBuilder("(");
        int i = 0;
        for (JsonNode a : args) {
            if (i++ > 0) {
                sb.append(", ");
            }
            repr(a, sb);
            if (sb.length() > MAX_LENGTH) {
                break;
            }
        }
        if (i == 1) {
            sb.append(',');
        }
        return truncate(sb.append(')'));
    }

    public static String kwargs(JsonNode kwargs) {
        StringBuilder sb = new StringBuilder();
        repr(kwargs, sb);
        return truncate(sb);
    }

    /** Python's repr of any JSON value, truncated like Celery's argsrepr. */
    public static String of(JsonNode value) {
        StringBuilder sb = new StringBuilder();
        repr(value, sb);
        return truncate(sb);
    }

    private static String truncate(StringBuilder sb) {
        return sb.length() <= MAX_LENGTH ? sb.toString() : sb.substring(0, MAX_LENGTH - 3) + "...";
    }

    static void repr(JsonNode n, StringBuilder sb) {
        if (sb.length() > MAX_LENGTH) {
            return;
        }
        if (n == null || n.isNull() || n.isMissingNode()) {
            sb.append("None");
        } else if (n.isBoolean()) {
            sb.append(n.booleanValue() ? "True" : "False");
        } else if (n.isNumber()) {
            sb.append(n.numberValue());
        } else if (n.isTextual()) {
            string(n.textValue(), sb);
        } else if (n.isArray()) {
            sb.append('[');
            int i = 0;
            for (JsonNode e : n) {
                if (i++ > 0) {
                    sb.append(", ");
                }
                repr(e, sb);
            }
            sb.append(']');
        } else if (n.isObject()) {
            sb.append('{');
            int i = 0;
            for (Map.Entry<String, JsonNode> e : n.properties()) {
                if (i++ > 0) {
                    sb.append(", ");
                }
                string(e.getKey(), sb);
                sb.append(": ");
                repr(e.getValue(), sb);
            }
            sb.append('}');
        } else {
            sb.append(n.asText());
        }
    }

    private static void string(String s, StringBuilder sb) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(quote);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c == quote) {
                        sb.append('\\').append(c);
                    } else if (c < 0x20 || c == 0x7f) {
                        sb.append(String.format("\\x%02x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        sb.append(quote);
    }
}
