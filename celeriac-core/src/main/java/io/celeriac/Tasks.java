package io.celeriac;

import java.lang.reflect.Type;
import java.util.ArrayList;
import java.util.List;

/**
 * Tasks from lambdas. Lambdas carry no parameter types or names at run time, so the types are
 * given as classes and the names, for keyword arguments, with {@link TaskDefinition.Builder#params}:
 *
 * <pre>{@code
 * registry.register(Tasks.task("add", int.class, int.class, (x, y) -> x + y).params("x", "y"));
 * registry.register(Tasks.raw("echo", ctx -> ctx.args()));          // any arguments
 * }</pre>
 *
 * A lambda task reaches its context with {@link TaskContext#current()}.
 */
public final class Tasks {
    private Tasks() {
    }

    /** A task body with no arguments. */
    @FunctionalInterface
    public interface Fn0 {
        /**
         * Runs the task.
         *
         * @return its result (written as JSON)
         * @throws Exception the task failed (or, if it matches {@code autoretryFor}, is retried)
         */
        Object call() throws Exception;
    }

    /**
     * A task body with one argument.
     *
     * @param <A> the argument's type
     */
    @FunctionalInterface
    public interface Fn1<A> {
        /**
         * Runs the task.
         *
         * @param a the first argument
         * @return its result (written as JSON)
         * @throws Exception the task failed
         */
        Object call(A a) throws Exception;
    }

    /**
     * A task body with two arguments.
     *
     * @param <A> the first argument's type
     * @param <B> the second argument's type
     */
    @FunctionalInterface
    public interface Fn2<A, B> {
        /**
         * Runs the task.
         *
         * @param a the first argument
         * @param b the second argument
         * @return its result (written as JSON)
         * @throws Exception the task failed
         */
        Object call(A a, B b) throws Exception;
    }

    /**
     * A task body with three arguments.
     *
     * @param <A> the first argument's type
     * @param <B> the second argument's type
     * @param <C> the third argument's type
     */
    @FunctionalInterface
    public interface Fn3<A, B, C> {
        /**
         * Runs the task.
         *
         * @param a the first argument
         * @param b the second argument
         * @param c the third argument
         * @return its result (written as JSON)
         * @throws Exception the task failed
         */
        Object call(A a, B b, C c) throws Exception;
    }

    /** A task that reads its arguments from the context ({@link TaskContext#args()}, {@link TaskContext#kwargs()}). */
    @FunctionalInterface
    public interface RawFn {
        /**
         * Runs the task.
         *
         * @param context the running task's context: its arguments, id, retries, …
         * @return its result (written as JSON)
         * @throws Exception the task failed
         */
        Object call(TaskContext context) throws Exception;
    }

    /**
     * A task with no arguments.
     *
     * @param name the task's name
     * @param fn   its body
     * @return a builder for its options; register it with {@link TaskRegistry#register(TaskDefinition.Builder)}
     */
    public static TaskDefinition.Builder task(String name, Fn0 fn) {
        return new TaskDefinition.Builder(name, params(), (ctx, a) -> fn.call());
    }

    /**
     * A task with one argument of type {@code a}, bound from the message's JSON.
     *
     * @param <A>  the argument's type
     * @param name the task's name
     * @param a    the argument's class
     * @param fn   its body
     * @return a builder for its options and parameter names ({@link TaskDefinition.Builder#params})
     */
    @SuppressWarnings("unchecked")
    public static <A> TaskDefinition.Builder task(String name, Class<A> a, Fn1<A> fn) {
        return new TaskDefinition.Builder(name, params(a), (ctx, v) -> fn.call((A) v[0]));
    }

    /**
     * A task with two arguments, bound from the message's JSON.
     *
     * @param <A>  the first argument's type
     * @param <B>  the second argument's type
     * @param name the task's name
     * @param a    the first argument's class
     * @param b    the second argument's class
     * @param fn   its body
     * @return a builder for its options and parameter names ({@link TaskDefinition.Builder#params})
     */
    @SuppressWarnings("unchecked")
    public static <A, B> TaskDefinition.Builder task(String name, Class<A> a, Class<B> b, Fn2<A, B> fn) {
        return new TaskDefinition.Builder(name, params(a, b), (ctx, v) -> fn.call((A) v[0], (B) v[1]));
    }

    /**
     * A task with three arguments, bound from the message's JSON.
     *
     * @param <A>  the first argument's type
     * @param <B>  the second argument's type
     * @param <C>  the third argument's type
     * @param name the task's name
     * @param a    the first argument's class
     * @param b    the second argument's class
     * @param c    the third argument's class
     * @param fn   its body
     * @return a builder for its options and parameter names ({@link TaskDefinition.Builder#params})
     */
    @SuppressWarnings("unchecked")
    public static <A, B, C> TaskDefinition.Builder task(String name, Class<A> a, Class<B> b, Class<C> c, Fn3<A, B, C> fn) {
        return new TaskDefinition.Builder(name, params(a, b, c), (ctx, v) -> fn.call((A) v[0], (B) v[1], (C) v[2]));
    }

    /**
     * A task taking any arguments, which it reads from its context (no binding, no TypeError).
     *
     * @param name the task's name
     * @param fn   its body
     * @return a builder for its options
     */
    public static TaskDefinition.Builder raw(String name, RawFn fn) {
        return new TaskDefinition.Builder(name, null, (ctx, v) -> fn.call(ctx));
    }

    private static List<TaskDefinition.Parameter> params(Type... types) {
        List<TaskDefinition.Parameter> out = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            out.add(new TaskDefinition.Parameter("arg" + i, types[i]));
        }
        return out;
    }
}
