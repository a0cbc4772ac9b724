package io.celeriac;

import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A task's name with the type of its result: a constant to send by, so a misspelt name or a changed
 * result type fails at compile time (or at the one place the constant is declared), not in a worker.
 * The name is what goes on the wire, so the task may be a Python one or run by a Python worker.
 *
 * <pre>{@code
 * static final TaskRef<Long> ADD = TaskRef.of("add", Long.class);
 * static final TaskRef<List<Report>> SCRAPE = TaskRef.of("scrape_all", new TypeRef<List<Report>>() {});
 *
 * long sum = ADD.delay(app, 2, 3).get();                                       // waits up to result_timeout
 * TypedResult<Long> later = ADD.apply(app, SendOptions.options().withCountdown(Duration.ofSeconds(5)), 2, 3);
 * AsyncResult chain = app.apply(Canvas.chain(ADD.s(1, 2), ADD.s(10)));         // signatures compose
 * long total = ADD.result(app, chain).get();                                   // the last step's value, typed
 * }</pre>
 *
 * Immutable and thread-safe.
 *
 * @param <R> the type of the task's result ({@link Void} for one whose value is not wanted)
 */
public final class TaskRef<R> {
    private final String name;
    private final Type type;

    private TaskRef(String name, Type type) {
        Objects.requireNonNull(name, "name");
        if (name.isBlank()) {
            throw new IllegalArgumentException("a TaskRef needs a task name");
        }
        this.name = name;
        this.type = Objects.requireNonNull(type, "type");
    }

    /**
     * A task whose result is of a plain class ({@code Long.class}, {@code Report.class}).
     *
     * @param <R>  the result's type
     * @param name the task's name
     * @param type the result's class
     * @return the reference
     */
    public static <R> TaskRef<R> of(String name, Class<R> type) {
        return new TaskRef<>(name, type);
    }

    /**
     * A task whose result is of a generic type ({@code new TypeRef<List<Report>>() {}}).
     *
     * @param <R>  the result's type
     * @param name the task's name
     * @param type the result's type, captured
     * @return the reference
     */
    public static <R> TaskRef<R> of(String name, TypeRef<R> type) {
        return new TaskRef<>(name, type.type());
    }

    /** @return the task's name (as sent) */
    public String name() {
        return name;
    }

    /** @return the type results are converted to */
    public Type resultType() {
        return type;
    }

    /**
     * Sends the task with positional arguments (Celery's {@code add.delay(2, 3)}).
     *
     * @param app  the client to send with
     * @param args its positional arguments
     * @return the typed handle
     */
    public TypedResult<R> delay(Celeriac app, Object... args) {
        return apply(app, Arrays.asList(args), Map.of(), SendOptions.NONE);
    }

    /**
     * Sends the task with options (countdown, ETA, expiry, queue, priority, id, …).
     *
     * @param app     the client to send with
     * @param options the send's options
     * @param args    its positional arguments
     * @return the typed handle
     */
    public TypedResult<R> apply(Celeriac app, SendOptions options, Object... args) {
        return apply(app, Arrays.asList(args), Map.of(), options);
    }

    /**
     * Sends the task with positional and keyword arguments and options (Celery's {@code apply_async}).
     *
     * @param app     the client to send with
     * @param args    positional arguments
     * @param kwargs  keyword arguments
     * @param options the send's options ({@link SendOptions#NONE}: none)
     * @return the typed handle
     */
    public TypedResult<R> apply(Celeriac app, List<?> args, Map<String, ?> kwargs, SendOptions options) {
        return result(app, app.send(name, args, kwargs, options));
    }

    /**
     * The signature of a call, to compose into chains, groups and chords (Celery's {@code add.s(2, 3)}).
     *
     * @param args positional arguments (a chain step gets the previous result before them)
     * @return the signature
     */
    public Signature s(Object... args) {
        return Signature.of(name, args);
    }

    /**
     * The signature of a call with keyword arguments.
     *
     * @param args   positional arguments
     * @param kwargs keyword arguments
     * @return the signature
     */
    public Signature s(List<?> args, Map<String, ?> kwargs) {
        return Signature.of(name, args, kwargs);
    }

    /**
     * An immutable signature: in a chain it does not receive the previous step's result (Celery's {@code add.si(2, 3)}).
     *
     * @param args positional arguments
     * @return the signature
     */
    public Signature si(Object... args) {
        return s(args).immutable();
    }

    /**
     * A typed handle on a result of this task sent elsewhere, by id.
     *
     * @param app    the client whose result store holds it
     * @param taskId the task's id
     * @return the typed handle
     */
    public TypedResult<R> result(Celeriac app, String taskId) {
        return result(app, app.result(taskId));
    }

    /**
     * Types an untyped handle, such as a chain's whose last step is this task ({@code app.apply(chain)}).
     *
     * @param app    the client (for its {@code result_timeout})
     * @param result the handle
     * @return the typed handle
     */
    public TypedResult<R> result(Celeriac app, AsyncResult result) {
        return new TypedResult<>(result, name, type, app.config().get(io.celeriac.config.Settings.RESULT_TIMEOUT));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TaskRef<?> t && t.name.equals(name) && t.type.equals(type);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + type.hashCode();
    }

    @Override
    public String toString() {
        return name + " -> " + type.getTypeName();
    }
}
