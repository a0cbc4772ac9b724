package io.celeriac.testkit;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;

/**
 * A strict parser of Prometheus's text exposition format 0.0.4 (what a Prometheus server scrapes
 * with {@code Accept: text/plain; version=0.0.4}), for tests: anything malformed fails with the line
 * number. It checks what the format requires: {@code # HELP} and {@code # TYPE} lines (at most one
 * each per family, the TYPE before its samples, a known type), metric and label names, label values'
 * escapes ({@code \\}, {@code \"}, {@code \n} only), sample values (floats, {@code NaN},
 * {@code +Inf}, {@code -Inf}) and timestamps, each family's lines in one group, no series twice,
 * and histograms whole (only {@code _bucket}, {@code _sum}, {@code _count} samples, an {@code le}
 * label on each bucket, cumulative buckets ending in {@code +Inf} equal to {@code _count}).
 */
public final class PrometheusText {
    private static final Pattern METRIC_NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern FLOAT = Pattern.compile("[+-]?(?:\\d+\\.?\\d*|\\.\\d+)(?:[eE][+-]?\\d+)?");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram", "summary", "untyped");

    /**
     * One sample line.
     *
     * @param name      the sample's name (a histogram's carries its suffix, e.g. {@code x_bucket})
     * @param labels    its labels, unescaped
     * @param value     its value
     * @param timestamp its timestamp (epoch ms), or null
     */
    public record Sample(String name, Map<String, String> labels, double value, Long timestamp) {
    }

    /**
     * One metric family: its HELP, TYPE and samples.
     *
     * @param name    the family's name (a histogram's without suffix)
     * @param type    counter, gauge, histogram, summary or untyped
     * @param help    the HELP text unescaped, or null
     * @param samples its samples in order
     */
    public record Family(String name, String type, String help, List<Sample> samples) {
    }

    private final Map<String, Family> families;

    private PrometheusText(Map<String, Family> families) {
        this.families = families;
    }

    /** The families, by name, in the order they came. */
    public Map<String, Family> families() {
        return Collections.unmodifiableMap(families);
    }

    /** Every sample named {@code name} (a histogram's with its suffix) whose labels include all of {@code labels}. */
    public List<Sample> samples(String name, Map<String, String> labels) {
        Predicate<Sample> match = s -> s.name().equals(name) && s.labels().entrySet().containsAll(labels.entrySet());
        return families.values().stream().flatMap(f -> f.samples().stream()).filter(match).toList();
    }

    /** The sum of {@link #samples}' values (0 when none match). */
    public double sum(String name, Map<String, String> labels) {
        return samples(name, labels).stream().mapToDouble(Sample::value).sum();
    }

    /** The one sample named {@code name} with {@code labels} among its labels; fails unless exactly one matches. */
    public double value(String name, Map<String, String> labels) {
        List<Sample> s = samples(name, labels);
        if (s.size() != 1) {
            throw new AssertionError(s.size() + " samples " + name + labels + " (expected one): " + s);
        }
        return s.get(0).value();
    }

