package io.celeriac;

/**
 * The life of a task, with Celery's names. PENDING is never stored: a task with no stored state
 * is PENDING (unknown, or not yet picked up).
 */
public enum TaskState {
    PENDING, RECEIVED, STARTED, RETRY, SUCCESS, FAILURE, REVOKED;

    /** SUCCESS, FAILURE and REVOKED are final: a result in one of them will not change. */
    public boolean ready() {
        return this == SUCCESS || this == FAILURE || this == REVOKED;
    }

    /** Parses a stored state name; unknown names (a newer peer's custom state) read as PENDING. */
    public static TaskState parse(String name) {
        if (name == null) {
            return PENDING;
        }
        try {
            return valueOf(name);
        } catch (IllegalArgumentException e) {
            return PENDING;
        }
    }
}
