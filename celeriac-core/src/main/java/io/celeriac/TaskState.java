package io.celeriac;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The state of a task, with Celery's names: PENDING, RECEIVED, STARTED, RETRY, SUCCESS, FAILURE,
 * REVOKED, and any custom state a task reports (Celery's {@code update_state(state='PROGRESS')}),
 * which is kept by name. PENDING is never stored: a task with no stored state is PENDING (unknown,
 * or not yet picked up). States compare by name; the standard ones are singletons, so {@code ==}
 * works for them.
 *
 * <pre>{@code
 * TaskState s = result.state();
 * if (s == TaskState.SUCCESS) { ... }
 * else if (s.custom() && s.name().equals("PROGRESS")) { ... }   // from TaskContext.updateState
 * }</pre>
 */
public final class TaskState {
    private static final Map<String, TaskState> KNOWN = new ConcurrentHashMap<>();

    /** Nothing is stored: the task is unknown, waiting, or its result expired. Never stored itself. */
    public static final TaskState PENDING = known("PENDING");
    /** Received by a worker (Celery's state; Celeriac's workers do not store it). */
    public static final TaskState RECEIVED = known("RECEIVED");
    /** Running; stored only with {@code task_track_started} or {@code @Task(trackStarted)}, meta {@code {"pid", "hostname"}}. */
    public static final TaskState STARTED = known("STARTED");
    /** Failed and to be retried; the result is the exception. */
    public static final TaskState RETRY = known("RETRY");
    /** Finished; the result is the return value. Final: never overwritten. */
    public static final TaskState SUCCESS = known("SUCCESS");
    /** Failed for good; the result is the exception. Final. */
    public static final TaskState FAILURE = known("FAILURE");
    /** Revoked or expired, not run (or terminated); the result is Celery's TaskRevokedError. Final. */
    public static final TaskState REVOKED = known("REVOKED");
    /** Celery's state of a rejected task whose exception is its result (one of its {@code EXCEPTION_STATES}). */
    public static final TaskState REJECTED = known("REJECTED");
    /** Celery's state of a task that asked to be ignored (one of its {@code EXCEPTION_STATES}). */
    public static final TaskState IGNORED = known("IGNORED");

    private final String name;

    private TaskState(String name) {
        this.name = name;
    }

    private static TaskState known(String name) {
        TaskState s = new TaskState(name);
        KNOWN.put(name, s);
        return s;
    }

    /** @return the state's name as stored ("SUCCESS", "PROGRESS", …) */
    public String name() {
        return name;
    }

    /** @return true for SUCCESS, FAILURE and REVOKED, the final states (Celery's {@code READY_STATES}) */
    public boolean ready() {
        return this == SUCCESS || this == FAILURE || this == REVOKED;
    }

    /** @return true for FAILURE and REVOKED: a chord whose header task ends so fails (Celery's {@code PROPAGATE_STATES}) */
    public boolean propagates() {
        return this == FAILURE || this == REVOKED;
    }

    /** @return true for a state a task set itself (not one of Celery's), such as "PROGRESS" */
    public boolean custom() {
        return !KNOWN.containsKey(name);
    }

    /**
     * The state of that name.
     *
     * @param name a stored status; null or empty reads as PENDING
     * @return the standard instance for Celery's names, else a custom state of that name
     */
    public static TaskState parse(String name) {
        if (name == null || name.isEmpty()) {
            return PENDING;
        }
        TaskState s = KNOWN.get(name);
        return s != null ? s : new TaskState(name);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TaskState t && t.name.equals(name);
    }

    @Override
    public int hashCode() {
        return name.hashCode();
    }

    @Override
    public String toString() {
        return name;
    }
}
