package io.celeriac;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.internal.CurrentTask;
import java.time.Duration;
import org.slf4j.Logger;

/**
 * What a running task knows about its own request (Celery's {@code self.request} plus
 * {@code self.retry}). Bound tasks receive it as their first parameter; any task can call
 * {@link #current()}.
 */
public interface TaskContext {

    /** The context of the task running on this thread; throws {@link IllegalStateException} outside a task. */
    static TaskContext current() {
        TaskContext c = CurrentTask.get();
        if (c == null) {
            throw new IllegalStateException("TaskContext.current() called outside a running task");
        }
        return c;
    }

    String id();

    String taskName();

    /** How many times this task was retried before this run (0 on the first run). */
    int retries();

    /** The maximum retries this task allows. */
    int maxRetries();

    /** A copy of the message headers, unknown ones included. */
    ObjectNode headers();

    /** A copy of the positional arguments as sent. */
    ArrayNode args();

    /** A copy of the keyword arguments as sent. */
    ObjectNode kwargs();

    /** Node name of the worker running the task. */
    String hostname();

    /** A logger named after the task. */
    Logger logger();

    /**
     * Asks for this task to run again after {@code countdown}; use as {@code throw ctx.retry(exc, countdown)}.
     * Once {@link #maxRetries()} is used up the task is recorded as FAILURE with {@code exc} instead.
     *
     * @param exc       why (stored with state RETRY, and with FAILURE when retries are used up); may be null
     * @param countdown delay before the next attempt
     */
    Retry retry(Throwable exc, Duration countdown);

    /**
     * {@link #retry(Throwable, Duration)} with the task's retry policy: its exponential back-off
     * (with jitter) when {@code retryBackoff} is on, else its default retry delay.
     */
    Retry retry(Throwable exc);

    /**
     * Throws {@link SoftTimeLimitExceeded} if the task has run past its soft time limit. Call it in
     * long loops; blocking calls are interrupted at the soft limit anyway.
     */
    void checkpoint();

    /** True once the soft time limit has passed. */
    boolean softTimeLimitExceeded();

    /**
     * Sleeps, like {@link Thread#sleep}, but throws {@link SoftTimeLimitExceeded} when the soft time
     * limit interrupts the sleep.
     */
    void sleep(Duration duration) throws InterruptedException;

    /** A client of the app's broker, to send other tasks from this one (they are linked as children). */
    /**
     * True when an earlier delivery of this message was not acknowledged — its worker died or gave
     * it back — so this task may have run before (delivery is at-least-once; make side effects
     * idempotent, or check here).
     */
    default boolean redelivered() {
        return false;
    }

    Celeriac app();
}
