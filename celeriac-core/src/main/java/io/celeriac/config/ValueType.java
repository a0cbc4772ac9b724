package io.celeriac.config;

import io.celeriac.ConfigException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How the value of a setting is read from YAML (strings, numbers, booleans, lists) or from a
 * string (an environment variable or a command-line flag), checked, and shown back.
 * An invalid value is rejected with a message naming the setting; never clamped.
 */
public abstract class ValueType<T> {
    private final String description;

    ValueType(String description) {
        this.description = description;
    }

    /** Human description used in errors and the settings reference, e.g. "integer ≥ 1". */
    public String description() {
        return description;
    }

    /** Parses {@code raw} (a String, Number, Boolean or List) for the setting named {@code name}. */
    public abstract T parse(String name, Object raw);

    /** True when a YAML null (or "none") is a valid value, meaning "no limit". */
    public boolean acceptsNone() {
        return false;
    }

    /** Shows a value the way a user would write it in YAML. */
    public String format(T value) {
        return String.valueOf(value);
    }

    /** Parses with {@code inner}, but reports a bad value with this type's description. */
    <X> X parseAs(ValueType<X> inner, String name, Object raw) {
        try {
            return inner.parse(name, raw);
        } catch (OutOfRange e) {
            throw e; // says the range, which is more than this type's description
        } catch (ConfigException e) {
            throw invalid(name, raw);
        }
    }

    /** A value of the right form but beyond what the setting takes. */
    static final class OutOfRange extends ConfigException {
        OutOfRange(String message) {
            super(message);
        }
    }

    ConfigException invalid(String name, Object raw) {
        return new ConfigException("setting '" + name + "': " + quote(raw) + " is not a valid value; expected " + description);
    }

    static String quote(Object raw) {
        return raw instanceof String ? "'" + raw + "'" : String.valueOf(raw);
    }

    public static ValueType<String> string() {
        return new ValueType<>("a string") {
            @Override
            public String parse(String name, Object raw) {
                if (raw instanceof String || raw instanceof Number || raw instanceof Boolean) {
                    return String.valueOf(raw);
                }
                throw invalid(name, raw);
            }
        };
    }

    /**
     * A URL (or empty): a string whose ports, if it names any ({@code host:port}, several in
     * {@code redis-sentinel://h1:26379,h2:26379/0}, after {@code jdbc:} too), are from 1 to 65535.
     * The rest is checked by the part that uses it.
     */
    public static ValueType<String> url() {
        return new ValueType<>("a URL") {
            @Override
            public String parse(String name, Object raw) {
                if (!(raw instanceof String s)) {
                    throw invalid(name, raw);
                }
                String bad = badPort(s.trim());
                if (bad != null) {
                    throw new ConfigException("setting '" + name + "': " + bad);
                }
                return s.trim();
            }
        };
    }

    /** What is wrong with the ports of {@code url}'s authority (the part after {@code ://}), or null. */
    static String badPort(String url) {
        int start = url.indexOf("://");
        if (start < 0) {
            return null;
        }
        String rest = url.substring(start + 3).split("[?#]", 2)[0];
        rest = rest.substring(rest.lastIndexOf('@') + 1); // a password may hold '/' or '@': the host is after the last '@'
        String authority = rest.split("/", 2)[0];
        for (String host : authority.split(",")) {
            int colon = host.startsWith("[") ? host.indexOf("]:") + 1 : host.lastIndexOf(':');
            if (colon <= 0 || colon == host.length() - 1) {
                continue; // no port: the scheme's default
            }
            String port = host.substring(colon + 1);
            if (!port.matches("\\d+")) {
                return "port '" + port + "' is not a number (1–65535)";
            }
            if (port.length() > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                return "port " + port + " out of range 1–65535";
            }
        }
        return null;
    }

    public static ValueType<String> oneOf(String... choices) {
        Set<String> allowed = Set.of(choices);
        return new ValueType<>("one of " + String.join(", ", choices)) {
            @Override
            public String parse(String name, Object raw) {
                String s = String.valueOf(raw).trim();
                for (String c : allowed) {
                    if (c.equalsIgnoreCase(s)) {
                        return c;
                    }
                }
                throw invalid(name, raw);
            }
        };
    }

