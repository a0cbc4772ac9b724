package io.celeriac;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.config.Config;
import io.celeriac.config.Durations;
import io.celeriac.config.Settings;
import io.celeriac.canvas.Dispatch;
import io.celeriac.internal.CurrentTask;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
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
    private final Dispatch dispatch;
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
        this.dispatch = Dispatch.of(registry, config.get(Settings.TASK_DEFAULT_QUEUE), clock, broker.etaOnQueue());
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

    /** How this client turns signatures into messages (for the worker, which commits them with results). */
    public Dispatch dispatch() { return dispatch; }

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
        return apply(Signature.of(task, args, kwargs).set(options));
    }

    /**
     * Applies a signature — a task, a chain (the result is its last step's, with the earlier steps
     * as its parents) or a chord (the body's result, with the header as its parent group) — as
     * Celery's {@code apply_async} does. A group gives a {@link GroupResult}: use {@link #applyGroup}.
     */
    public AsyncResult apply(Signature signature) {
        if (signature.kind() == Signature.Kind.GROUP || signature.kind() == Signature.Kind.CHUNKS) {
            throw new IllegalArgumentException("a group's outcome is a GroupResult: apply it with applyGroup(" + signature + ")");
        }
        io.celeriac.canvas.Ref ref = commit(signature);
        if (ref == null) {
            throw new IllegalArgumentException("nothing to apply: " + signature + " has no tasks");
        }
        if (ref.isGroup()) {
            throw new IllegalArgumentException("this canvas ends in a group: apply it with applyGroup(" + signature + ")");
        }
        return asyncResult(ref);
    }

    /**
     * Celery's {@code signature.apply_async(args, kwargs, **options)} in full: partial arguments and
     * Celery's options (parent_id, group_id, countdown, …) merged in; returns what was promised.
     */
    public io.celeriac.canvas.Ref applyAsync(Signature signature, ArrayNode args, ObjectNode kwargs, ObjectNode options) {
        return commit(signature, args, kwargs, options);
    }

    /** Commits effects (messages, results, chord sizes) through the result store, atomically where it can. */
    public void commit(io.celeriac.spi.Effects effects) {
        withPublishRetry("commit", () -> results.settle(List.of(io.celeriac.spi.Settlement.of(effects)), broker));
    }

    /** The task running on this thread as a parent for what it sends, or null. */
    public static Dispatch.Parent currentParent() {
        TaskContext parent = CurrentTask.get();
        if (parent == null) {
            return null;
        }
        JsonNode root = parent.headers().get("root_id");
        return new Dispatch.Parent(parent.id(), root != null && !root.isNull() ? root.asText() : parent.id());
    }

    /** Applies a group (or anything that ends in one) and saves it, so {@link #restoreGroup} finds it by id. */
    public GroupResult applyGroup(Signature signature) {
        io.celeriac.canvas.Ref ref = commit(signature);
        if (ref == null || !ref.isGroup()) {
            throw new IllegalArgumentException(signature + " is not a group: apply it with apply()");
        }
        results.saveGroup(ref.id(), ref.asTuple());
        return groupResult(ref);
    }

    /** A group saved by {@link #applyGroup} or Python's {@code GroupResult.save()}, by id. */
    public Optional<GroupResult> restoreGroup(String groupId) {
        return results.group(groupId).map(io.celeriac.canvas.Ref::fromTuple).filter(r -> r != null && r.isGroup())
                .map(this::groupResult);
    }

    private AsyncResult asyncResult(io.celeriac.canvas.Ref ref) {
        io.celeriac.canvas.Ref p = ref.parent();
        if (p == null) {
            return new AsyncResult(ref.id(), results);
        }
        return p.isGroup() ? new AsyncResult(ref.id(), results, null, groupResult(p))
                : new AsyncResult(ref.id(), results, asyncResult(p), null);
    }

    private GroupResult groupResult(io.celeriac.canvas.Ref ref) {
        List<AsyncResult> members = new java.util.ArrayList<>();
        ref.members().forEach(m -> members.add(asyncResult(m)));
        return new GroupResult(ref.id(), members);
    }

    /** Plans the messages of a signature and commits them: chord sizes first, atomically with the messages where the store can. */
    private io.celeriac.canvas.Ref commit(Signature signature) {
        return commit(signature, null, null, null);
    }

    private io.celeriac.canvas.Ref commit(Signature signature, ArrayNode args, ObjectNode kwargs, ObjectNode options) {
        // sent from inside a task: linked to it as Celery links a workflow (parent_id, root_id)
        Dispatch.Plan plan = new Dispatch.Plan(currentParent());
        io.celeriac.canvas.Ref ref = dispatch.apply(plan, signature, args, kwargs, options);
        plan.messages().forEach(this::checkOutgoing); // all refused before any is sent
        if (plan.chordSizes().isEmpty()) {
            plan.publications().forEach(p -> publish(p.queue(), p.message()));
        } else {
            withPublishRetry("send " + signature, () -> results.settle(List.of(io.celeriac.spi.Settlement.of(plan.effects())), broker));
        }
        if (config.get(Settings.TASK_SEND_SENT_EVENT)) {
            plan.messages().forEach(m -> sentEvent(m.routingKey(), m));
        }
        return ref;
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
        checkOutgoing(m);
        publish(queue, dispatch.toBroker(m));
    }

    /**
     * Refuses, before anything is sent, a message no worker should get: a task name or id with
     * control characters (a newline would forge lines in the worker's log), or arguments over
     * {@code task_payload_max_bytes}, which the worker would dead-letter.
     */
    private void checkOutgoing(TaskMessage m) {
        if (io.celeriac.protocol.LogText.hasControl(m.task())) {
            throw new IllegalArgumentException("task name '" + io.celeriac.protocol.LogText.escape(m.task())
                    + "' has control characters (newline, tab, escape, ...); a task name is one line of printable text");
        }
        if (io.celeriac.protocol.LogText.hasControl(m.id())) {
            throw new IllegalArgumentException("task id '" + io.celeriac.protocol.LogText.escape(m.id()) + "' of task '"
                    + m.task() + "' has control characters (newline, tab, escape, ...); an id is one line of printable text");
        }
        long limit = config.get(Settings.TASK_PAYLOAD_MAX_BYTES);
        long bytes = io.celeriac.protocol.PayloadLimit.bodyBytes(m);
        if (bytes > limit) {
            throw new MessageTooLargeException(io.celeriac.protocol.PayloadLimit.over(
                    "not sent: the arguments of task '" + m.task() + "' [" + m.id() + "] are", bytes, limit)
                    + "; send a reference to the data (a path, a URL, a key) or raise the limit on clients and workers");
        }
    }

    private void publish(String queue, BrokerMessage bm) {
        withPublishRetry("send " + bm.taskId(), () -> broker.publish(queue, bm));
    }

    /** Runs a send, retrying with back-off while the broker is unreachable, for up to broker_publish_retry_timeout. */
    private void withPublishRetry(String what, Runnable send) {
        long deadline = System.nanoTime() + config.get(Settings.BROKER_PUBLISH_RETRY_TIMEOUT).toNanos();
        long delay = 50;
        boolean failed = false;
        while (true) {
            try {
                send.run();
                if (failed) {
                    log.warn("{}: broker {} reachable again; sent", what, broker.describe());
                }
                return;
            } catch (BrokerException e) {
                // a full disk is not waited for: it takes an operator, and the caller hears of it at once
                if (!e.recoverable() || e instanceof StorageFullException || System.nanoTime() + delay * 1_000_000 > deadline) {
                    throw e;
                }
                if (!failed) {
                    log.warn("{}: {}; retrying with back-off for up to {}", what, e.getMessage(),
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
        // and as Celery's app.control.revoke: a broadcast, so Python workers sharing the broker obey it too
        ObjectNode args = Json.NODES.objectNode();
        args.put("task_id", taskId);
        args.put("terminate", terminate);
        args.put("signal", "SIGTERM");
        try {
            broker.control().cast("revoke", args, null);
        } catch (RuntimeException e) {
            log.warn("revoke {}: recorded, but the broadcast to workers failed: {}", taskId, e.getMessage());
        }
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
