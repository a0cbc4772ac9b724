package io.celeriac.protocol;

/**
 * Text from a message (task name, id, headers, a reason quoting them) made safe for a log line:
 * control characters — a newline above all, which would let a producer write whole fake lines into
 * the worker's log — are written as escapes ({@code \n}, {@code \r}, {@code \t}, {@code \x1b},
 * {@code \u2028}). Text without them is returned as it is.
 */
public final class LogText {
    private LogText() {
    }

    /** The text with its control characters escaped; null stays null. */
    public static String escape(String s) {
        if (s == null) {
            return null;
        }
        int i = 0;
        while (i < s.length() && !isControl(s.charAt(i))) {
            i++;
        }
        if (i == s.length()) {
            return s;
        }
        StringBuilder b = new StringBuilder(s.length() + 16).append(s, 0, i);
        for (; i < s.length(); i++) {
            char c = s.charAt(i);
            if (!isControl(c)) {
                b.append(c);
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c == '\r') {
                b.append("\\r");
            } else if (c == '\t') {
                b.append("\\t");
            } else if (c < 0x100) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.toString();
    }

    /** Whether the text has a character {@link #escape} would escape. */
    public static boolean hasControl(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (isControl(s.charAt(i))) {
                return true;
            }
        }
        return false;
    }

    /** C0 and C1 controls, DEL, and the Unicode line and paragraph separators. */
    static boolean isControl(char c) {
        return c < 0x20 || (c >= 0x7f && c <= 0x9f) || c == '\u2028' || c == '\u2029';
    }

    /**
     * A log argument that is meant to span lines (a traceback): a log layout that escapes message
     * data leaves it as it is.
     */
    public record Multiline(String text) {
        @Override
        public String toString() {
            return text;
        }
    }
}
