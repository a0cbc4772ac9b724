package io.celeriac;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.config.Config;
import io.celeriac.config.Durations;
import io.celeriac.config.Settings;
import io.celeriac.internal.CurrentTask;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client side of an app: sends tasks and reads their results. Also what a worker uses to
 * publish retries. Thread-safe.
 *
 * <pre>{@code
 * try (Celeriac app = Celeriac.open(config, registry)) {
 *     AsyncResult r = app.send("add", 2, 3);
 *     int sum = r.get(Duration.ofSeconds(10), Integer.class);
 * }
 * }</pre>
 */
public final class Celeriac implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.client");
    private final Config config;
    private final TaskRegistry registry;
    private final Broker broker;
    private final ResultStore results;
    private final Clock clock;
    private final boolean owns;
    private Coordination coordination;

    public Celeriac(Config config, TaskRegistry registry, Broker broker, ResultStore results, Clock clock) {
        this(config, registry, broker, results, clock, false);
    }

    private Celeriac(Config config, TaskRegistry registry, Broker broker, ResultStore results, Clock clock, boolean owns) {
        this.config = Objects.requireNonNull(config);
        this.registry = Objects.requireNonNull(registry);
        this.broker = Objects.requireNonNull(broker);
        this.results = Objects.requireNonNull(results);
        this.clock = Objects.requireNonNull(clock);
        this.owns = owns;
    }

    /** Opens the broker and result store named in {@code config}; {@link #close()} closes them. */
    public static Celeriac open(Config config, TaskRegistry registry) {
        Broker broker = Backends.openBroker(config);
        try {
            ResultStore results = Backends.openResultStore(config);
            return new Celeriac(config, registry, broker, results, Clock.systemUTC(), true);
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    public Config config() { return config; }

    public TaskRegistry registry() { return registry; }

    public Broker broker() { return broker; }

    public ResultStore results() { return results; }

    public Clock clock() { return clock; }

    /** Locks and records on the broker's store (beat, health records); opened on first use. */
    public synchronized Coordination coordination() {
        if (coordination == null) {
            coordination = Backends.openCoordination(config);
        }
        return coordination;
    }

    /** Sends a task with positional arguments and default options. */
    public AsyncResult send(String task, Object... args) {
        return send(task, Arrays.asList(args), Map.of(), SendOptions.NONE);
    }

    /**
     * Sends a task. The task need not be registered here (it may live in another process or
     * language); when it is, its options supply the queue and priority the call does not give.
     */
    public AsyncResult send(String task, List<?> args, Map<String, ?> kwargs, SendOptions options) {
        TaskOptions defaults = registry.find(task).map(TaskDefinition::options).orElse(TaskOptions.DEFAULTS);
        Instant now = clock.instant();
        JsonNode a = Json.toTree(args == null ? List.of() : args);
        JsonNode k = Json.toTree(kwargs == null ? Map.of() : kwargs);
        String queue = options.queue() != null ? options.queue()
                : defaults.queue() != null ? defaults.queue() : config.get(Settings.TASK_DEFAULT_QUEUE);
        int priority = options.priority() != null ? options.priority()
                : defaults.priority() != null ? defaults.priority() : 0;
        boolean ignore = options.ignoreResult() != null ? options.ignoreResult() : defaults.ignoreResult();
        TaskMessage.Builder b = TaskMessage.builder(task)
                .args((ArrayNode) a).kwargs((ObjectNode) k)
                .queue(queue).priority(priority)
                .eta(options.etaFrom(now)).expires(options.expiresFrom(now))
                .ignoreResult(ignore);
        if (options.taskId() != null) {
            b.id(options.taskId());
        }
        if (options.timeLimit() != null || options.softTimeLimit() != null) {
            b.timeLimit(options.timeLimit() == null ? null : Durations.toSeconds(options.timeLimit()),
                    options.softTimeLimit() == null ? null : Durations.toSeconds(options.softTimeLimit()));
        }
        TaskContext parent = CurrentTask.get();
        if (parent != null) { // sent from inside a task: link the workflow as Celery does
            b.parentId(parent.id());
            JsonNode root = parent.headers().get("root_id");
            b.rootId(root != null && !root.isNull() ? root.asText() : parent.id());
        }
        options.headers().forEach(b::header);
        TaskMessage m = b.build();
        publish(queue, m);
        if (config.get(Settings.TASK_SEND_SENT_EVENT)) {
            sentEvent(queue, m);
        }
        return new AsyncResult(m.id(), results);
    }

    /** Celery's task-sent event (best effort: a send does not fail for it). */
    private void sentEvent(String queue, TaskMessage m) {
        ObjectNode e = Json.NODES.objectNode();
        e.put("hostname", "client@" + TaskMessage.hostName());
        e.put("utcoffset", 0);
        e.put("pid", ProcessHandle.current().pid());
        e.put("uuid", m.id());
        e.put("name", m.task());
        e.put("args", io.celeriac.protocol.PythonRepr.args(m.args()));
        e.put("kwargs", io.celeriac.protocol.PythonRepr.kwargs(m.kwargs()));
        e.put("retries", m.retries());
        e.put("queue", queue);
        e.put("exchange", "");
        e.put("routing_key", queue);
        e.put("root_id", m.rootId());
        e.put("parent_id", m.parentId());
        e.put("timestamp", System.currentTimeMillis() / 1000.0);
        e.put("type", "task-sent");
        try {
            broker.events().send(e);
        } catch (RuntimeException ex) {
            log.debug("task-sent event not sent: {}", ex.getMessage());
        }
    }

    /** Publishes a ready-made message (the ETA, if any, is in its headers). */
    public void publish(String queue, TaskMessage m) {
        Instant eta = broker.etaOnQueue() ? null : m.eta().orElse(null);
        BrokerMessage bm = new BrokerMessage(m.id(), MessageCodec.encode(m), Math.max(0, Math.min(9, m.priority())), eta);
        long deadline = System.nanoTime() + config.get(Settings.BROKER_PUBLISH_RETRY_TIMEOUT).toNanos();
        long delay = 50;
        boolean failed = false;
        while (true) {
            try {
                broker.publish(queue, bm);
                if (failed) {
                    log.warn("send {}: broker {} reachable again; sent", m.id(), broker.describe());
                }
                return;
            } catch (BrokerException e) {
                if (!e.recoverable() || System.nanoTime() + delay * 1_000_000 > deadline) {
                    throw e;
                }
                if (!failed) {
                    log.warn("send {}: {}; retrying with back-off for up to {}", m.id(), e.getMessage(),
                            Durations.format(config.get(Settings.BROKER_PUBLISH_RETRY_TIMEOUT)));
                    failed = true;
                }
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
                delay = Math.min(delay * 2, 2_000);
            }
        }
    }

    /**
     * Revokes a task: a worker will not start it, and with {@code terminate} one running it stops
     * it (the process pool kills its child; the thread pool interrupts its thread). The revocation
     * is kept for {@code result_expires}.
     */
    public void revoke(String taskId, boolean terminate) {
        broker.revoke(taskId, terminate, clock.instant().plus(config.get(Settings.RESULT_EXPIRES)));
    }

    /** A handle on any task id. */
    public AsyncResult result(String taskId) {
        return new AsyncResult(taskId, results);
    }

    @Override
    public void close() {
        synchronized (this) {
            if (coordination != null) {
                coordination.close();
            }
        }
        if (owns) {
            try {
                results.close();
            } finally {
                broker.close();
            }
        }
    }
}
