package io.celeriac.config;

import io.celeriac.ConfigException;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Resolved, immutable setting values. Unset settings read as their default.
 * Build one with {@link ConfigLoader} (file, environment, flags) or {@link #builder()} in code.
 */
public final class Config {
    private final Map<Setting<?>, Object> values;
    private final Map<Setting<?>, String> sources;

    private Config(Map<Setting<?>, Object> values, Map<Setting<?>, String> sources) {
        this.values = Collections.unmodifiableMap(new HashMap<>(values));
        this.sources = Collections.unmodifiableMap(new HashMap<>(sources));
    }

    public static Config defaults() {
        return new Config(Map.of(), Map.of());
    }

    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting) {
        Object v = values.get(setting);
        return v != null ? (T) v : setting.defaultValue();
    }

    /** Where the value came from: "default", a file path, an environment variable or "flag". */
    public String source(Setting<?> setting) {
        return sources.getOrDefault(setting, "default");
    }

    /**
     * Every setting with its effective value as it may be shown to people, in table order (for
     * {@code celeriac settings}, {@code inspect conf}, {@code report}): secrets masked by
     * {@link Secrets#redactValue} (passwords in URLs, secret parameters, webhook paths, secret-named
     * settings and mapping keys).
     */
    public Map<String, String> describe() {
        Map<String, String> out = new LinkedHashMap<>();
        for (Setting<?> s : Settings.all()) {
            out.put(s.name(), format(s));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private <T> String format(Setting<T> s) {
        if (!values.containsKey(s)) {
            return Secrets.redact(s.name(), s.defaultDoc());
        }
        T v = get(s);
        if (v instanceof Map<?, ?> m) {
            return s.type().format((T) Secrets.redactValue(s.name(), m));
        }
        return Secrets.redact(s.name(), s.type().format(v));
    }

    /**
     * The settings given explicitly (not defaults) as plain JSON-able values (durations in
     * seconds), which {@link Builder#setRaw} reads back: how a worker hands its configuration to
     * its child processes.
     */
    public Map<String, Object> explicitValues() {
        Map<String, Object> out = new LinkedHashMap<>();
        for (Setting<?> s : Settings.all()) {
            Object v = values.get(s);
            if (v != null) {
                out.put(s.name(), v instanceof java.time.Duration d ? Durations.toSeconds(d) : v);
            }
        }
        return out;
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.values.putAll(values);
        b.sources.putAll(sources);
        return b;
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private final Map<Setting<?>, Object> values = new HashMap<>();
        private final Map<Setting<?>, String> sources = new HashMap<>();

        private Builder() {
        }

        public <T> Builder set(Setting<T> setting, T value) {
            values.put(setting, Objects.requireNonNull(value, setting.name()));
            sources.put(setting, "code");
            return this;
        }

        /**
         * Sets a setting by name from a raw value (YAML object or string); rejects unknown names,
         * suggesting the nearest valid one.
         */
        public Builder setRaw(String name, Object raw, String source) {
            Setting<?> setting = Settings.byName(name);
            if (setting == null) {
                throw unknownSetting(name, source);
            }
            if (raw == null && !setting.type().acceptsNone()) {
                throw new ConfigException("setting '" + name + "' (" + source + ") has no value; expected "
                        + setting.type().description());
            }
            try {
                values.put(setting, setting.parse(raw));
            } catch (ConfigException e) {
                throw new ConfigException(e.getMessage() + " (from " + source + ")");
            }
            sources.put(setting, source);
            return this;
        }

        public Config build() {
            return new Config(values, sources);
        }
    }

    static ConfigException unknownSetting(String name, String source) {
        String nearest = Suggest.nearest(name, Settings.all().stream().map(Setting::name).toList());
        return new ConfigException("unknown setting '" + name + "' (from " + source + ")"
                + (nearest != null ? "; did you mean '" + nearest + "'?" : "; see docs/SETTINGS.md for the list"));
    }
}
