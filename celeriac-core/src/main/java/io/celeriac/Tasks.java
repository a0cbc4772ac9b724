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

    @FunctionalInterface
    public interface Fn0 {
        Object call() throws Exception;
    }

    @FunctionalInterface
    public interface Fn1<A> {
        Object call(A a) throws Exception;
    }

    @FunctionalInterface
    public interface Fn2<A, B> {
        Object call(A a, B b) throws Exception;
    }

    @FunctionalInterface
    public interface Fn3<A, B, C> {
        Object call(A a, B b, C c) throws Exception;
    }

    /** A task that reads its arguments from the context ({@link TaskContext#args()}, {@link TaskContext#kwargs()}). */
    @FunctionalInterface
    public interface RawFn {
        Object call(TaskContext context) throws Exception;
    }

    public static TaskDefinition.Builder task(String name, Fn0 fn) {
        return new TaskDefinition.Builder(name, params(), (ctx, a) -> fn.call());
    }

    @SuppressWarnings("unchecked")
    public static <A> TaskDefinition.Builder task(String name, Class<A> a, Fn1<A> fn) {
        return new TaskDefinition.Builder(name, params(a), (ctx, v) -> fn.call((A) v[0]));
    }

    @SuppressWarnings("unchecked")
    public static <A, B> TaskDefinition.Builder task(String name, Class<A> a, Class<B> b, Fn2<A, B> fn) {
        return new TaskDefinition.Builder(name, params(a, b), (ctx, v) -> fn.call((A) v[0], (B) v[1]));
    }

    @SuppressWarnings("unchecked")
    public static <A, B, C> TaskDefinition.Builder task(String name, Class<A> a, Class<B> b, Class<C> c, Fn3<A, B, C> fn) {
        return new TaskDefinition.Builder(name, params(a, b, c), (ctx, v) -> fn.call((A) v[0], (B) v[1], (C) v[2]));
    }

    /** A task taking any arguments, which it reads from its context. */
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