    public static ValueType<Integer> integer(int min, int max) {
        String range = max == Integer.MAX_VALUE ? "an integer ≥ " + min : "an integer from " + min + " to " + max;
        return new ValueType<>(range) {
            @Override
            public Integer parse(String name, Object raw) {
                long v;
                if (raw instanceof Integer || raw instanceof Long || raw instanceof Short) {
                    v = ((Number) raw).longValue();
                } else if (raw instanceof String s) {
                    try {
                        v = Long.parseLong(s.trim());
                    } catch (NumberFormatException e) {
                        throw invalid(name, raw);
                    }
                } else {
                    throw invalid(name, raw);
                }
                if (v < min || v > max) {
                    throw invalid(name, raw);
                }
                return (int) v;
            }
        };
    }

    public static ValueType<Boolean> bool() {
        return new ValueType<>("true or false") {
            @Override
            public Boolean parse(String name, Object raw) {
                if (raw instanceof Boolean b) {
                    return b;
                }
                switch (String.valueOf(raw).trim().toLowerCase(Locale.ROOT)) {
                    case "true", "yes", "on", "1":
                        return true;
                    case "false", "no", "off", "0":
                        return false;
                    default:
                        throw invalid(name, raw);
                }
            }
        };
    }

    private static final Pattern DURATION = Pattern.compile("(\\d+(?:\\.\\d+)?)\\s*(ms|s|m|h|d)?");

    /** The longest duration a setting takes (ten years): longer ones are rejected, never clamped. */
    public static final Duration MAX_DURATION = Duration.ofDays(3650);


    /**
     * A duration: a number of seconds (as Celery writes them, {@code 600}, {@code 0.5}) or a number
     * with a unit: {@code 250ms}, {@code 30s}, {@code 5m}, {@code 2h}, {@code 1d}.
     */
    public static ValueType<Duration> duration(Duration min) {
        String desc = "a duration such as 30, 30s, 5m, 2h, 1d or 250ms" + (min.isZero() ? "" : " (at least " + Durations.format(min) + ")");
        return new ValueType<>(desc) {
            @Override
            public Duration parse(String name, Object raw) {
                Duration d;
                if (raw instanceof Number n) {
                    checkRange(name, raw, n.doubleValue());
                    d = Durations.ofSeconds(n.doubleValue());
                } else if (raw instanceof String s) {
                    Matcher m = DURATION.matcher(s.trim());
                    if (!m.matches()) {
                        throw invalid(name, raw);
                    }
                    double amount = Double.parseDouble(m.group(1));
                    String unit = m.group(2) == null ? "s" : m.group(2);
                    double seconds = switch (unit) {
                        case "ms" -> amount / 1000.0;
                        case "m" -> amount * 60;
                        case "h" -> amount * 3600;
                        case "d" -> amount * 86400;
                        default -> amount;
                    };
                    checkRange(name, raw, seconds);
                    d = Durations.ofSeconds(seconds);
                } else {
                    throw invalid(name, raw);
                }
                if (d.isNegative() || d.compareTo(min) < 0) {
                    throw invalid(name, raw);
                }
                return d;
            }

            @Override
            public String format(Duration value) {
                return Durations.format(value);
            }
        };
    }

    void checkRange(String name, Object raw, double seconds) {
        if (Double.isNaN(seconds)) {
            throw invalid(name, raw);
        }
        if (seconds > MAX_DURATION.getSeconds()) {
            throw new OutOfRange("setting '" + name + "': " + quote(raw) + " is out of range (max "
                    + Durations.format(MAX_DURATION) + ")");
        }
    }

