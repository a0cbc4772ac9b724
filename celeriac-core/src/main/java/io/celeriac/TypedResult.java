package io.celeriac;

import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.lang.reflect.Type;
import java.time.Duration;
import java.util.Objects;

/**
 * A sent task's outcome whose value has a Java type: {@link AsyncResult} with {@link #get} returning
 * {@code R}, converted from the stored JSON by Jackson (records, POJOs, {@code List<Report>} and other
 * generic types included). Made by {@link TaskRef#delay}, {@link TaskRef#apply} and the
 * {@code TypedResult<R>} methods of a {@link Celeriac#client(Class) typed client}.
 *
 * <pre>{@code
 * TypedResult<Long> r = ADD.delay(app, 2, 3);
 * long sum = r.get();                                  // waits up to result_timeout
 * Report rep = facts.scrapeAsync(null).get(Duration.ofMinutes(2));
 * }</pre>
 *
 * A value that does not convert is a {@link ResultTypeException} naming the task, its id and the type.
 *
 * @param <R> the value's type
 */
public final class TypedResult<R> {
    private final AsyncResult result;
    private final String task;
    private final Type declared;
    private final JavaType type;
    private final Duration defaultTimeout;

    TypedResult(AsyncResult result, String task, Type type, Duration defaultTimeout) {
        this.result = Objects.requireNonNull(result);
        this.task = Objects.requireNonNull(task);
        this.declared = Objects.requireNonNull(type);
        this.type = Json.MAPPER.getTypeFactory().constructType(type);
        this.defaultTimeout = Objects.requireNonNull(defaultTimeout);
    }

    /**
     * Sends the task a typed client's method stands for without waiting for it: the async variant
     * of any method that returns the task's value, with no second method to declare, so an interface
     * a worker's task class implements serves as the client too.
     *
     * <pre>{@code
     * Facts facts = app.client(Facts.class);
     * TypedResult<Report> r = TypedResult.async(facts, f -> f.scrape("wire-agency"));   // sent, not waited for
     * }</pre>
     *
     * @param <T>    the client interface
     * @param <R>    the method's value type
     * @param client a client made by {@link Celeriac#client(Class)}
     * @param call   calls one task method on it (its return value is a placeholder: null, 0 or false)
     * @return the typed handle on the task sent
     * @throws IllegalArgumentException {@code client} is not a typed client, or {@code call} calls no
     *                                  task method, or one that returns a handle itself, or two
     */
    public static <T, R> TypedResult<R> async(T client, java.util.function.Function<T, R> call) {
        return ClientProxy.async(client, call);
    }

    /** @return the task id */
    public String id() {
        return result.id();
    }

    /** @return the name of the task sent */
    public String task() {
        return task;
    }

    /** @return the type {@link #get} converts the value to */
    public Type type() {
        return declared;
    }

    /** @return the stored state; {@link TaskState#PENDING} when nothing is stored yet */
    public TaskState state() {
        return result.state();
    }

    /** @return true when the task has finished: SUCCESS, FAILURE or REVOKED */
    public boolean ready() {
        return result.ready();
    }

    /**
     * The untyped handle: status, {@code info()} (progress meta), the whole stored result, a chain's parent.
     *
     * @return it
     */
    public AsyncResult untyped() {
        return result;
    }

    /**
     * {@link #get(Duration)} with the client's {@code result_timeout}.
     *
     * @return the value
     */
    public R get() {
        return get(defaultTimeout);
    }

    /**
     * Waits up to {@code timeout} for the task to finish and returns its value as {@code R}.
     *
     * @param timeout how long to wait
     * @return the value (null for a JSON null, unless {@code R} is primitive)
     * @throws ResultTypeException    the value does not convert to {@code R}
     * @throws TaskFailedException    the task ended in FAILURE (carries the remote exception)
     * @throws TaskRevokedException   the task was revoked or expired
     * @throws ResultTimeoutException it did not finish in time
     */
    public R get(Duration timeout) {
        return convert(result.get(timeout));
    }

    @SuppressWarnings("unchecked")
    R convert(JsonNode value) {
        if (type.getRawClass() == Void.class || type.getRawClass() == void.class) {
            return null; // the caller said it wants no value: whatever came is not its business
        }
        try {
            return (R) Json.MAPPER.readerFor(type).readValue(value);
        } catch (IOException | IllegalArgumentException e) {
            String why = e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
            throw new ResultTypeException("task '" + task + "' [" + id() + "]: its result " + abbreviate(String.valueOf(value))
                    + " is not " + TaskDefinition.describe(type) + " (" + oneLine(why) + "); declare the type the task returns", e);
        }
    }

    private static String oneLine(String s) {
        return s == null ? "" : abbreviate(s.replaceAll("\\s*\\R\\s*", " ").trim());
    }

    private static String abbreviate(String s) {
        return s.length() <= 200 ? s : s.substring(0, 197) + "...";
    }

    @Override
    public String toString() {
        return task + "[" + id() + "] -> " + TaskDefinition.describe(type);
    }
}
