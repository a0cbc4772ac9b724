package io.celeriac;

import io.celeriac.config.Durations;
import io.celeriac.config.Settings;
import java.lang.reflect.GenericArrayType;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Proxy;
import java.lang.reflect.Type;
import java.lang.reflect.TypeVariable;
import java.lang.reflect.WildcardType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The typed client behind {@link Celeriac#client(Class)}: every method of the interface is checked
 * once, when the proxy is made, into a {@link Call} (task name, what the method returns, which
 * parameters are keywords), so a call only sends.
 */
final class ClientProxy implements InvocationHandler {
    /** What a method does with the task it sends. */
    private enum Kind {
        /** Returns the value: sends, waits up to the time-out, converts. */
        WAIT,
        /** Returns {@code TypedResult<R>}. */
        TYPED,
        /** Returns {@code AsyncResult}. */
        UNTYPED,
        /** {@code void}: fire-and-forget. */
        FIRE
    }

    /** One checked method: its task, its kind, its value's type, each parameter's keyword (null: positional). */
    private record Call(String task, Kind kind, Type type, String[] keywords, int optionsAt, Task declared) {
        /**
         * The interface's {@code @Task(queue, priority)} for a task this client does not register
         * itself (a registered one's options, annotations included, are the dispatcher's to apply).
         */
        SendOptions withOwn(SendOptions o, TaskRegistry registry) {
            if (registry.find(task).isPresent()) {
                return o;
            }
            if (o.queue() == null && !declared.queue().isEmpty()) {
                o = o.withQueue(declared.queue());
            }
            return o.priority() == null && declared.priority() >= 0 ? o.withPriority(declared.priority()) : o;
        }
    }

    /** The async(...) of this thread, when one is capturing its call. */
    private static final ThreadLocal<List<TypedResult<?>>> CAPTURE = new ThreadLocal<>();

    private final Celeriac app;
    private final Class<?> type;
    private final Map<Method, Call> calls;
    private final Duration timeout;

    private ClientProxy(Celeriac app, Class<?> type, Map<Method, Call> calls, Duration timeout) {
        this.app = app;
        this.type = type;
        this.calls = calls;
        this.timeout = timeout;
    }

    static <T> T create(Celeriac app, Class<T> type) {
        if (!type.isInterface() || type.isAnnotation()) {
            throw new IllegalArgumentException(type.getName() + " is not an interface: a task client is an interface whose"
                    + " methods carry @Task");
        }
        List<String> problems = new ArrayList<>();
        Map<Method, Call> calls = new HashMap<>();
        Method[] methods = type.getMethods();
        // in a stable order, so the one line naming every problem reads the same on every run
        java.util.Arrays.sort(methods, java.util.Comparator.comparing(Method::getName).thenComparing(Method::toGenericString));
        for (Method m : methods) {
            if (Modifier.isStatic(m.getModifiers())) {
                continue;
            }
            TaskMethods.Declared d;
            try {
                d = TaskMethods.find(m);
            } catch (ConfigException e) {
                problems.add(e.getMessage());
                continue;
            }
            if (d == null) {
                if (!m.isDefault()) {
                    problems.add(TaskMethods.where(m) + " has no @Task naming the task it sends");
                }
                continue; // a default method without @Task runs its own body
            }
            Call c = check(m, d, problems);
            if (c != null) {
                calls.put(m, c);
            }
        }
        Duration timeout = timeout(app, type, problems);
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(type.getSimpleName() + " cannot be a task client: " + String.join("; ", problems));
        }
        Object proxy = Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type},
                new ClientProxy(app, type, Map.copyOf(calls), timeout));
        return type.cast(proxy);
    }

    private static Duration timeout(Celeriac app, Class<?> type, List<String> problems) {
        TaskClient options = type.getAnnotation(TaskClient.class);
        if (options == null || options.resultTimeout() == -1) {
            return app.config().get(Settings.RESULT_TIMEOUT);
        }
        if (!(options.resultTimeout() >= 0) || Double.isInfinite(options.resultTimeout())) {
            problems.add("@TaskClient(resultTimeout = " + options.resultTimeout() + ") must be seconds >= 0, or -1 for result_timeout");
            return Duration.ZERO;
        }
        return Durations.ofSeconds(options.resultTimeout());
    }

    private static Call check(Method m, TaskMethods.Declared d, List<String> problems) {
        String where = TaskMethods.where(m) + " (task '" + d.name() + "')";
        int before = problems.size();
        Class<?>[] ps = m.getParameterTypes();
        String[] keywords = new String[ps.length];
        Set<String> seen = new HashSet<>();
        int optionsAt = -1;
        for (int i = 0; i < ps.length; i++) {
            if (ps[i] == TaskContext.class) {
                problems.add(where + " takes a TaskContext, which a client cannot pass; the implementation reaches it with"
                        + " TaskContext.current()");
            } else if (ps[i] == SendOptions.class) {
                if (optionsAt >= 0) {
                    problems.add(where + " takes two SendOptions parameters; one holds a call's options");
                }
                optionsAt = i;
            } else if (m.getParameters()[i].isAnnotationPresent(Kwarg.class)) {
                keywords[i] = m.getParameters()[i].getAnnotation(Kwarg.class).value();
                if (keywords[i].isBlank() || !seen.add(keywords[i])) {
                    problems.add(where + " has " + (keywords[i].isBlank() ? "a blank @Kwarg" : "two @Kwarg(\"" + keywords[i] + "\")"));
                }
            }
        }
        Type value = m.getGenericReturnType();
        Class<?> raw = m.getReturnType();
        if (raw == void.class || raw == AsyncResult.class) {
            value = null;
        } else if (raw == TypedResult.class) {
            value = value instanceof ParameterizedType p ? p.getActualTypeArguments()[0] : null;
            if (value == null) {
                problems.add(where + " returns a raw TypedResult; say the value's type: TypedResult<Report>");
            }
        } else if (java.util.concurrent.Future.class.isAssignableFrom(raw) || java.util.concurrent.CompletionStage.class.isAssignableFrom(raw)
                || raw == GroupResult.class || raw == Signature.class || raw == java.util.Optional.class) {
            problems.add(where + " returns " + raw.getSimpleName() + "; a task client method returns the task's value,"
                    + " TypedResult<value>, AsyncResult or void");
            value = null;
        }
        if (value != null && !concrete(value)) {
            problems.add(where + " returns " + m.getGenericReturnType().getTypeName() + ", which has a type variable or"
                    + " wildcard; a result is converted to a concrete type");
        }
        return problems.size() > before ? null : new Call(d.name(), kindOf(raw), value == null ? Object.class : value,
                keywords, optionsAt, d.task());
    }

    private static Kind kindOf(Class<?> raw) {
        return raw == void.class ? Kind.FIRE : raw == AsyncResult.class ? Kind.UNTYPED
                : raw == TypedResult.class ? Kind.TYPED : Kind.WAIT;
    }

    /** No type variables or wildcards anywhere in {@code t}. */
    private static boolean concrete(Type t) {
        if (t instanceof TypeVariable<?> || t instanceof WildcardType) {
            return false;
        }
        if (t instanceof GenericArrayType a) {
            return concrete(a.getGenericComponentType());
        }
        if (t instanceof ParameterizedType p) {
            for (Type arg : p.getActualTypeArguments()) {
                if (!concrete(arg)) {
                    return false;
                }
            }
        }
        return true;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        Call call = calls.get(method);
        if (call == null) {
            if (method.getDeclaringClass() == Object.class) {
                return objectMethod(proxy, method, args);
            }
            return InvocationHandler.invokeDefault(proxy, method, args);
        }
        Object[] a = args == null ? new Object[0] : args;
        List<Object> positional = new ArrayList<>();
        Map<String, Object> kwargs = new LinkedHashMap<>();
        SendOptions options = SendOptions.NONE;
        for (int i = 0; i < a.length; i++) {
            if (i == call.optionsAt()) {
                options = a[i] == null ? SendOptions.NONE : (SendOptions) a[i];
            } else if (call.keywords()[i] != null) {
                if (a[i] != null) { // left out: the task's default applies
                    kwargs.put(call.keywords()[i], a[i]);
                }
            } else {
                positional.add(a[i]);
            }
        }
        options = call.withOwn(options, app.registry());
        List<TypedResult<?>> capture = CAPTURE.get();
        if (capture != null) {
            if (!capture.isEmpty()) {
                throw new IllegalArgumentException("async(...) sends one task: its function called " + TaskMethods.where(method)
                        + " after another task method; nothing more was sent");
            }
            if (call.kind() != Kind.WAIT) {
                throw new IllegalArgumentException("async(...) takes a call of a method that returns the task's value; "
                        + TaskMethods.where(method) + " returns " + method.getReturnType().getSimpleName() + " itself");
            }
            capture.add(new TypedResult<>(app.send(call.task(), positional, kwargs, options), call.task(), call.type(), timeout));
            return zero(method.getReturnType());
        }
        AsyncResult sent = app.send(call.task(), positional, kwargs, options);
        return switch (call.kind()) {
            case FIRE -> null;
            case UNTYPED -> sent;
            case TYPED -> new TypedResult<>(sent, call.task(), call.type(), timeout);
            case WAIT -> new TypedResult<>(sent, call.task(), call.type(), timeout).get(timeout);
        };
    }

    /** What a captured call returns to the function that made it (its value is read from the TypedResult). */
    private static Object zero(Class<?> type) {
        // the default value of the primitive type: what an int[1] (and so on) holds
        return type.isPrimitive() ? java.lang.reflect.Array.get(java.lang.reflect.Array.newInstance(type, 1), 0) : null;
    }

    private Object objectMethod(Object proxy, Method method, Object[] args) {
        return switch (method.getName()) {
            case "equals" -> proxy == args[0];
            case "hashCode" -> System.identityHashCode(proxy);
            default -> "task client " + type.getSimpleName() + " on " + app.broker().describe();
        };
    }

    /** {@link Celeriac#async}: the one call {@code fn} makes on {@code client}, sent, as a typed handle. */
    @SuppressWarnings("unchecked")
    static <T, R> TypedResult<R> async(T client, Function<T, R> fn) {
        if (client == null || !Proxy.isProxyClass(client.getClass()) || !(Proxy.getInvocationHandler(client) instanceof ClientProxy)) {
            throw new IllegalArgumentException("async(...) takes a client made by Celeriac.client(Interface.class), not "
                    + (client == null ? "null" : client.getClass().getName()));
        }
        List<TypedResult<?>> outer = CAPTURE.get();
        List<TypedResult<?>> captured = new ArrayList<>();
        CAPTURE.set(captured);
        try {
            fn.apply(client);
        } finally {
            CAPTURE.set(outer);
        }
        if (captured.isEmpty()) {
            throw new IllegalArgumentException("async(...) sends the task method its function calls on the client, and it"
                    + " called none: write it as f -> f.scrape(source)");
        }
        return (TypedResult<R>) captured.get(0);
    }
}
