package io.celeriac.dashboard;

import io.celeriac.config.Secrets;

/**
 * HTML built as text with one rule: every value that did not come from this class is escaped
 * ({@link #text}, {@link #attr}); a {@link Html} fragment is already safe and is appended as it is.
 * Strings that may hold URLs (a broker, an error) are redacted first ({@link Secrets#redact}).
 */
final class Html {
    private final StringBuilder b = new StringBuilder(1024);

    /** Escapes text for an element's content or a quoted attribute value. */
    static String esc(Object value) {
        String s = value == null ? "" : Secrets.redact(String.valueOf(value));
        StringBuilder out = new StringBuilder(s.length() + 16);
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '"' -> out.append("&quot;");
                case '\'' -> out.append("&#39;");
                default -> {
                    if (c < 0x20 && c != '\n' && c != '\t' && c != '\r') {
                        out.append("&#xFFFD;");
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.toString();
    }

    /** Appends markup written in this code base (never a value from outside). */
    Html raw(String markup) {
        b.append(markup);
        return this;
    }

    /** Appends a fragment built by another {@link Html}. */
    Html add(Html fragment) {
        b.append(fragment.b);
        return this;
    }

    /** Appends escaped text. */
    Html text(Object value) {
        b.append(esc(value));
        return this;
    }

    /** Appends {@code <tag attrs>text</tag>}, the text escaped; {@code attrs} is markup written here. */
    Html el(String tag, String attrs, Object value) {
        b.append('<').append(tag);
        if (attrs != null && !attrs.isEmpty()) {
            b.append(' ').append(attrs);
        }
        b.append('>').append(esc(value)).append("</").append(tag).append('>');
        return this;
    }

    /** {@code name="escaped value"}. */
    static String attr(String name, Object value) {
        return name + "=\"" + esc(value) + "\"";
    }

    /** A link to {@code href} (escaped) with escaped text. */
    Html link(String href, Object value) {
        return raw("<a " + attr("href", href) + ">").text(value).raw("</a>");
    }

    /** A URL query parameter value, percent-encoded. */
    static String q(String value) {
        return java.net.URLEncoder.encode(value == null ? "" : value, java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return b.toString();
    }
}
