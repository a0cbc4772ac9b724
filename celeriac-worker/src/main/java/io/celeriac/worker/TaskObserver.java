package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Delivery;
import java.time.Instant;
import java.util.List;

/**
 * Told what becomes of each message a worker handles, and what happens in its pool, as it
 * happens: the one source of the worker's counters ({@link WorkerStats}), its task events, its
 * {@code /metrics} and its task history. {@code RequestHandler} tells observers from one place, where
 * each message's fate is settled; for every {@link #received} exactly one {@link #finished} follows
 * (none when the worker dies first).
 *
 * <p>Observers run on the task's own thread: they must be quick and must not block. Whatever an
 * observer throws is logged once and swallowed: an observer never slows or breaks a run. Add one
 * with {@link Worker#observe} before the worker starts.
 */
public interface TaskObserver {

    /**
     * A reserved message is about to be handled (before the checks that may keep it from running).
     *
     * @param delivery the delivery (its queue, delivery count)
     * @param message  the decoded message, or null when it could not be decoded
     * @param at       when
     */
    default void received(Delivery delivery, TaskMessage message, Instant at) {
    }

    /**
     * Its task body starts (after a rate limit let it), in the worker's own process or a child's.
     *
     * @param message the message
     * @param queue   the queue it came from
     * @param at      when
     */
    default void started(TaskMessage message, String queue, Instant at) {
    }

    /**
     * The message's fate is settled (what it caused is about to be committed).
     *
     * @param f what became of it
     */
    default void finished(Finished f) {
    }

    /**
     * Something happened in the pool.
     *
     * @param event what
     * @param pid   the child's pid (process pool), or this process's
     */
    default void pool(PoolEvent event, long pid) {
    }

    /** What became of a message. */
    enum Fate {
        /** The task returned. */
        SUCCESS,
        /** The task raised (retries used up, a hard time limit, a child lost with no retry left): FAILURE recorded. */
        FAILURE,
        /** The task asked to run again: RETRY recorded, the next attempt published. */
        RETRY,
        /** Not run, or stopped: expired, revoked, or revoked with terminate. */
        REVOKED,
        /** Never run, sent to the dead-letter queue: malformed, an unknown task, delivered too often. */
        REJECTED,
        /** The process running it died; the message was put back on its queue to run again. */
        LOST,
        /** Put back untouched: an ETA still ahead, no child to run it while stopping, a cold shutdown. */
        DEFERRED,
        /** Delivered again after it had succeeded: acked, not run. */
        SKIPPED;

        /** The name used in metrics: lower case. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What happened in the pool. */
    enum PoolEvent {
        /** A child process started (process pool). */
        CHILD_STARTED,
        /** A child JVM retired and was replaced (worker_max_memory_per_child; worker_max_tasks_per_child without a class-loader split). */
        CHILD_RETIRED,
        /** A child dropped its app and loaded it afresh, in the same JVM (worker_max_tasks_per_child). */
        CHILD_RECYCLED,
        /** A child died while running a task. */
        CHILD_LOST,
        /** A run was stopped at its hard time limit (the child killed, or the thread abandoned). */
        TIME_LIMIT_KILL
    }

    /**
     * What became of one message.
     *
     * @param message      the message, or null when it could not be decoded
     * @param id           its task id, or null when none could be read
     * @param task         its task name, or null when none could be read
     * @param queue        the queue it was delivered from
     * @param fate         what became of it
     * @param state        the state recorded for it (SUCCESS, FAILURE, RETRY, REVOKED), or null when none was
     * @param result       the return value (SUCCESS), else null
     * @param exception    what it raised (FAILURE; RETRY: the cause, may be null), else null
     * @param reason       why (REVOKED: expired, revoked, terminated; REJECTED, LOST, DEFERRED: the reason), else null
     * @param deadLettered whether a record of it went to the dead-letter queue
     * @param started      when its run started, or null when it did not run
     * @param runtime      seconds its run took, or null when it did not run
     * @param children     the ids of the tasks it caused (callbacks, a chain's next step, a chord's body), in order
     * @param at           when its fate was settled
     */
    record Finished(TaskMessage message, String id, String task, String queue, Fate fate, TaskState state, JsonNode result,
                    ExceptionInfo exception, String reason, boolean deadLettered, Instant started, Double runtime,
                    List<String> children, Instant at) {
        public Finished {
            children = children == null ? List.of() : List.copyOf(children);
        }

        /** Whether its task body ran (a run started and ended). */
        public boolean ran() {
            return started != null;
        }
    }
}
