package io.celeriac;

import io.celeriac.config.Suggest;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Parameter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/** The tasks a process knows, by name. Names are unique: registering one twice is an error. */
public final class TaskRegistry {
    private final Map<String, TaskDefinition> tasks = new ConcurrentHashMap<>();

    public TaskRegistry register(TaskDefinition definition) {
        TaskDefinition old = tasks.putIfAbsent(definition.name(), definition);
        if (old != null) {
            throw new IllegalArgumentException("task '" + definition.name() + "' is registered twice");
        }
        return this;
    }

    public TaskRegistry register(TaskDefinition.Builder builder) {
        return register(builder.build());
    }

    /**
     * Registers every {@link Task}-annotated method of {@code target}: its instance methods, or,
     * when {@code target} is a {@link Class}, its static methods.
     */
    public TaskRegistry register(Object target) {
        boolean statics = target instanceof Class<?>;
        Class<?> type = statics ? (Class<?>) target : target.getClass();
        int found = 0;
        for (Method m : type.getMethods()) {
            Task t = m.getAnnotation(Task.class);
            if (t == null || Modifier.isStatic(m.getModifiers()) != statics) {
                continue;
            }
            register(fromMethod(statics ? null : target, m, t));
            found++;
        }
        if (found == 0) {
            throw new IllegalArgumentException(type.getName() + " has no public " + (statics ? "static " : "")
                    + "methods annotated with @Task");
        }
        return this;
    }

    private static TaskDefinition fromMethod(Object target, Method m, Task t) {
        String name = t.name().isEmpty() ? m.getName() : t.name();
        Parameter[] ps = m.getParameters();
        boolean bound = ps.length > 0 && ps[0].getType() == TaskContext.class;
        List<TaskDefinition.Parameter> params = new ArrayList<>();
        for (int i = bound ? 1 : 0; i < ps.length; i++) {
            Param named = ps[i].getAnnotation(Param.class);
            String pname = named != null ? named.value() : ps[i].getName();
            params.add(new TaskDefinition.Parameter(pname, ps[i].getParameterizedType(), named != null && named.optional()));
        }
        m.setAccessible(true);
        TaskDefinition.Invoker invoker = (ctx, args) -> {
            Object[] full = args;
            if (bound) {
                full = new Object[args.length + 1];
                full[0] = ctx;
                System.arraycopy(args, 0, full, 1, args.length);
            }
            try {
                return m.invoke(target, full);
            } catch (InvocationTargetException e) {
                Throwable cause = e.getCause();
                if (cause instanceof Exception ex) {
                    throw ex;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw e;
            }
        };
        return new TaskDefinition(name, params, invoker, TaskOptions.of(t));
    }

    public Optional<TaskDefinition> find(String name) {
        return Optional.ofNullable(tasks.get(name));
    }

    /** The task, or a {@link TaskNotRegisteredException} that suggests the nearest registered name. */
    public TaskDefinition require(String name) {
        TaskDefinition d = tasks.get(name);
        if (d == null) {
            String nearest = Suggest.nearest(name, tasks.keySet());
            throw new TaskNotRegisteredException(name, nearest != null ? "did you mean '" + nearest + "'?"
                    : "registered tasks: " + String.join(", ", names()));
        }
        return d;
    }

    /** Registered names, sorted. */
    public List<String> names() {
        return List.copyOf(new TreeMap<>(tasks).keySet());
    }

    public boolean isEmpty() {
        return tasks.isEmpty();
    }
}
