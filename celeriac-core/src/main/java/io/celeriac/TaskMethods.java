package io.celeriac;

import java.lang.reflect.Method;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Set;

/**
 * Where a method's {@link Task} comes from — its own annotation, or that of the interface method
 * (or superclass method) it implements — and how its parameters are named. Written once for the
 * worker's registry and the typed client, so an interface shared by both gives one name to each task.
 */
final class TaskMethods {
    private TaskMethods() {
    }

    /** A task method and the method whose {@code @Task} (and parameter annotations) name it. */
    record Declared(Method method, Method declaring, Task task) {
        String name() {
            return nameOf(declaring, task);
        }
    }

    /**
     * The {@code @Task} of {@code m}: its own, else the first found on the methods it overrides,
     * superclasses first, then interfaces.
     *
     * @return it, or null when {@code m} is not a task
     * @throws ConfigException {@code m} and the method it implements give the task two names
     */
    static Declared find(Method m) {
        Task own = m.getAnnotation(Task.class);
        Method inherited = overridden(m);
        Task up = inherited == null ? null : inherited.getAnnotation(Task.class);
        if (own != null && up != null && !nameOf(m, own).equals(nameOf(inherited, up))) {
            throw new ConfigException(where(m) + " is task '" + nameOf(m, own) + "' but " + where(inherited)
                    + ", which it implements, is task '" + nameOf(inherited, up) + "'; give both one name");
        }
        if (own != null) {
            return new Declared(m, m, own);
        }
        return up == null ? null : new Declared(m, inherited, up);
    }

    /** The nearest method with a {@code @Task} that {@code m} overrides, or null. */
    private static Method overridden(Method m) {
        Deque<Class<?>> todo = new ArrayDeque<>();
        Set<Class<?>> seen = new HashSet<>();
        addSupers(m.getDeclaringClass(), todo);
        while (!todo.isEmpty()) {
            Class<?> c = todo.poll();
            if (!seen.add(c)) {
                continue;
            }
            try {
                Method up = c.getDeclaredMethod(m.getName(), m.getParameterTypes());
                if (up.isAnnotationPresent(Task.class)) {
                    return up;
                }
            } catch (NoSuchMethodException e) {
                // not declared there: look further up
            }
            addSupers(c, todo);
        }
        return null;
    }

    private static void addSupers(Class<?> c, Deque<Class<?>> todo) {
        if (c.getSuperclass() != null) {
            todo.add(c.getSuperclass());
        }
        for (Class<?> i : c.getInterfaces()) {
            todo.add(i);
        }
    }

    /** The task name a {@code @Task} gives: its {@code name}, else the method's name. */
    static String nameOf(Method m, Task t) {
        return t.name().isEmpty() ? m.getName() : t.name();
    }

    /**
     * The name of parameter {@code i} for keyword arguments: {@link Param} or {@link Kwarg} on the
     * implementation, else on the declaring method, else the implementation's parameter name.
     */
    static String parameterName(Declared d, int i) {
        Param p = annotation(d, i, Param.class);
        if (p != null) {
            return p.value();
        }
        Kwarg k = annotation(d, i, Kwarg.class);
        return k != null ? k.value() : d.method().getParameters()[i].getName();
    }

    /** Whether a caller may leave parameter {@code i} out: {@code @Param(optional = true)}, or a non-primitive {@code @Kwarg}. */
    static boolean optional(Declared d, int i) {
        Param p = annotation(d, i, Param.class);
        if (p != null) {
            return p.optional();
        }
        return annotation(d, i, Kwarg.class) != null && !d.method().getParameterTypes()[i].isPrimitive();
    }

    private static <A extends java.lang.annotation.Annotation> A annotation(Declared d, int i, Class<A> type) {
        A own = d.method().getParameters()[i].getAnnotation(type);
        return own != null ? own : d.declaring().getParameters()[i].getAnnotation(type);
    }

    /** A client's async variant ({@code TypedResult<R>} or {@code AsyncResult}): sends, so a worker does not register it. */
    static boolean returnsHandle(Method m) {
        return m.getReturnType() == TypedResult.class || m.getReturnType() == AsyncResult.class;
    }

    static String where(Method m) {
        return m.getDeclaringClass().getSimpleName() + "." + m.getName();
    }
}
