package io.celeriac;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A registered task: its name, its parameters (names and Java types), how to call it, and its
 * options. Made from an annotated method ({@link TaskRegistry#register(Object)}) or a lambda
 * ({@link Tasks}).
 */
public final class TaskDefinition {

    /** Calls the task with arguments already bound to the parameter types. */
    @FunctionalInterface
    public interface Invoker {
        Object invoke(TaskContext context, Object[] args) throws Exception;
    }

    /**
     * One parameter: its name (for kwargs), its Java type (generic types are honoured), and whether
     * a caller may leave it out (it is then null).
     */
    public record Parameter(String name, Type type, boolean optional) {
        public Parameter(String name, Type type) {
            this(name, type, false);
        }

        public Parameter {
            if (optional && type instanceof Class<?> c && c.isPrimitive()) {
                throw new IllegalArgumentException("parameter '" + name + "' is optional, so its type cannot be primitive " + c);
            }
        }
    }

    private final String name;
    private final List<Parameter> parameters; // null: takes any args (raw tasks read them from the context)
    private final List<JavaType> javaTypes;
    private final Invoker invoker;
    private final TaskOptions options;

    TaskDefinition(String name, List<Parameter> parameters, Invoker invoker, TaskOptions options) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a task needs a name");
        }
        this.name = name;
        this.parameters = parameters == null ? null : List.copyOf(parameters);
        this.javaTypes = parameters == null ? null
                : parameters.stream().map(p -> Json.MAPPER.getTypeFactory().constructType(p.type())).toList();
        this.invoker = Objects.requireNonNull(invoker);
        this.options = Objects.requireNonNull(options);
    }

    public String name() {
        return name;
    }

    /** The declared parameters, or null when the task takes any arguments. */
    public List<Parameter> parameters() {
        return parameters;
    }

    public TaskOptions options() {
        return options;
    }

    /** The same task with other options (its {@code task_annotations} applied). */
    TaskDefinition withOptions(TaskOptions other) {
        return new TaskDefinition(name, parameters, invoker, other);
    }

    /** Calls the task body with bound arguments; exceptions from the task pass through unchanged. */
    public Object invoke(TaskContext context, Object[] boundArgs) throws Exception {
        return invoker.invoke(context, boundArgs);
    }

    /**
     * Binds JSON args and kwargs to the parameters, as Python binds a call: positional first, then
     * by name. Any mismatch is an {@link ArgumentBindingException} naming the task and parameter.
     */
    public Object[] bind(ArrayNode args, ObjectNode kwargs) {
        if (parameters == null) {
            return new Object[0];
        }
        int n = parameters.size();
        if (args.size() > n) {
            throw new ArgumentBindingException("task '" + name + "' takes " + n + " positional argument"
                    + (n == 1 ? "" : "s") + " but " + args.size() + (args.size() == 1 ? " was" : " were") + " given");
        }
        JsonNode[] values = new JsonNode[n];
        for (int i = 0; i < args.size(); i++) {
            values[i] = args.get(i);
        }
        for (Map.Entry<String, JsonNode> e : kwargs.properties()) {
            int idx = indexOf(e.getKey());
            if (idx < 0) {
                throw new ArgumentBindingException("task '" + name + "' got an unexpected keyword argument '" + e.getKey()
                        + "' (parameters: " + String.join(", ", parameterNames()) + ")");
            }
            if (values[idx] != null) {
                throw new ArgumentBindingException("task '" + name + "' got multiple values for argument '" + e.getKey() + "'");
            }
            values[idx] = e.getValue();
        }
        Object[] bound = new Object[n];
        for (int i = 0; i < n; i++) {
            Parameter p = parameters.get(i);
            if (values[i] == null && p.optional()) {
                bound[i] = null;
                continue;
            }
            if (values[i] == null) {
                throw new ArgumentBindingException("task '" + name + "' is missing argument '" + p.name() + "'");
            }
            bound[i] = convert(p, javaTypes.get(i), values[i]);
        }
        return bound;
    }

    private Object convert(Parameter p, JavaType type, JsonNode value) {
        if (value.isNull() && !type.isPrimitive()) {
            return null;
        }
        try {
            return Json.MAPPER.readerFor(type).readValue(value);
        } catch (IOException | IllegalArgumentException e) {
            throw new ArgumentBindingException("task '" + name + "': argument '" + p.name() + "' must be "
                    + describe(type) + ", got " + kind(value) + " " + abbreviate(value.toString()));
        }
    }

    private int indexOf(String paramName) {
        for (int i = 0; i < parameters.size(); i++) {
            if (parameters.get(i).name().equals(paramName)) {
                return i;
            }
        }
        return -1;
    }

    private List<String> parameterNames() {
        List<String> names = new ArrayList<>();
        parameters.forEach(p -> names.add(p.name()));
        return names;
    }

    /** {@code int}, {@code Source}, {@code List<String>}: the type as a Java programmer writes it. */
    static String describe(JavaType t) {
        if (t.isPrimitive()) {
            return t.getRawClass().getName();
        }
        StringBuilder sb = new StringBuilder(t.getRawClass().getSimpleName());
        if (t.containedTypeCount() > 0) {
            sb.append('<');
            for (int i = 0; i < t.containedTypeCount(); i++) {
                sb.append(i > 0 ? ", " : "").append(describe(t.containedType(i)));
            }
            sb.append('>');
        }
        return sb.toString();
    }

    private static String kind(JsonNode v) {
        return switch (v.getNodeType()) {
            case STRING -> "string";
            case NUMBER -> v.isIntegralNumber() ? "integer" : "number";
            case BOOLEAN -> "boolean";
            case ARRAY -> "array";
            case OBJECT -> "object";
            case NULL -> "null";
            default -> v.getNodeType().name().toLowerCase(java.util.Locale.ROOT);
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 60 ? s : s.substring(0, 57) + "...";
    }

    @Override
    public String toString() {
        return name + (parameters == null ? "(*args, **kwargs)" : "(" + String.join(", ", parameterNames()) + ")");
    }

    /** Builds a definition; options left unset fall back to the app-wide settings. */
    public static final class Builder {
        private final String name;
        private List<Parameter> parameters;
        private final Invoker invoker;
        private final TaskOptions.Builder options = TaskOptions.builder();

        Builder(String name, List<Parameter> parameters, Invoker invoker) {
            this.name = name;
            this.parameters = parameters;
            this.invoker = invoker;
        }

        /** Names the parameters, for keyword arguments (lambdas have no parameter names). */
        public Builder params(String... names) {
            if (parameters == null || names.length != parameters.size()) {
                throw new IllegalArgumentException("task '" + name + "' has " + (parameters == null ? "no fixed" : parameters.size())
                        + " parameters, but " + names.length + " names were given");
            }
            List<Parameter> named = new ArrayList<>();
            for (int i = 0; i < names.length; i++) {
                named.add(new Parameter(names[i], parameters.get(i).type(), parameters.get(i).optional()));
            }
            parameters = named;
            return this;
        }

        /** Sets options through {@link TaskOptions.Builder}: {@code .options(o -> o.maxRetries(5).timeLimit(...))}. */
        public Builder options(java.util.function.Consumer<TaskOptions.Builder> settings) {
            settings.accept(options);
            return this;
        }

        public Builder queue(String queue) {
            options.queue(queue);
            return this;
        }

        public Builder priority(int priority) {
            options.priority(priority);
            return this;
        }

        public Builder maxRetries(int maxRetries) {
            options.maxRetries(maxRetries);
            return this;
        }

        public Builder defaultRetryDelay(Duration delay) {
            options.defaultRetryDelay(delay);
            return this;
        }

        public Builder ignoreResult(boolean ignoreResult) {
            options.ignoreResult(ignoreResult);
            return this;
        }

        public Builder acksLate(boolean acksLate) {
            options.acksLate(acksLate);
            return this;
        }

        public Builder trackStarted(boolean trackStarted) {
            options.trackStarted(trackStarted);
            return this;
        }

        @SafeVarargs
        public final Builder autoretryFor(Class<? extends Throwable>... types) {
            options.autoretryFor(List.of(types));
            return this;
        }

        public Builder retryBackoff(Duration base) {
            options.retryBackoff(base);
            return this;
        }

        public Builder softTimeLimit(Duration soft) {
            options.softTimeLimit(soft);
            return this;
        }

        public Builder timeLimit(Duration hard) {
            options.timeLimit(hard);
            return this;
        }

        /** Celery's rate limit ("10/s", "100/m", "1000/h"); a malformed one is a ConfigException naming the task. */
        public Builder rateLimit(String rate) {
            try {
                options.rateLimit(rate);
            } catch (IllegalArgumentException e) {
                throw new ConfigException("task '" + name + "': " + e.getMessage());
            }
            return this;
        }

        public TaskDefinition build() {
            return new TaskDefinition(name, parameters, invoker, options.build());
        }
    }
}