    /**
     * A limit that may be switched off: a duration as {@link #duration}, or {@code 0}, {@code none},
     * {@code off} or a YAML null for "no limit" (read as {@link Duration#ZERO}).
     */
    public static ValueType<Duration> limit() {
        ValueType<Duration> d = duration(Duration.ZERO);
        return new ValueType<>("a duration such as 30, 30s, 5m, or 0/none for no limit") {
            @Override
            public Duration parse(String name, Object raw) {
                if (raw == null || (raw instanceof String s && NONE.contains(s.trim().toLowerCase(Locale.ROOT)))) {
                    return Duration.ZERO;
                }
                return parseAs(d, name, raw);
            }

            @Override
            public boolean acceptsNone() {
                return true;
            }

            @Override
            public String format(Duration value) {
                return value.isZero() ? "none" : Durations.format(value);
            }
        };
    }

    private static final Set<String> NONE = Set.of("none", "off", "null", "~");

    /**
     * Celery's {@code retry_backoff}: {@code true} (a 1 s base), {@code false} (no back-off), or the
     * base itself as a duration ({@code 2}, {@code 500ms}).
     */
    public static ValueType<Duration> backoff() {
        ValueType<Duration> d = duration(Duration.ZERO);
        return new ValueType<>("true, false, or a base duration such as 1, 2s or 500ms") {
            @Override
            public Duration parse(String name, Object raw) {
                if (raw instanceof Boolean b) {
                    return b ? Duration.ofSeconds(1) : Duration.ZERO;
                }
                String s = String.valueOf(raw).trim().toLowerCase(Locale.ROOT);
                if (s.equals("true") || s.equals("yes") || s.equals("on")) {
                    return Duration.ofSeconds(1);
                }
                if (s.equals("false") || s.equals("no") || s.equals("off")) {
                    return Duration.ZERO;
                }
                return parseAs(d, name, raw);
            }

            @Override
            public String format(Duration value) {
                return value.isZero() ? "false" : value.equals(Duration.ofSeconds(1)) ? "true" : Durations.format(value);
            }
        };
    }

    /** A time zone id such as {@code UTC} or {@code Europe/Madrid}. */
    public static ValueType<java.time.ZoneId> zone() {
        return new ValueType<>("a time zone such as UTC or Europe/Madrid") {
            @Override
            public java.time.ZoneId parse(String name, Object raw) {
                try {
                    return java.time.ZoneId.of(String.valueOf(raw).trim());
                } catch (java.time.DateTimeException e) {
                    throw invalid(name, raw);
                }
            }

            @Override
            public String format(java.time.ZoneId value) {
                return value.getId();
            }
        };
    }

    /** A string (an environment variable, a flag) read as JSON; anything else (YAML already read) as it is. */
    private static Object fromJson(String name, Object raw, String what) {
        if (!(raw instanceof String s)) {
            return raw;
        }
        try {
            return io.celeriac.protocol.Json.MAPPER.readValue(s, Object.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ConfigException("setting '" + name + "': not " + what + ": " + e.getOriginalMessage());
        }
    }

    /**
     * A nested mapping (YAML), or the same as a JSON object in one string (environment, flags).
     * Its contents are checked by the part that uses it.
     */
    public static ValueType<java.util.Map<String, Object>> mapping() {
        return new ValueType<>("a mapping (YAML), or a JSON object") {
            @Override
            @SuppressWarnings("unchecked")
            public java.util.Map<String, Object> parse(String name, Object raw) {
                Object v = fromJson(name, raw, "a JSON object");
                if (!(v instanceof java.util.Map<?, ?> m)) {
                    throw invalid(name, raw);
                }
                for (Object k : m.keySet()) {
                    if (!(k instanceof String)) {
                        throw new ConfigException("setting '" + name + "': key " + k + " is not a name");
                    }
                }
                return java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>((java.util.Map<String, Object>) m));
            }

            @Override
            public String format(java.util.Map<String, Object> value) {
                return value.isEmpty() ? "{}" : io.celeriac.protocol.Json.write(value);
            }
        };
    }

    /**
     * A mapping (YAML, or a JSON object in one string) whose contents {@code check} reads when the
     * setting is read, so that a bad entry is one line naming it before anything starts.
     */
    public static ValueType<java.util.Map<String, Object>> mapping(String description,
                                                                  java.util.function.BiConsumer<String, java.util.Map<String, Object>> check) {
        ValueType<java.util.Map<String, Object>> base = mapping();
        return new ValueType<>(description) {
            @Override
            public java.util.Map<String, Object> parse(String name, Object raw) {
                java.util.Map<String, Object> m = base.parse(name, raw);
                check.accept(name, m);
                return m;
            }

            @Override
            public String format(java.util.Map<String, Object> value) {
                return base.format(value);
            }
        };
    }

