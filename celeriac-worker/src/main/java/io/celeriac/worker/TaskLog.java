package io.celeriac.worker;

import java.util.Map;
import org.slf4j.MDC;

/**
 * The MDC of a task's lines: {@code task_id}, {@code task_name}, {@code worker} (the node name), set
 * where a run begins ({@link RequestHandler#handle}, and {@link TaskRunner#run} on whichever thread or
 * child process runs the body) and put back as it was when it ends, exceptions included. The JSON
 * log format writes them into every line ({@code log_format: json}).
 */
final class TaskLog implements AutoCloseable {
    static final String TASK_ID = "task_id";
    static final String TASK_NAME = "task_name";
    static final String WORKER = "worker";
    /** Set by an enclosing {@code TaskLog} of the same task on this thread: nothing to set, nothing to put back. */
    private static final TaskLog NESTED = new TaskLog();
    private final Map<String, String> before;
    private final boolean nested;

    private TaskLog() {
        this.before = null;
        this.nested = true;
    }

    private TaskLog(String id, String name, String node) {
        this.before = MDC.getCopyOfContextMap();
        this.nested = false;
        MDC.put(TASK_ID, id);
        MDC.put(TASK_NAME, name);
        if (node != null) {
            MDC.put(WORKER, node);
        }
    }

    /**
     * Sets the task's MDC until {@link #close}; when this thread's MDC already names this task (the thread pool
     * runs the body on the thread that took the message), the enclosing one puts it back and this one does nothing.
     */
    static TaskLog of(String id, String name, String node) {
        if (id != null && id.equals(MDC.get(TASK_ID)) && java.util.Objects.equals(name, MDC.get(TASK_NAME))
                && (node == null || node.equals(MDC.get(WORKER)))) {
            return NESTED;
        }
        return new TaskLog(id, name, node);
    }

    @Override
    public void close() {
        if (nested) {
            return;
        }
        if (before == null || before.isEmpty()) {
            MDC.clear();
        } else {
            MDC.setContextMap(before);
        }
    }
}