    /**
     * Parses {@code text}; throws {@link IllegalArgumentException} naming the line for anything
     * that is not valid text format 0.0.4.
     *
     * @param text the exposition, as scraped
     * @return the families
     */
    public static PrometheusText parse(String text) {
        if (!text.isEmpty() && !text.endsWith("\n")) {
            throw new IllegalArgumentException("the exposition does not end with a line feed");
        }
        Map<String, String> types = new LinkedHashMap<>();
        Map<String, String> helps = new LinkedHashMap<>();
        Map<String, List<Sample>> samples = new LinkedHashMap<>();
        Set<String> closed = new HashSet<>(); // families whose group of lines has ended
        Set<String> series = new HashSet<>();
        String current = null;
        String[] lines = text.split("\n", -1);
        for (int i = 0; i < lines.length - 1; i++) {
            String line = lines[i];
            int no = i + 1;
            if (line.isBlank()) {
                continue;
            }
            String family;
            if (line.startsWith("#")) {
                String[] t = line.split("[ \t]+", 4);
                if (t.length < 2 || !t[0].equals("#") || !(t[1].equals("HELP") || t[1].equals("TYPE"))) {
                    continue; // a plain comment
                }
                if (t.length < 3 || !METRIC_NAME.matcher(t[2]).matches()) {
                    throw bad(no, line, "# " + t[1] + " without a valid metric name");
                }
                family = t[2];
                if (t[1].equals("TYPE")) {
                    String type = t.length == 4 ? t[3].strip() : "";
                    if (!TYPES.contains(type)) {
                        throw bad(no, line, "unknown type '" + type + "'");
                    }
                    if (types.containsKey(family)) {
                        throw bad(no, line, "a second TYPE for " + family);
                    }
                    if (samples.containsKey(family)) {
                        throw bad(no, line, "TYPE for " + family + " after its samples");
                    }
                    types.put(family, type);
                } else {
                    if (helps.containsKey(family)) {
                        throw bad(no, line, "a second HELP for " + family);
                    }
                    helps.put(family, unescapeHelp(t.length == 4 ? t[3] : "", no, line));
                }
            } else {
                Sample s = sample(line, no);
                family = familyOf(s.name(), types);
                String type = types.getOrDefault(family, "untyped");
                if (type.equals("histogram")) {
                    checkHistogramSample(s, family, no, line);
                }
                String key = s.name() + new TreeMap<>(s.labels());
                if (!series.add(key)) {
                    throw bad(no, line, "the series " + key + " a second time");
                }
                samples.computeIfAbsent(family, f -> new ArrayList<>()).add(s);
            }
            if (!family.equals(current)) {
                if (closed.contains(family)) {
                    throw bad(no, line, "the lines of " + family + " are not in one group");
                }
                if (current != null) {
                    closed.add(current);
                }
                current = family;
            }
        }
        Map<String, Family> out = new LinkedHashMap<>();
        Set<String> names = new java.util.LinkedHashSet<>(types.keySet());
        names.addAll(helps.keySet());
        names.addAll(samples.keySet());
        for (String name : names) {
            Family f = new Family(name, types.getOrDefault(name, "untyped"), helps.get(name), List.copyOf(samples.getOrDefault(name, List.of())));
            if (f.type().equals("histogram")) {
                checkHistogram(f);
            }
            out.put(name, f);
        }
        return new PrometheusText(out);
    }