    /**
     * Celery's {@code task_routes}: a mapping, or a list of mappings (YAML, or the same as JSON in one
     * string), read by {@link TaskRoutes}; kept as a list of mappings.
     */
    public static ValueType<List<Object>> routes() {
        return new ValueType<>("a mapping of task name or glob → queue (or {queue: …}), or a list of such mappings") {
            @Override
            public List<Object> parse(String name, Object raw) {
                Object v = fromJson(name, raw, "a JSON object or list");
                List<Object> out = v instanceof java.util.Map<?, ?> ? List.of(v)
                        : v instanceof List<?> l ? List.copyOf(l) : null;
                if (out == null) {
                    throw invalid(name, raw);
                }
                TaskRoutes.parse(name, out); // checks every entry
                return out;
            }

            @Override
            public String format(List<Object> value) {
                return value.isEmpty() ? "{}" : io.celeriac.protocol.Json.write(value.size() == 1 ? value.get(0) : value);
            }
        };
    }

    /**
     * Celery's {@code --autoscale MAX,MIN}: the pool grows to at most MAX and shrinks to no fewer than
     * MIN (omitted: 0). Parsed as {@code [MAX, MIN]}; empty (or none) is off, {@code []}.
     */
    public static ValueType<List<Integer>> autoscale() {
        return new ValueType<>("MAX,MIN (e.g. 10,3: at most 10 tasks at once, at least 3; MIN omitted: 0), or empty: off") {
            @Override
            public List<Integer> parse(String name, Object raw) {
                if (raw == null) {
                    return List.of();
                }
                String s = raw instanceof Collection<?> c ? String.join(",", c.stream().map(String::valueOf).toList())
                        : raw instanceof String || raw instanceof Integer || raw instanceof Long ? String.valueOf(raw).trim() : null;
                if (s == null) {
                    throw invalid(name, raw);
                }
                if (s.isEmpty() || s.equalsIgnoreCase("none")) {
                    return List.of();
                }
                Matcher m = Pattern.compile("(\\d{1,6})\\s*(?:,\\s*(\\d{1,6}))?").matcher(s);
                if (!m.matches()) {
                    throw invalid(name, raw);
                }
                int max = Integer.parseInt(m.group(1));
                int min = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
                if (max < 1 || max > 10_000) {
                    throw new OutOfRange("setting '" + name + "': " + quote(raw) + ": MAX must be from 1 to 10000, got " + max);
                }
                if (min > max) {
                    throw new OutOfRange("setting '" + name + "': " + quote(raw) + ": MIN (" + min + ") must not exceed MAX (" + max + ")");
                }
                return List.of(max, min);
            }

            @Override
            public boolean acceptsNone() {
                return true;
            }

            @Override
            public String format(List<Integer> value) {
                return value.isEmpty() ? "" : value.get(0) + "," + value.get(1);
            }
        };
    }

    /** A list of names: a YAML list, or one string of comma-separated names. */
    public static ValueType<List<String>> names() {
        return new ValueType<>("a list of names (YAML list or comma-separated)") {
            @Override
            public List<String> parse(String name, Object raw) {
                List<String> out = new ArrayList<>();
                if (raw instanceof Collection<?> c) {
                    for (Object o : c) {
                        if (!(o instanceof String) || ((String) o).isBlank()) {
                            throw invalid(name, raw);
                        }
                        out.add(((String) o).trim());
                    }
                } else if (raw instanceof String s) {
                    for (String part : s.split(",")) {
                        if (!part.isBlank()) {
                            out.add(part.trim());
                        }
                    }
                } else {
                    throw invalid(name, raw);
                }
                return List.copyOf(out);
            }

            @Override
            public String format(List<String> value) {
                return value.isEmpty() ? "[]" : String.join(",", value);
            }
        };
    }
}
