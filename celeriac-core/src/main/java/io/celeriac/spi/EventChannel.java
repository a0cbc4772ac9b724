package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.function.Consumer;

/**
 * Celery's events (task-sent, task-received, task-started, task-succeeded, task-failed,
 * task-retried, task-revoked, worker-online, worker-heartbeat, worker-offline), fanned out to
 * whoever listens. {@link Broker#events(Coordination)} gives each broker's: by default one queue per listener
 * ({@link QueueEvents}); Redis publishes on Celery's {@code celeryev} exchange, so Python's
 * {@code celery events} and Flower see Celeriac workers.
 */
public interface EventChannel {
    /** Sends one event (its {@code type}, {@code hostname} and {@code timestamp} are set by the sender). */
    void send(ObjectNode event);

    /**
     * Calls {@code onEvent} with every event sent from now on, until the result is closed: when this
     * returns, the listener is in place where the events go (on Redis, the pattern subscription is
     * confirmed), so an event sent next is heard. (A sender over plain queues that looked its listeners
     * up less than a second ago learns of a new one at its next look-up.)
     */
    AutoCloseable listen(Consumer<JsonNode> onEvent);
}
