package io.celeriac.spring;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Setting;
import io.celeriac.config.Settings;
import io.celeriac.config.Suggest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;
import org.springframework.core.env.StandardEnvironment;

/**
 * The {@code celeriac.*} properties of a Spring application, read into Celeriac's {@link Config}:
 * each property is one row of the settings table, its name in Spring's form ({@code broker_url} is
 * {@code celeriac.broker-url}; {@code celeriac.broker_url} and {@code celeriac.brokerUrl} are read
 * too). Mappings and lists take nested keys ({@code celeriac.beat-schedule.scrape.task=…},
 * {@code celeriac.worker-queues[0]=…}) or one JSON value. The {@code CELERIAC_*} environment
 * variables of the command line ({@code CELERIAC_BROKER_URL}) are read as well, below the
 * application's own properties. Two properties are the starter's own: {@code celeriac.worker.enabled}
 * and {@code celeriac.beat.enabled}.
 *
 * <p>An unknown {@code celeriac.*} property stops the application with one line naming the nearest
 * valid one, as the command line does.
 */
public final class CeleriacProperties {
    /** Runs the embedded worker. */
    public static final String WORKER_ENABLED = "celeriac.worker.enabled";
    /** Runs beat inside the application. */
    public static final String BEAT_ENABLED = "celeriac.beat.enabled";
    private static final String PREFIX = "celeriac.";
    private static final Pattern INDEX = Pattern.compile("\\[(\\d+)]");

    private final Config config;
    private final boolean workerEnabled;
    private final boolean beatEnabled;

    private CeleriacProperties(Config config, boolean workerEnabled, boolean beatEnabled) {
        this.config = config;
        this.workerEnabled = workerEnabled;
        this.beatEnabled = beatEnabled;
    }

    /**
     * Reads the {@code celeriac.*} properties of {@code env}.
     *
     * @param env the application's environment
     * @return the settings and the starter's switches
     * @throws ConfigException an unknown property, or a value its setting rejects
     */
    public static CeleriacProperties from(ConfigurableEnvironment env) {
        // setting name -> (property name -> value), the property sources in precedence order: the first wins
        Map<String, Map<String, String>> bySetting = new LinkedHashMap<>();
        Map<String, String> sourceOf = new LinkedHashMap<>();
        for (PropertySource<?> source : env.getPropertySources()) {
            if (!(source instanceof EnumerablePropertySource<?> e)) {
                continue;
            }
            boolean environment = StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME.equals(source.getName());
            for (String property : e.getPropertyNames()) {
                if (environment) {
                    environmentVariable(property, e, bySetting, sourceOf);
                } else if (property.regionMatches(true, 0, PREFIX, 0, PREFIX.length())) {
                    property(property, source, env, bySetting, sourceOf);
                }
            }
        }
        Config.Builder b = Config.builder();
        for (Map.Entry<String, Map<String, String>> e : bySetting.entrySet()) {
            b.setRaw(e.getKey(), value(e.getKey(), e.getValue()), sourceOf.get(e.getKey()));
        }
        return new CeleriacProperties(b.build(), env.getProperty(WORKER_ENABLED, Boolean.class, false),
                env.getProperty(BEAT_ENABLED, Boolean.class, false));
    }

    private static void property(String property, PropertySource<?> source, ConfigurableEnvironment env,
                                 Map<String, Map<String, String>> bySetting, Map<String, String> sourceOf) {
        String rest = property.substring(PREFIX.length());
        String head = rest.split("[.\\[]", 2)[0];
        String name = settingName(head);
        if (property.equalsIgnoreCase(WORKER_ENABLED) || property.equalsIgnoreCase(BEAT_ENABLED)) {
            return;
        }
        if (Settings.byName(name) == null) {
            String nearest = Suggest.nearest(PREFIX + settingName(rest).replace('_', '-'), propertyNames());
            throw new ConfigException("unknown property '" + property + "' (" + source.getName() + ")"
                    + (nearest != null ? "; did you mean '" + nearest + "'?" : "; see docs/SETTINGS.md for the settings"));
        }
        Map<String, String> values = bySetting.computeIfAbsent(name, k -> new TreeMap<>());
        String path = rest.substring(head.length());
        if (!values.containsKey(path)) {
            values.put(path, env.getProperty(property)); // placeholders resolved: ${spring.datasource.url}
            sourceOf.putIfAbsent(name, "property " + PREFIX + head + " (" + source.getName() + ")");
        }
    }

