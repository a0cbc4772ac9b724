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

/**
 * The tasks a process knows, by name. Names are unique: registering one twice is an error. A worker
 * runs the tasks of its registry; a client uses it only for the options (queue, priority) of the
 * tasks it sends. Thread-safe.
 *
 * <pre>{@code
 * TaskRegistry tasks = new TaskRegistry()
 *         .register(new Maths())                                   // its @Task methods
 *         .register(Tasks.task("double", int.class, x -> 2 * x).params("x"));
 * tasks.require("add");                                            // TaskNotRegisteredException if absent
 * }</pre>
 */
public final class TaskRegistry {
    private final Map<String, TaskDefinition> tasks = new ConcurrentHashMap<>();
    /** The tasks as registered, before {@link #annotate}. */
    private final Map<String, TaskDefinition> declared = new ConcurrentHashMap<>();
    private volatile io.celeriac.config.TaskAnnotations annotations = io.celeriac.config.TaskAnnotations.NONE;

    /**
     * Registers one task.
     *
     * @param definition the task
     * @return this registry
     * @throws IllegalArgumentException a task of that name is registered already
     */
    public synchronized TaskRegistry register(TaskDefinition definition) {
        TaskDefinition old = declared.putIfAbsent(definition.name(), definition);
        if (old != null) {
            throw new IllegalArgumentException("task '" + definition.name() + "' is registered twice");
        }
        try {
            tasks.put(definition.name(), annotated(definition));
        } catch (RuntimeException e) {
            declared.remove(definition.name());
            throw e;
        }
        return this;
    }

    /**
     * Applies {@code task_annotations} to every task, registered now or later: their options
     * override the tasks' own (see {@link io.celeriac.config.TaskAnnotations}). Called by
     * {@link Celeriac} with its configuration; a second call replaces the first's.
     */
    public synchronized TaskRegistry annotate(io.celeriac.config.TaskAnnotations annotations) {
        this.annotations = annotations;
        declared.values().forEach(d -> tasks.put(d.name(), annotated(d)));
        return this;
    }

    private TaskDefinition annotated(TaskDefinition d) {
        TaskOptions o = annotations.apply(d.name(), d.options());
        return o == d.options() ? d : d.withOptions(o);
    }

    /**
     * Registers the task {@code builder} builds (from {@link Tasks}).
     *
     * @param builder the task, built here
     * @return this registry
     * @throws IllegalArgumentException a task of that name is registered already
     */
    public TaskRegistry register(TaskDefinition.Builder builder) {
        return register(builder.build());
    }

    /**
     * Registers every {@link Task}-annotated method of {@code target}: its instance methods, or,
     * when {@code target} is a {@link Class}, its static methods. Only public methods are found. A
     * method also counts when the interface method (or superclass method) it implements carries the
     * {@code @Task}: an interface shared with a typed client ({@link Celeriac#client(Class)}) names
     * the tasks its implementation runs, with the interface's {@link Param}/{@link Kwarg} names. Its
     * methods that return a result handle ({@link TypedResult}, {@link AsyncResult}) are the client's
     * async variants and are not registered.
     *
     * @param target an object, or a class for static task methods
     * @return this registry
     * @throws IllegalArgumentException it has no such methods, or a task name is registered already
     */
    public TaskRegistry register(Object target) {
        boolean statics = target instanceof Class<?>;
        Class<?> type = statics ? (Class<?>) target : target.getClass();
        List<TaskMethods.Declared> declared = taskMethods(type, statics);
        for (TaskMethods.Declared t : declared) {
            register(fromMethod(statics ? null : target, t));
        }
        if (declared.isEmpty()) {
            throw new IllegalArgumentException(type.getName() + " has no public " + (statics ? "static " : "")
                    + "methods annotated with @Task");
        }
        return this;
    }

    /**
     * Whether {@link #register(Object)} finds tasks on an object of this type: its public instance
     * methods with {@code @Task}, on themselves or on the interface methods they implement. What
     * registers the {@code @Task} beans of a Spring application asks it of every bean.
     *
     * @param type a class
     * @return true when an instance of it has task methods
     */
    public static boolean declaresTasks(Class<?> type) {
        return !taskMethods(type, false).isEmpty();
    }

    /** The task methods of {@code type}: static or instance ones, not a typed client's async variants. */
    private static List<TaskMethods.Declared> taskMethods(Class<?> type, boolean statics) {
        List<TaskMethods.Declared> out = new ArrayList<>();
        for (Method m : type.getMethods()) {
            if (m.isBridge() || m.isSynthetic() || Modifier.isStatic(m.getModifiers()) != statics
                    || Modifier.isAbstract(m.getModifiers())) {
                continue;
            }
            TaskMethods.Declared t = TaskMethods.find(m);
            // a typed client's async variant (returns a result handle) sends the task: it is not one
            if (t != null && !TaskMethods.returnsHandle(m)) {
                out.add(t);
            }
        }
        return out;
    }

    private static TaskDefinition fromMethod(Object target, TaskMethods.Declared declared) {
        Method m = declared.method();
        Task t = declared.task();
        String name = declared.name();
        Parameter[] ps = m.getParameters();
        boolean bound = ps.length > 0 && ps[0].getType() == TaskContext.class;
        List<TaskDefinition.Parameter> params = new ArrayList<>();
        for (int i = bound ? 1 : 0; i < ps.length; i++) {
            params.add(new TaskDefinition.Parameter(TaskMethods.parameterName(declared, i), ps[i].getParameterizedType(),
                    TaskMethods.optional(declared, i)));
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
        TaskOptions options;
        try {
            options = TaskOptions.of(t);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("task '" + name + "' (" + m.getDeclaringClass().getSimpleName() + "." + m.getName()
                    + "): " + e.getMessage());
        }
        return new TaskDefinition(name, params, invoker, options);
    }

    /**
     * The task of that name.
     *
     * @param name the task's name
     * @return it, or empty when not registered
     */
    public Optional<TaskDefinition> find(String name) {
        return Optional.ofNullable(tasks.get(name));
    }

    /**
     * The task of that name, which must be registered.
     *
     * @param name the task's name
     * @return the task
     * @throws TaskNotRegisteredException it is not registered (the message suggests the nearest name)
     */
    public TaskDefinition require(String name) {
        TaskDefinition d = tasks.get(name);
        if (d == null) {
            String nearest = Suggest.nearest(name, tasks.keySet());
            throw new TaskNotRegisteredException(name, nearest != null ? "did you mean '" + nearest + "'?"
                    : "registered tasks: " + String.join(", ", names()));
        }
        return d;
    }

    /** @return the registered names, sorted */
    public List<String> names() {
        return List.copyOf(new TreeMap<>(tasks).keySet());
    }

    /** @return true when no task is registered */
    public boolean isEmpty() {
        return tasks.isEmpty();
    }
}
