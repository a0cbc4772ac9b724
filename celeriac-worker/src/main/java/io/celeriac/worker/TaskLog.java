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
    private final Map<String, String> before;

    private TaskLog(String id, String name, String node) {
        this.before = MDC.getCopyOfContextMap();
        MDC.put(TASK_ID, id);
        MDC.put(TASK_NAME, name);
        if (node != null) {
            MDC.put(WORKER, node);
        }
    }

    static TaskLog of(String id, String name, String node) {
        return new TaskLog(id, name, node);
    }

    @Override
    public void close() {
        if (before == null || before.isEmpty()) {
            MDC.clear();
        } else {
            MDC.setContextMap(before);
        }
    }
}
