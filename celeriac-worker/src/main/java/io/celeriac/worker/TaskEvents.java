package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.PythonRepr;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.EventChannel;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's task events, in Celery's shapes (fields as Celery 5 sends them), when
 * {@code worker_send_task_events} is on ({@link #OFF} otherwise). Best effort: an event that cannot be sent is dropped
 * (logged at debug), never a reason for a task to fail. One of the worker's {@link TaskObserver}s.
 */
final class TaskEvents implements TaskObserver {
    private static final Logger log = LoggerFactory.getLogger("celeriac.events");

    /** Events off: every method returns at once, nothing is built. */
    static final TaskEvents OFF = new TaskEvents(null, null);

    private final EventChannel channel;
    private final String hostname;
    private final AtomicLong clock = new AtomicLong();

    TaskEvents(EventChannel channel, String hostname) {
        this.channel = channel;
        this.hostname = hostname;
    }

    private ObjectNode event(String type, String uuid) {
        ObjectNode e = Json.NODES.objectNode();
        e.put("hostname", hostname);
        e.put("utcoffset", 0);
        e.put("pid", ProcessHandle.current().pid());
        e.put("clock", clock.incrementAndGet());
        if (uuid != null) {
            e.put("uuid", uuid);
        }
        e.put("timestamp", System.currentTimeMillis() / 1000.0);
        e.put("type", type);
        return e;
    }

    void send(ObjectNode e) {
        if (channel == null) {
            return;
        }
        try {
            channel.send(e);
        } catch (RuntimeException ex) {
            log.debug("event {} not sent: {}", e.path("type").asText(), ex.getMessage());
        }
    }

    @Override
    public void received(io.celeriac.spi.Delivery delivery, TaskMessage message, java.time.Instant at) {
        if (message != null) {
            received(message);
        }
    }

    @Override
    public void started(TaskMessage message, String queue, java.time.Instant at) {
        started(message, ProcessHandle.current().pid());
    }

    @Override
    public void finished(Finished f) {
        if (channel == null || f.message() == null) {
            return;
        }
        switch (f.fate()) {
            case SUCCESS -> succeeded(f.message(), f.result(), f.runtime() == null ? 0 : f.runtime());
            case FAILURE -> failed(f.message(), f.exception());
            case RETRY -> retried(f.message(), f.exception());
            case REVOKED -> revoked(f.message(), "expired".equals(f.reason()), "terminated".equals(f.reason()));
            default -> { } // Celery sends nothing for these
        }
    }

    void received(TaskMessage m) {
        if (channel == null) {
            return;
        }
        ObjectNode e = event("task-received", m.id());
        e.put("name", m.task());
        e.put("args", PythonRepr.args(m.args()));
        e.put("kwargs", PythonRepr.kwargs(m.kwargs()));
        e.put("root_id", m.rootId());
        e.put("parent_id", m.parentId());
        e.put("retries", m.retries());
        m.eta().ifPresentOrElse(t -> e.put("eta", CeleryTime.format(t)), () -> e.putNull("eta"));
        m.expires().ifPresentOrElse(t -> e.put("expires", CeleryTime.format(t)), () -> e.putNull("expires"));
        send(e);
    }

    void started(TaskMessage m, long pid) {
        if (channel == null) {
            return;
        }
        ObjectNode e = event("task-started", m.id());
        e.put("pid", pid);
        send(e);
    }

    void succeeded(TaskMessage m, JsonNode value, double runtime) {
        if (channel == null) {
            return;
        }
        ObjectNode e = event("task-succeeded", m.id());
        e.put("result", PythonRepr.of(value));
        e.put("runtime", runtime);
        send(e);
    }

    void failed(TaskMessage m, ExceptionInfo exc) {
        if (channel == null) {
            return;
        }
        ObjectNode e = event("task-failed", m.id());
        e.put("exception", exc.summary());
        e.put("traceback", exc.traceback());
        send(e);
    }

    void retried(TaskMessage m, ExceptionInfo exc) {
        if (channel == null) {
            return;
        }
        ObjectNode e = event("task-retried", m.id());
        e.put("exception", exc == null ? "Retry" : exc.summary());
        e.put("traceback", exc == null ? null : exc.traceback());
        send(e);
    }

    void revoked(TaskMessage m, boolean expired, boolean terminated) {
        if (channel == null) {
            return;
        }
        ObjectNode e = event("task-revoked", m.id());
        e.put("terminated", terminated);
        e.putNull("signum");
        e.put("expired", expired);
        send(e);
    }
}
