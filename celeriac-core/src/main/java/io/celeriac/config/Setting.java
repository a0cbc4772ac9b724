package io.celeriac.config;

import java.util.Locale;
import java.util.Objects;

/**
 * One row of the settings table: a name a Celery user recognises, its type, its default, the
 * unit, and the documentation that the settings reference is checked against.
 */
public final class Setting<T> {
    private final String name;
    private final ValueType<T> type;
    private final T defaultValue;
    private final String defaultDoc;
    private final String doc;

    Setting(String name, ValueType<T> type, T defaultValue, String defaultDoc, String doc) {
        this.name = Objects.requireNonNull(name);
        this.type = Objects.requireNonNull(type);
        this.defaultValue = defaultValue;
        this.defaultDoc = defaultDoc;
        this.doc = Objects.requireNonNull(doc);
    }

    public String name() {
        return name;
    }

    public ValueType<T> type() {
        return type;
    }

    public T defaultValue() {
        return defaultValue;
    }

    /** The default as the reference shows it (some defaults depend on the machine). */
    public String defaultDoc() {
        return defaultDoc != null ? defaultDoc : type.format(defaultValue);
    }

    public String doc() {
        return doc;
    }

    /** The environment variable that sets it: {@code CELERIAC_} + the name in upper case. */
    public String envName() {
        return "CELERIAC_" + name.toUpperCase(Locale.ROOT);
    }

    public T parse(Object raw) {
        return type.parse(name, raw);
    }

    @Override
    public String toString() {
        return name;
    }
}
