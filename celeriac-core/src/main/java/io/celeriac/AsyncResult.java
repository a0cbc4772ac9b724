package io.celeriac;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.ResultStore;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * A handle on a sent task's outcome (Celery's {@code AsyncResult}): its state, what it stored beside
 * the state, and a blocking {@link #get}. Holds only the id; every call reads the result store, so a
 * handle made anywhere ({@link Celeriac#result(String)}) sees the same as the sender's.
 *
 * <pre>{@code
 * AsyncResult r = app.send("convert", path);
 * while (!r.ready()) {                                  // a task reporting progress
 *     if (r.status().equals("PROGRESS")) {
 *         System.out.println(r.info().get("current") + " of " + r.info().get("total"));
 *     }
 *     Thread.sleep(500);
 * }
 * String out = r.get(Duration.ofSeconds(5), String.class);   // throws TaskFailedException on FAILURE
 * }</pre>
 */
public final class AsyncResult {
    private final String id;
    private final ResultStore store;
    private final AsyncResult parent;
    private final GroupResult parentGroup;

    /**
     * A handle on task {@code id}'s result in {@code store}.
     *
     * @param id    the task id
     * @param store where its result is stored
     */
    public AsyncResult(String id, ResultStore store) {
        this(id, store, null, null);
    }

    /**
     * A result that follows {@code parent} (a chain's previous step) or {@code parentGroup} (a chord's header).
     *
     * @param id          the task id
     * @param store       where its result is stored
     * @param parent      the previous step's result, or null
     * @param parentGroup the chord header's group, or null
     */
    public AsyncResult(String id, ResultStore store, AsyncResult parent, GroupResult parentGroup) {
        this.id = Objects.requireNonNull(id);
        this.store = Objects.requireNonNull(store);
        this.parent = parent;
        this.parentGroup = parentGroup;
    }

    /**
     * The result this one follows: in a chain, the previous step's (Celery's {@code parent}).
     *
     * @return it, or empty when there is none (or this handle was made from an id alone)
     */
    public Optional<AsyncResult> parent() {
        return Optional.ofNullable(parent);
    }

    /**
     * For a chord's result, its header's group.
     *
     * @return it, or empty when this is not a chord's result
     */
    public Optional<GroupResult> parentGroup() {
        return Optional.ofNullable(parentGroup);
    }

    /**
     * The stored status name (Celery's {@code status}).
     *
     * @return "SUCCESS", "FAILURE", a custom one ("PROGRESS"), …; "PENDING" when nothing is stored
     */
    public String status() {
        return state().name();
    }

    /**
     * What the task stored beside its state: the value for SUCCESS, the exception object for
     * FAILURE (or RETRY, REVOKED), the meta a task reported with {@link TaskContext#updateState}, and
     * {@code {"pid", "hostname"}} for STARTED (Celery's {@code info}).
     *
     * @return that JSON, or null when nothing is stored (PENDING)
     */
    public JsonNode info() {
        return meta().map(TaskResult::result).orElse(null);
    }

    /** @return the task id */
    public String id() {
        return id;
    }

    /**
     * The stored state (Celery's {@code state}); compare with {@link TaskState}'s constants, or by name for custom ones.
     *
     * @return the state; {@link TaskState#PENDING} when nothing is stored yet (or it expired)
     */
    public TaskState state() {
        return meta().map(TaskResult::state).orElse(TaskState.PENDING);
    }

    /**
     * The whole stored result (state, value or exception, traceback, date done, worker, …).
     *
     * @return it, or empty when nothing is stored
     */
    public Optional<TaskResult> meta() {
        return store.get(id);
    }

    /** @return true when the task has finished: SUCCESS, FAILURE or REVOKED (Celery's {@code ready()}) */
    public boolean ready() {
        return state().ready();
    }

    /**
     * Waits up to {@code timeout} for the task to finish and returns its value as JSON.
     *
     * @param timeout how long to wait
     * @return the task's return value (JSON null for a task that returns nothing)
     * @throws TaskFailedException    the task ended in FAILURE (carries the remote exception)
     * @throws TaskRevokedException   the task was revoked or expired
     * @throws ResultTimeoutException it did not finish in time
     */
    public JsonNode get(Duration timeout) {
        Optional<TaskResult> r;
        try {
            r = store.await(id, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CeleriacException("interrupted while waiting for task " + id, e);
        }
        if (r.isEmpty() || !r.get().state().ready()) {
            throw new ResultTimeoutException(id, timeout, r.map(TaskResult::state).orElse(TaskState.PENDING));
        }
        TaskResult res = r.get();
        if (res.state() == TaskState.SUCCESS) {
            return res.result();
        }
        if (res.state() == TaskState.REVOKED) {
            throw new TaskRevokedException(id, Optional.ofNullable(res.exception().message()).orElse("revoked"));
        }
        ExceptionInfo exc = res.exception();
        throw new TaskFailedException(id, exc.type(), exc.module(), exc.message(), exc.traceback());
    }

    /**
     * {@link #get(Duration)}, converted to {@code type} (Jackson's conversion of the JSON value).
     *
     * @param <T>     the value's type
     * @param timeout how long to wait
     * @param type    the class to convert to
     * @return the converted value
     * @throws CeleriacException the value does not convert to {@code type}; and as {@link #get(Duration)}
     */
    public <T> T get(Duration timeout, Class<T> type) {
        JsonNode v = get(timeout);
        try {
            return Json.MAPPER.treeToValue(v, type);
        } catch (JsonProcessingException e) {
            throw new CeleriacException("result of task " + id + " is not a " + type.getSimpleName() + ": " + v, e);
        }
    }

    @Override
    public String toString() {
        return id;
    }
}
