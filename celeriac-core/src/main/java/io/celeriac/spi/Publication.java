package io.celeriac.spi;

import java.util.Objects;

/** A message to put on a queue as part of a {@link Settlement} (a continuation, a retry, a dead letter, …). */
public record Publication(String queue, BrokerMessage message) {
    public Publication {
        Objects.requireNonNull(queue, "queue");
        Objects.requireNonNull(message, "message");
    }
}
