package io.celeriac.manager;

/** The life of a supervised process, with supervisord's names. */
public enum ProcessState {
    /** Not running, and not meant to be (never started, or stopped on request). */
    STOPPED,
    /** Launched; not yet up for {@code startsecs}. */
    STARTING,
    /** Up for at least {@code startsecs}. */
    RUNNING,
    /** Died; waiting out the back-off before the next start. */
    BACKOFF,
    /** Asked to stop (SIGTERM sent); SIGKILL follows after {@code stopwaitsecs}. */
    STOPPING,
    /** Exited on its own from RUNNING (then restarted, through BACKOFF). */
    EXITED,
    /** Died within {@code startsecs} more than {@code startretries} times in a row: given up on. */
    FATAL
}
