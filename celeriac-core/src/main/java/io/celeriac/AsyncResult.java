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

/** A handle on a sent task's outcome (Celery's {@code AsyncResult}). */
public final class AsyncResult {
    private final String id;
    private final ResultStore store;
    private final AsyncResult parent;
    private final GroupResult parentGroup;

    public AsyncResult(String id, ResultStore store) {
        this(id, store, null, null);
    }

    /** A result that follows {@code parent} (a chain's previous step) or {@code parentGroup} (a chord's header). */
    public AsyncResult(String id, ResultStore store, AsyncResult parent, GroupResult parentGroup) {
        this.id = Objects.requireNonNull(id);
        this.store = Objects.requireNonNull(store);
        this.parent = parent;
        this.parentGroup = parentGroup;
    }

    /** The result this one follows: in a chain, the previous step's (Celery's {@code parent}). */
    public Optional<AsyncResult> parent() {
        return Optional.ofNullable(parent);
    }

    /** For a chord's result, its header's group. */
    public Optional<GroupResult> parentGroup() {
        return Optional.ofNullable(parentGroup);
    }

    /** The stored status name, custom ones included ({@code "PROGRESS"}); PENDING when nothing is stored. */
    public String status() {
        return state().name();
    }

    /**
     * What the task stored beside its state: the value for SUCCESS, the exception object for
     * FAILURE, the meta a task reported with a custom state (Celery's {@code info}); null when nothing.
     */
    public JsonNode info() {
        return meta().map(TaskResult::result).orElse(null);
    }

    public String id() {
        return id;
    }

    /** The stored state; PENDING when nothing is stored yet. */
    public TaskState state() {
        return meta().map(TaskResult::state).orElse(TaskState.PENDING);
    }

    /** The whole stored result (state, value or exception, traceback, date done), if any. */
    public Optional<TaskResult> meta() {
        return store.get(id);
    }

    public boolean ready() {
        return state().ready();
    }

    /**
     * Waits up to {@code timeout} for the task to finish and returns its value as JSON.
     *
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

    /** {@link #get(Duration)}, converted to {@code type}. */
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
