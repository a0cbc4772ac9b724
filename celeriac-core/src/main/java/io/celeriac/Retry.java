package io.celeriac;

import java.time.Duration;
import java.time.Instant;

/**
 * A signal from a task to its worker: run this task again later. Made by
 * {@link TaskContext#retry(Throwable, Duration)}; the idiom is {@code throw ctx.retry(exc, countdown)}.
 * The worker publishes a copy with {@code retries + 1} and an ETA, parked durably in the broker,
 * and records state RETRY; once the task's {@code maxRetries} is used up it records FAILURE with
 * the original exception instead.
 */
public final class Retry extends CeleriacException {
    /** When the next attempt may run. */
    private final transient Instant eta;

    /**
     * A retry request; tasks get one from {@link TaskContext#retry(Throwable, Duration)}.
     *
     * @param cause why (stored with state RETRY); may be null
     * @param eta   when the next attempt may run
     */
    public Retry(Throwable cause, Instant eta) {
        super("retry at " + eta + (cause == null ? "" : ": " + cause), cause);
        this.eta = eta;
    }

    /** @return when the next attempt may run */
    public Instant eta() {
        return eta;
    }
}
