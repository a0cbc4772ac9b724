package io.celeriac.config;

import io.celeriac.ConfigException;
import io.celeriac.TaskOptions;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Celery's {@code task_annotations}: per-task options from the configuration, by task name, and
 * {@code '*'} for every task. They override the task's own options ({@code @Task(...)}, the
 * {@code Tasks} builder), as Celery's annotations set attributes over the class's; {@code '*'} is
 * applied after a task's own entry, as Celery does, so it wins where both set a key.
 */
public final class TaskAnnotations {
    public static final TaskAnnotations NONE = new TaskAnnotations(Map.of());

    /** The keys an annotation takes, each read as the setting of the same meaning reads it. */
    private static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private record Key(ValueType<?> type, BiConsumer<TaskOptions.Builder, Object> set) {
    }

    private static <T> void key(String name, ValueType<T> type, BiConsumer<TaskOptions.Builder, T> set) {
        @SuppressWarnings("unchecked")
        BiConsumer<TaskOptions.Builder, Object> any = (b, v) -> set.accept(b, (T) v);
        KEYS.put(name, new Key(type, any));
    }

    static {
        key("rate_limit", rateType(), TaskOptions.Builder::rateLimit);
        key("time_limit", ValueType.limit(), TaskOptions.Builder::timeLimit);
        key("soft_time_limit", ValueType.limit(), TaskOptions.Builder::softTimeLimit);
        key("max_retries", ValueType.integer(0, Integer.MAX_VALUE), TaskOptions.Builder::maxRetries);
        key("default_retry_delay", ValueType.duration(Duration.ZERO), TaskOptions.Builder::defaultRetryDelay);
        key("retry_backoff", ValueType.backoff(), TaskOptions.Builder::retryBackoff);
        key("retry_backoff_max", ValueType.duration(Duration.ZERO), TaskOptions.Builder::retryBackoffMax);
        key("retry_jitter", ValueType.bool(), TaskOptions.Builder::retryJitter);
        key("acks_late", ValueType.bool(), TaskOptions.Builder::acksLate);
        key("ignore_result", ValueType.bool(), TaskOptions.Builder::ignoreResult);
        key("queue", ValueType.string(), TaskOptions.Builder::queue);
        key("priority", ValueType.integer(0, 9), TaskOptions.Builder::priority);
    }

    private final Map<String, Map<String, Object>> byTask; // parsed values

    private TaskAnnotations(Map<String, Map<String, Object>> byTask) {
        this.byTask = byTask;
    }

    /** The keys an annotation takes, for the docs and errors. */
    public static List<String> keys() {
        return List.copyOf(KEYS.keySet());
    }

    public static TaskAnnotations of(Config config) {
        return parse(Settings.TASK_ANNOTATIONS.name(), config.get(Settings.TASK_ANNOTATIONS));
    }

    /** Reads and checks every entry; a bad one is a one-line {@link ConfigException} naming the task and key. */
    public static TaskAnnotations parse(String setting, Map<String, Object> raw) {
        Map<String, Map<String, Object>> out = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            String task = e.getKey();
            if (!(e.getValue() instanceof Map<?, ?> m)) {
                throw new ConfigException("setting '" + setting + "': task '" + task + "': " + ValueType.quote(e.getValue())
                        + " is not a mapping of options (e.g. {rate_limit: 10/s})");
            }
            Map<String, Object> values = new LinkedHashMap<>();
            for (Map.Entry<?, ?> o : m.entrySet()) {
                String k = String.valueOf(o.getKey());
                Key key = KEYS.get(k);
                if (key == null) {
                    String nearest = Suggest.nearest(k, KEYS.keySet());
                    throw new ConfigException("setting '" + setting + "': task '" + task + "': unknown key '" + k + "'"
                            + (nearest != null ? "; did you mean '" + nearest + "'?" : "; expected one of " + String.join(", ", KEYS.keySet())));
                }
                String name = setting + "." + task + "." + k;
                if (o.getValue() == null && !key.type().acceptsNone()) {
                    throw new ConfigException("setting '" + name + "' has no value; expected " + key.type().description());
                }
                values.put(k, key.type().parse(name, o.getValue()));
            }
            out.put(task, values);
            apply(setting, task, TaskOptions.DEFAULTS, values); // checks the combination (soft < hard) now
        }
        return out.isEmpty() ? NONE : new TaskAnnotations(out);
    }

    /** {@code declared} with the annotations of {@code task} (its own entry, then {@code '*'}) over it. */
    public TaskOptions apply(String task, TaskOptions declared) {
        Map<String, Object> own = byTask.get(task);
        Map<String, Object> any = byTask.get("*");
        if (own == null && any == null) {
            return declared;
        }
        Map<String, Object> merged = new LinkedHashMap<>(own == null ? Map.of() : own);
        if (any != null && !task.startsWith("celery.") && !task.startsWith("celeriac.")) {
            merged.putAll(any);
        }
        return merged.isEmpty() ? declared : apply(Settings.TASK_ANNOTATIONS.name(), task, declared, merged);
    }

    private static TaskOptions apply(String setting, String task, TaskOptions declared, Map<String, Object> values) {
        TaskOptions.Builder b = declared.toBuilder();
        try {
            values.forEach((k, v) -> KEYS.get(k).set().accept(b, v));
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ConfigException("setting '" + setting + "': task '" + task + "': " + e.getMessage());
        }
    }

    public boolean isEmpty() {
        return byTask.isEmpty();
    }

    private static ValueType<String> rateType() {
        return new ValueType<>("a rate such as 10/s, 100/m, 1000/h, or a number per second") {
            @Override
            public String parse(String name, Object raw) {
                if (!(raw instanceof String) && !(raw instanceof Number)) {
                    throw invalid(name, raw);
                }
                String s = String.valueOf(raw);
                try {
                    RateLimit.intervalNanos(s);
                } catch (IllegalArgumentException e) {
                    throw invalid(name, raw);
                }
                return s;
            }
        };
    }
}
