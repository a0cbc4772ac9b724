package io.celeriac;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.internal.CurrentTask;
import java.time.Duration;
import org.slf4j.Logger;

/**
 * What a running task knows about its own request (Celery's {@code self.request} plus
 * {@code self.retry} and {@code self.update_state}). Bound tasks receive it as their first
 * parameter; any task can call {@link #current()}.
 *
 * <pre>{@code
 * @Task(name = "import_feed", maxRetries = 5)
 * public int importFeed(TaskContext ctx, String url) {
 *     ctx.logger().info("import {} (attempt {})", url, ctx.retries() + 1);
 *     List<Item> items;
 *     try {
 *         items = fetch(url);
 *     } catch (IOException e) {
 *         throw ctx.retry(e, Duration.ofSeconds(30));   // runs again in 30 s, FAILURE after 5 retries
 *     }
 *     for (int i = 0; i < items.size(); i++) {
 *         ctx.checkpoint();                               // SoftTimeLimitExceeded past the soft limit
 *         save(items.get(i));
 *         ctx.updateState("PROGRESS", Map.of("current", i + 1, "total", items.size()));
 *     }
 *     return items.size();
 * }
 * }</pre>
 */
public interface TaskContext {

    /**
     * The context of the task running on this thread (for lambda tasks and the code they call).
     *
     * @return the running task's context
     * @throws IllegalStateException called outside a running task
     */
    static TaskContext current() {
        TaskContext c = CurrentTask.get();
        if (c == null) {
            throw new IllegalStateException("TaskContext.current() called outside a running task");
        }
        return c;
    }

    /** @return the task id (Celery's {@code request.id}) */
    String id();

    /** @return the task's name (Celery's {@code request.task}) */
    String taskName();

    /** @return how many times this task was retried before this run (0 on the first run) */
    int retries();

    /** @return the maximum retries this task allows ({@code maxRetries}, else {@code task_max_retries}) */
    int maxRetries();

    /** @return a copy of the message headers, unknown ones included */
    ObjectNode headers();

    /** @return a copy of the positional arguments as sent */
    ArrayNode args();

    /** @return a copy of the keyword arguments as sent */
    ObjectNode kwargs();

    /** @return the node name of the worker running the task ({@code name@host}) */
    String hostname();

    /** @return a logger named {@code celeriac.task.<task name>} */
    Logger logger();

    /**
     * Asks for this task to run again after {@code countdown}; use as {@code throw ctx.retry(exc, countdown)}.
     * Once {@link #maxRetries()} is used up the task is recorded as FAILURE with {@code exc} instead.
     *
     * @param exc       why (stored with state RETRY, and with FAILURE when retries are used up); may be null
     * @param countdown delay before the next attempt
     * @return the exception to throw
     * @throws IllegalArgumentException {@code countdown} is negative
     */
    Retry retry(Throwable exc, Duration countdown);

    /**
     * {@link #retry(Throwable, Duration)} with the task's retry policy: its exponential back-off
     * (with jitter) when {@code retryBackoff} is on, else its default retry delay.
     *
     * @param exc why; may be null
     * @return the exception to throw
     */
    Retry retry(Throwable exc);

    /**
     * Throws {@link SoftTimeLimitExceeded} if the task has run past its soft time limit. Call it in
     * long loops; blocking calls are interrupted at the soft limit anyway.
     *
     * @throws SoftTimeLimitExceeded the soft limit has passed
     */
    void checkpoint();

    /** @return true once the soft time limit has passed */
    boolean softTimeLimitExceeded();

    /**
     * Sleeps, like {@link Thread#sleep}, but throws {@link SoftTimeLimitExceeded} when the soft time
     * limit interrupts the sleep.
     *
     * @param duration how long to sleep
     * @throws SoftTimeLimitExceeded the soft limit passed before or during the sleep
     * @throws InterruptedException  the thread was interrupted for another reason (a shutdown)
     */
    void sleep(Duration duration) throws InterruptedException;

    /**
     * Stores {@code state} with {@code meta} as this task's result now (Celery's
     * {@code self.update_state(state=..., meta=...)}): the result record gets status {@code state}
     * and result {@code meta}, readable at once by {@link AsyncResult#state()} and
     * {@link AsyncResult#info()}, and by Python's {@code AsyncResult(id).state} and {@code .info} on
     * a shared result backend. The task's final result replaces it; a report that comes after the
     * task has ended (SUCCESS, FAILURE, REVOKED) is dropped. Works the same in the thread and the
     * process pool (a child hands the state to its worker, which stores it).
     *
     * <pre>{@code
     * for (int i = 1; i <= files.size(); i++) {
     *     convert(files.get(i - 1));
     *     ctx.updateState("PROGRESS", Map.of("current", i, "total", files.size()));
     * }
     * }</pre>
     *
     * @param state a custom state ("PROGRESS") or one of Celery's not-ready ones (STARTED, RETRY, RECEIVED)
     * @param meta  what to store beside it, as JSON (a map of numbers, strings, lists…); null stores JSON null
     * @throws IllegalArgumentException {@code state} is empty, PENDING or a final state (SUCCESS, FAILURE,
     *                                  REVOKED: the worker stores those when the task returns or throws), or
     *                                  {@code meta} cannot be written as JSON
     * @throws UnsupportedOperationException this context cannot store states (it is not a worker's)
     */
    default void updateState(String state, java.util.Map<String, ?> meta) {
        throw new UnsupportedOperationException("this TaskContext (" + getClass().getName() + ") cannot store task states");
    }

    /**
     * True when an earlier delivery of this message was not acknowledged — its worker died or gave
     * it back — so this task may have run before (delivery is at-least-once; make side effects
     * idempotent, or check here).
     *
     * @return true on a redelivery
     */
    default boolean redelivered() {
        return false;
    }

    /**
     * A client of the app's broker, to send other tasks from this one (they are linked as children:
     * their parent_id is this task's id).
     *
     * @return the client (in a process-pool child, opened on first use)
     */
    Celeriac app();
}