    private static void environmentVariable(String variable, EnumerablePropertySource<?> source,
                                            Map<String, Map<String, String>> bySetting, Map<String, String> sourceOf) {
        if (!variable.startsWith("CELERIAC_")) {
            return;
        }
        String name = variable.substring("CELERIAC_".length()).toLowerCase(Locale.ROOT);
        // only the settings' own: the launcher's variables, and the starter's switches, are not settings
        if (Settings.byName(name) != null && !bySetting.containsKey(name)) {
            bySetting.put(name, new TreeMap<>(Map.of("", String.valueOf(source.getProperty(variable)))));
            sourceOf.put(name, "environment variable " + variable);
        }
    }

    /** One value, or the nested mapping / list its sub-keys make. */
    private static Object value(String setting, Map<String, String> paths) {
        if (paths.containsKey("")) {
            return paths.get("");
        }
        Map<String, Object> root = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : paths.entrySet()) {
            List<String> keys = keys(e.getKey());
            Map<String, Object> at = root;
            for (int i = 0; i < keys.size() - 1; i++) {
                Object next = at.computeIfAbsent(keys.get(i), k -> new LinkedHashMap<String, Object>());
                if (!(next instanceof Map)) {
                    throw new ConfigException("property '" + PREFIX + springName(setting) + e.getKey()
                            + "' is inside a value, not a mapping");
                }
                @SuppressWarnings("unchecked")
                Map<String, Object> m = (Map<String, Object>) next;
                at = m;
            }
            at.put(keys.get(keys.size() - 1), e.getValue());
        }
        return lists(root.get(""));
    }

    /** ".a.b[0]" -> ["", "a", "b", "[0]"]: the first key stands for the setting itself. */
    private static List<String> keys(String path) {
        List<String> out = new ArrayList<>();
        out.add("");
        Matcher m = INDEX.matcher(path);
        String dotted = m.replaceAll(".[$1]");
        for (String k : dotted.split("\\.")) {
            if (!k.isEmpty()) {
                out.add(k);
            }
        }
        return out;
    }

    /** Maps whose keys are all {@code [n]} become lists. */
    private static Object lists(Object v) {
        if (!(v instanceof Map<?, ?> m)) {
            return v;
        }
        boolean indexed = !m.isEmpty() && m.keySet().stream().allMatch(k -> INDEX.matcher(String.valueOf(k)).matches());
        if (indexed) {
            TreeMap<Integer, Object> sorted = new TreeMap<>();
            m.forEach((k, x) -> sorted.put(Integer.parseInt(String.valueOf(k).replaceAll("\\D", "")), lists(x)));
            return new ArrayList<>(sorted.values());
        }
        Map<String, Object> out = new LinkedHashMap<>();
        m.forEach((k, x) -> out.put(String.valueOf(k), lists(x)));
        return out;
    }

    /** "broker-url", "broker_url", "brokerUrl" -> "broker_url". */
    static String settingName(String head) {
        return head.replaceAll("([a-z0-9])([A-Z])", "$1_$2").replace('-', '_').toLowerCase(Locale.ROOT);
    }

    /** "broker_url" -> "celeriac.broker-url". */
    static String springName(String setting) {
        return PREFIX + setting.replace('_', '-');
    }

    /** Every property the starter knows, in Spring's form. */
    static List<String> propertyNames() {
        List<String> out = new ArrayList<>();
        for (Setting<?> s : Settings.all()) {
            out.add(springName(s.name()));
        }
        out.add(WORKER_ENABLED);
        out.add(BEAT_ENABLED);
        return out;
    }

    /** @return the settings, as the command line would have them */
    public Config config() {
        return config;
    }

    /** @return whether {@value #WORKER_ENABLED} is true */
    public boolean workerEnabled() {
        return workerEnabled;
    }

    /** @return whether {@value #BEAT_ENABLED} is true */
    public boolean beatEnabled() {
        return beatEnabled;
    }
}