    /** The family a sample belongs to: its own name, or a histogram's or summary's base for its suffixed samples. */
    private static String familyOf(String sample, Map<String, String> types) {
        if (types.containsKey(sample)) {
            return sample;
        }
        for (String suffix : List.of("_bucket", "_sum", "_count")) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                String type = types.get(base);
                if ("histogram".equals(type) || ("summary".equals(type) && !suffix.equals("_bucket"))) {
                    return base;
                }
            }
        }
        return sample;
    }

    private static void checkHistogramSample(Sample s, String family, int no, String line) {
        if (s.name().equals(family)) {
            throw bad(no, line, "a histogram's sample without _bucket, _sum or _count");
        }
        if (s.name().endsWith("_bucket")) {
            String le = s.labels().get("le");
            if (le == null) {
                throw bad(no, line, "a bucket without an le label");
            }
            parseValue(le, no, line);
        } else if (s.labels().containsKey("le")) {
            throw bad(no, line, "an le label outside a bucket");
        }
    }

    /** Per series of a histogram (its labels but le): buckets cumulative, a +Inf bucket, equal to _count. */
    private static void checkHistogram(Family f) {
        Map<Map<String, String>, List<Sample>> buckets = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new LinkedHashMap<>();
        for (Sample s : f.samples()) {
            Map<String, String> key = new TreeMap<>(s.labels());
            key.remove("le");
            if (s.name().endsWith("_bucket")) {
                buckets.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
            } else if (s.name().endsWith("_count")) {
                counts.put(key, s.value());
            }
        }
        for (Map.Entry<Map<String, String>, List<Sample>> e : buckets.entrySet()) {
            double last = Double.NEGATIVE_INFINITY;
            double lastValue = 0;
            for (Sample b : e.getValue()) {
                double le = parseValue(b.labels().get("le"), 0, b.toString());
                if (le <= last) {
                    throw new IllegalArgumentException(f.name() + e.getKey() + ": buckets not in increasing le order");
                }
                if (b.value() < lastValue) {
                    throw new IllegalArgumentException(f.name() + e.getKey() + ": buckets not cumulative at le=" + b.labels().get("le"));
                }
                last = le;
                lastValue = b.value();
            }
            if (last != Double.POSITIVE_INFINITY) {
                throw new IllegalArgumentException(f.name() + e.getKey() + ": no +Inf bucket");
            }
            Double count = counts.get(e.getKey());
            if (count == null || count != lastValue) {
                throw new IllegalArgumentException(f.name() + e.getKey() + ": _count " + count + " is not the +Inf bucket " + lastValue);
            }
        }
        if (!counts.keySet().equals(buckets.keySet())) {
            throw new IllegalArgumentException(f.name() + ": series with _count but no buckets: " + counts.keySet());
        }
    }

    private static Sample sample(String line, int no) {
        int p = 0;
        int n = line.length();
        while (p < n && isNameChar(line.charAt(p), p == 0)) {
            p++;
        }
        String name = line.substring(0, p);
        if (!METRIC_NAME.matcher(name).matches()) {
            throw bad(no, line, "no valid metric name");
        }
        Map<String, String> labels = new LinkedHashMap<>();
        if (p < n && line.charAt(p) == '{') {
            p++;
            while (true) {
                if (p < n && line.charAt(p) == '}') {
                    p++;
                    break;
                }
                int start = p;
                while (p < n && line.charAt(p) != '=') {
                    p++;
                }
                String label = line.substring(start, p);
                if (!LABEL_NAME.matcher(label).matches() || p >= n) {
                    throw bad(no, line, "a label without a valid name and '='");
                }
                if (labels.containsKey(label)) {
                    throw bad(no, line, "the label " + label + " twice");
                }
                p++;
                if (p >= n || line.charAt(p) != '"') {
                    throw bad(no, line, "label " + label + "'s value is not quoted");
                }
                p++;
                StringBuilder v = new StringBuilder();
                while (true) {
                    if (p >= n) {
                        throw bad(no, line, "label " + label + "'s value is not closed");
                    }
                    char c = line.charAt(p++);
                    if (c == '"') {
                        break;
                    }
                    if (c == '\\') {
                        if (p >= n) {
                            throw bad(no, line, "a lone backslash");
                        }
                        char e = line.charAt(p++);
                        switch (e) {
                            case '\\' -> v.append('\\');
                            case '"' -> v.append('"');
                            case 'n' -> v.append('\n');
                            default -> throw bad(no, line, "the escape \\" + e + " in a label value");
                        }
                    } else {
                        v.append(c);
                    }
                }
                labels.put(label, v.toString());
                if (p < n && line.charAt(p) == ',') {
                    p++;
                } else if (p >= n || line.charAt(p) != '}') {
                    throw bad(no, line, "labels not separated by ',' or closed by '}'");
                }
            }
        }
        String rest = line.substring(p);
        if (rest.isEmpty() || (rest.charAt(0) != ' ' && rest.charAt(0) != '\t')) {
            throw bad(no, line, "no blank before the value");
        }
        String[] t = rest.strip().split("[ \t]+");
        if (t.length < 1 || t.length > 2 || t[0].isEmpty()) {
            throw bad(no, line, "expected a value and at most a timestamp");
        }
        double value = parseValue(t[0], no, line);
        Long ts = null;
        if (t.length == 2) {
            if (!t[1].matches("-?\\d+")) {
                throw bad(no, line, "the timestamp '" + t[1] + "' is not an integer");
            }
            ts = Long.parseLong(t[1]);
        }
        return new Sample(name, Collections.unmodifiableMap(labels), value, ts);
    }

    private static boolean isNameChar(char c, boolean first) {
        return c == '_' || c == ':' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9');
    }

    private static double parseValue(String v, int no, String line) {
        switch (v) {
            case "NaN":
                return Double.NaN;
            case "+Inf":
                return Double.POSITIVE_INFINITY;
            case "-Inf":
                return Double.NEGATIVE_INFINITY;
            default:
                if (!FLOAT.matcher(v).matches()) {
                    throw bad(no, line, "'" + v + "' is not a number");
                }
                return Double.parseDouble(v);
        }
    }

    private static String unescapeHelp(String s, int no, String line) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c != '\\') {
                out.append(c);
                continue;
            }
            if (++i >= s.length()) {
                throw bad(no, line, "a lone backslash in HELP");
            }
            char e = s.charAt(i);
            switch (e) {
                case '\\' -> out.append('\\');
                case 'n' -> out.append('\n');
                default -> throw bad(no, line, "the escape \\" + e + " in HELP");
            }
        }
        return out.toString();
    }

    private static IllegalArgumentException bad(int no, String line, String what) {
        return new IllegalArgumentException("line " + no + ": " + what + ": " + line);
    }
}
