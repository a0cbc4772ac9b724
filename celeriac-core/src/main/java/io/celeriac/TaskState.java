package io.celeriac;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The state of a task, with Celery's names: PENDING, RECEIVED, STARTED, RETRY, SUCCESS, FAILURE,
 * REVOKED, and any custom state a task reports (Celery's {@code update_state(state='PROGRESS')}),
 * which is kept by name. PENDING is never stored: a task with no stored state is PENDING (unknown,
 * or not yet picked up). States compare by name; the standard ones are singletons, so {@code ==}
 * works for them.
 */
public final class TaskState {
    private static final Map<String, TaskState> KNOWN = new ConcurrentHashMap<>();

    public static final TaskState PENDING = known("PENDING");
    public static final TaskState RECEIVED = known("RECEIVED");
    public static final TaskState STARTED = known("STARTED");
    public static final TaskState RETRY = known("RETRY");
    public static final TaskState SUCCESS = known("SUCCESS");
    public static final TaskState FAILURE = known("FAILURE");
    public static final TaskState REVOKED = known("REVOKED");
    /** Celery's states of a task whose exception is its result ({@code EXCEPTION_STATES}). */
    public static final TaskState REJECTED = known("REJECTED");
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

    /** The state's name as stored ("SUCCESS", "PROGRESS", …). */
    public String name() {
        return name;
    }

    /** SUCCESS, FAILURE and REVOKED are final: a result in one of them will not change. */
    public boolean ready() {
        return this == SUCCESS || this == FAILURE || this == REVOKED;
    }

    /** FAILURE and REVOKED: a chord whose header task ends so fails (Celery's {@code PROPAGATE_STATES}). */
    public boolean propagates() {
        return this == FAILURE || this == REVOKED;
    }

    /** True for a state a task set itself (not one of Celery's). */
    public boolean custom() {
        return !KNOWN.containsKey(name);
    }

    /** The state of that name: the standard instance for Celery's names, else a custom state; null reads as PENDING. */
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
