package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.protocol.TaskResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The result-store SPI. Results expire {@code result_expires} after they are stored.
 * A state stored for a task whose stored state is already SUCCESS is dropped, as Celery does,
 * so a duplicate run cannot overwrite a success; and a state that is not ready (STARTED, RETRY, a
 * task's own progress state) is dropped when a ready one (SUCCESS, FAILURE, REVOKED) is stored, so
 * a late progress report cannot hide how the task ended ({@link #replaces}).
 */
public interface ResultStore extends AutoCloseable {

    /** Whether a result in state {@code next} is stored over a stored one in state {@code stored}: the rule every store applies. */
    static boolean replaces(io.celeriac.TaskState next, io.celeriac.TaskState stored) {
        return stored != io.celeriac.TaskState.SUCCESS && (next.ready() || !stored.ready());
    }

    void store(TaskResult result);

    /** Stores several results; a store that can should do it in one round trip or transaction. */
    default void storeAll(List<TaskResult> results) {
        results.forEach(this::store);
    }

    /** The stored state, or empty when none is stored (the task is PENDING) or it expired. */
    Optional<TaskResult> get(String taskId);

    /**
     * Commits a batch of {@link Settlement}s, in order: each one's chord sizes, publications and
     * results, its chord parts (firing a completed chord's body), and its ack. A store that holds
     * {@code broker}'s queues too does each settlement atomically and skips one whose delivery was
     * settled already; otherwise it publishes through {@code broker} before it stores, and acks last
     * (a crash in between runs the task again: at-least-once).
     */
    void settle(List<Settlement> batch, Broker broker);

    /** Saves a group's members (Celery's {@code GroupResult.save}): {@code tuple} as Celery's {@code as_tuple()}. */
    void saveGroup(String groupId, JsonNode tuple);

    /** A saved group's tuple, if saved and not expired. */
    Optional<JsonNode> group(String groupId);

    /** Waits up to {@code timeout} for a ready state (SUCCESS, FAILURE, REVOKED); returns the last state seen. */
    Optional<TaskResult> await(String taskId, Duration timeout) throws InterruptedException;

    /** Deletes a stored result. */
    void forget(String taskId);

    String describe();

    @Override
    void close();
}
