package io.celeriac.spi;

import java.time.Instant;
import java.util.Objects;

/**
 * What a producer hands a broker: the encoded envelope plus what the broker needs to route and
 * schedule it without parsing it.
 *
 * @param taskId   the task id (for logs and dead-letter records)
 * @param payload  the envelope JSON exactly as stored and delivered
 * @param priority 0–9; on every broker a lower number is consumed first, as in Celery on Redis
 * @param eta      not delivered before this instant; null for now
 */
public record BrokerMessage(String taskId, String payload, int priority, Instant eta) {
    public BrokerMessage {
        Objects.requireNonNull(payload, "payload");
        if (priority < 0 || priority > 9) {
            throw new IllegalArgumentException("priority must be 0..9, got " + priority);
        }
    }

    /** The ETA in epoch milliseconds, rounded up (a broker with millisecond times never delivers early); 0 if none. */
    public long etaMillis() {
        return eta == null ? 0 : eta.toEpochMilli() + (eta.getNano() % 1_000_000 == 0 ? 0 : 1);
    }
}
