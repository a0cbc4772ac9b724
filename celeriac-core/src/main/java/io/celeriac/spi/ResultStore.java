package io.celeriac.spi;

import io.celeriac.protocol.TaskResult;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The result-store SPI. Results expire {@code result_expires} after they are stored.
 * A state stored for a task whose stored state is already SUCCESS is dropped, as Celery does,
 * so a duplicate run cannot overwrite a success.
 */
public interface ResultStore extends AutoCloseable {

    void store(TaskResult result);

    /** Stores several results; a store that can should do it in one round trip or transaction. */
    default void storeAll(List<TaskResult> results) {
        results.forEach(this::store);
    }

    /** The stored state, or empty when none is stored (the task is PENDING) or it expired. */
    Optional<TaskResult> get(String taskId);

    /**
     * Stores {@code results}, then acks {@code deliveries} on {@code broker}: the end of a batch of
     * tasks. A store that shares its database with the broker may do both in one transaction.
     */
    default void storeAndAck(List<TaskResult> results, Broker broker, List<Delivery> deliveries) {
        if (!results.isEmpty()) {
            storeAll(results);
        }
        if (!deliveries.isEmpty()) {
            broker.ack(deliveries);
        }
    }

    /** Waits up to {@code timeout} for a ready state (SUCCESS, FAILURE, REVOKED); returns the last state seen. */
    Optional<TaskResult> await(String taskId, Duration timeout) throws InterruptedException;

    /** Deletes a stored result. */
    void forget(String taskId);

    String describe();

    @Override
    void close();
}
