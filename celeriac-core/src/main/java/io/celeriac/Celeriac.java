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
 * The client side of an app: sends tasks and reads their results (Celery's {@code app.send_task},
 * {@code apply_async} and {@code AsyncResult}). Also what a worker uses to publish retries and
 * continuations. Thread-safe; open one per process and share it.
 *
 * <pre>{@code
 * Config config = Config.builder().set(Settings.BROKER_URL, "redis://localhost:6379/0").build();
 * try (Celeriac app = Celeriac.open(config, new TaskRegistry())) {
 *     AsyncResult r = app.send("add", 2, 3);                       // positional arguments
 *     int sum = r.get(Duration.ofSeconds(10), Integer.class);      // 5
 *
 *     app.send("scrape", List.of("https://example.org"), Map.of("depth", 2),
 *             SendOptions.options().withCountdown(Duration.ofSeconds(30)).withQueue("scraping"));
 *
 *     long typed = TaskRef.of("add", Long.class).delay(app, 2, 3).get();   // typed: see TaskRef, client(Class)
 *
 *     AsyncResult last = app.apply(Canvas.chain(Signature.of("add", 1, 2), Signature.of("mul", 10)));
 * }
 * }</pre>
 *
 * A send that cannot reach the broker is retried with back-off for up to
 * {@code broker_publish_retry_timeout}, then throws {@link BrokerException}.
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
    /** task_always_eager: the in-memory store this client runs its tasks from, or null. */
    private final String eagerUrl;
    private final EagerRunner eager;
    private Coordination coordination;
    private boolean ownsCoordination = true;
    private volatile io.celeriac.spi.EventChannel events;

    /**
     * A client over a broker and result store opened by the caller, who also closes them
     * ({@link #close()} does not). Most code uses {@link #open} instead.
     *
     * @param config   the settings (default queue, payload limit, retry time-out, …)
     * @param registry the tasks known here (their options supply a send's queue and priority); may be empty
     * @param broker   where messages go
     * @param results  where results are read
     * @param clock    the time source for countdowns, ETAs and expiry
     */
    public Celeriac(Config config, TaskRegistry registry, Broker broker, ResultStore results, Clock clock) {
        this(config, registry, broker, results, clock, false, null);
    }

    /**
     * A client over a broker, result store and coordination store opened by the caller, who also
     * closes them ({@link #close()} does not).
     *
     * @param config       the settings
     * @param registry     the tasks known here; may be empty
     * @param broker       where messages go
     * @param results      where results are read
     * @param coordination where presence, revocations, locks and records are
     * @param clock        the time source for countdowns, ETAs and expiry
     */
    public Celeriac(Config config, TaskRegistry registry, Broker broker, ResultStore results, Coordination coordination,
                    Clock clock) {
        this(config, registry, broker, results, clock, false, null);
        this.coordination = Objects.requireNonNull(coordination);
        this.ownsCoordination = false;
    }

    private Celeriac(Config config, TaskRegistry registry, Broker broker, ResultStore results, Clock clock, boolean owns,
                     String eagerUrl) {
        this.config = Objects.requireNonNull(config);
        this.registry = Objects.requireNonNull(registry);
        this.broker = Objects.requireNonNull(broker);
        this.results = Objects.requireNonNull(results);
        this.clock = Objects.requireNonNull(clock);
        this.owns = owns;
        registry.annotate(io.celeriac.config.TaskAnnotations.of(config));
        this.eagerUrl = eagerUrl;
        // eager: an ETA is not waited for (as Celery's apply), so the message goes on its queue at once
        this.dispatch = Dispatch.of(registry, io.celeriac.config.TaskRoutes.of(config), config.get(Settings.TASK_DEFAULT_QUEUE),
                clock, eagerUrl != null || broker.etaOnQueue());
        this.eager = eagerUrl != null ? new EagerRunner(this) : null;
    }

    /**
     * Opens the broker and result store named in {@code config}; {@link #close()} closes them. With
     * {@code task_always_eager} nothing is opened: the client runs what it sends itself ({@link #eager}).
     *
     * @param config   the settings, with at least the broker URL
     * @param registry the tasks known here; may be empty for a pure client
     * @return an open client
     * @throws ConfigException  a URL whose scheme no backend on the class path handles
     * @throws BrokerException  the broker or result store cannot be reached
     */
    public static Celeriac open(Config config, TaskRegistry registry) {
        return config.get(Settings.TASK_ALWAYS_EAGER) ? eagerClient(config, registry) : connect(config, registry);
    }

    /**
     * Opens the broker and result store named in {@code config} whatever {@code task_always_eager}
     * says: what workers and beat use (they consume and publish for real; as Celery, whose
     * {@code send_task} is never eager).
     */
    public static Celeriac connect(Config config, TaskRegistry registry) {
        Broker broker = Backends.openBroker(config);
        try {
            ResultStore results = Backends.openResultStore(config);
            return new Celeriac(config, registry, broker, results, Clock.systemUTC(), true, null);
        } catch (RuntimeException e) {
            broker.close();
            throw e;
        }
    }

    private static Celeriac eagerClient(Config config, TaskRegistry registry) {
        String url = "memory://celeriac-eager-" + java.util.UUID.randomUUID();
        io.celeriac.spi.InMemoryBackend memory = new io.celeriac.spi.InMemoryBackend();
        return new Celeriac(config, registry, memory.openBroker(url, config), memory.openResultStore(url, config),
                Clock.systemUTC(), true, url);
    }

    /**
     * A client that runs every task it sends at once, in the sending thread, with no broker (Celery's
     * {@code task_always_eager}), for unit tests of an app's tasks:
     *
     * <pre>{@code
     * try (Celeriac app = Celeriac.eager(new TaskRegistry().register(new Maths()))) {
     *     assertEquals(5, app.send("add", 2, 3).get(Duration.ofSeconds(1), Integer.class));
     * }
     * }</pre>
     *
     * A send returns with the result stored (a failure as FAILURE, which {@code get} throws as
     * {@link TaskFailedException}); retries run again at once; chains, groups and chords run in order.
     */
    public static Celeriac eager(TaskRegistry registry) {
        return eager(Config.defaults(), registry);
    }

    /** {@link #eager(TaskRegistry)} with settings ({@code task_eager_propagates}, {@code task_annotations}, …). */
    public static Celeriac eager(Config config, TaskRegistry registry) {
        return open(config.toBuilder().set(Settings.TASK_ALWAYS_EAGER, true).build(), registry);
    }

    /** Whether this client runs what it sends itself ({@code task_always_eager}). */
    public boolean isEager() { return eager != null; }

    /** @return the settings this client was opened with */
    public Config config() { return config; }

    /** @return the tasks known to this client */
    public TaskRegistry registry() { return registry; }

    /** @return the broker messages are published to (the SPI, for workers and tools) */
    public Broker broker() { return broker; }

    /** @return the result store results are read from (the SPI, for workers and tools) */
    public ResultStore results() { return results; }

    /** @return the clock used for countdowns, ETAs and expiry */
    public Clock clock() { return clock; }

    /**
     * How this client turns signatures into messages (for the worker, which commits them with results).
     *
     * @return the dispatcher
     */
    public Dispatch dispatch() { return dispatch; }

    /**
     * Presence, revocations, locks and records (workers, beat, health records, the CLI's tools);
     * opened on first use unless given to the constructor.
     *
     * @return the coordination store named by {@code coordination_url}, else the result backend's, else the broker's
     */
    public synchronized Coordination coordination() {
        if (coordination == null) {
            coordination = eagerUrl != null ? new io.celeriac.spi.InMemoryBackend().openCoordination(eagerUrl, config)
                    : Backends.openCoordination(config);
        }
        return coordination;
    }

    /**
     * Inspect and control requests to workers (the broker's channel; a broker without a native
     * broadcast finds the workers in {@link #coordination()}).
     *
     * @return the control channel
     */
    public io.celeriac.spi.ControlChannel control() {
        return broker.control(coordination());
    }

    /**
     * Celery's events (the broker's channel; a broker without a native broadcast finds the
     * listeners in {@link #coordination()}).
     *
     * @return the event channel
     */
    public io.celeriac.spi.EventChannel events() {
        io.celeriac.spi.EventChannel e = events;
        if (e == null) {
            e = broker.events(coordination());
            events = e;
        }
        return e;
    }

    /**
     * Sends a task with positional arguments and default options (Celery's {@code send_task(name, args)}).
     *
     * @param task the task's name
     * @param args its positional arguments, written as JSON
     * @return a handle on the task's result
     * @throws MessageTooLargeException the arguments are over {@code task_payload_max_bytes}
     * @throws BrokerException          the broker stayed unreachable for {@code broker_publish_retry_timeout}
     */
    public AsyncResult send(String task, Object... args) {
        return send(task, Arrays.asList(args), Map.of(), SendOptions.NONE);
    }

    /**
     * Sends a task. The task need not be registered here (it may live in another process or
     * language); when it is, its options supply the queue and priority the call does not give.
     *
     * @param task    the task's name
     * @param args    positional arguments (JSON-serialisable values)
     * @param kwargs  keyword arguments
     * @param options countdown, ETA, expiry, queue, priority, task id, links, … ({@link SendOptions#NONE}: none)
     * @return a handle on the task's result
     * @throws MessageTooLargeException the arguments are over {@code task_payload_max_bytes}
     * @throws IllegalArgumentException the task name or id has control characters
     * @throws BrokerException          the broker stayed unreachable for {@code broker_publish_retry_timeout}
     */
    public AsyncResult send(String task, List<?> args, Map<String, ?> kwargs, SendOptions options) {
        return apply(Signature.of(task, args, kwargs).set(options));
    }

    /**
     * Applies a signature — a task, a chain (the result is its last step's, with the earlier steps
     * as its parents) or a chord (the body's result, with the header as its parent group) — as
     * Celery's {@code apply_async} does. A group gives a {@link GroupResult}: use {@link #applyGroup}.
     *
     * @param signature what to run
     * @return the result of the task, of the chain's last step or of the chord's body
     * @throws IllegalArgumentException the signature is (or ends in) a group, or has no tasks
     * @throws BrokerException          the broker stayed unreachable for {@code broker_publish_retry_timeout}
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
     * Sends many tasks (or canvases) at once: planned and checked first (nothing is sent when one
     * is refused), then published together, on the SQL brokers in one transaction. Much faster than
     * one {@link #apply} after another for a batch (with a chord among them, all go through the
     * result store's commit, as a chord's messages do).
     *
     * @param signatures what to run, each as {@link #apply} would; no group (use {@link #applyGroup})
     * @return their results, in the same order
     * @throws IllegalArgumentException a signature is (or ends in) a group, or has no tasks
     * @throws MessageTooLargeException a task's arguments are over {@code task_payload_max_bytes}
     * @throws BrokerException          the broker stayed unreachable for {@code broker_publish_retry_timeout}
     */
    public List<AsyncResult> sendMany(List<Signature> signatures) {
        Dispatch.Plan plan = new Dispatch.Plan(currentParent());
        List<io.celeriac.canvas.Ref> refs = new java.util.ArrayList<>(signatures.size());
        for (Signature s : signatures) {
            if (s.kind() == Signature.Kind.GROUP || s.kind() == Signature.Kind.CHUNKS) {
                throw new IllegalArgumentException("a group's outcome is a GroupResult: apply it with applyGroup(" + s + ")");
            }
            io.celeriac.canvas.Ref ref = dispatch.apply(plan, s, null, null, null);
            if (ref == null || ref.isGroup()) {
                throw new IllegalArgumentException(ref == null ? "nothing to apply: " + s + " has no tasks"
                        : "this canvas ends in a group: apply it with applyGroup(" + s + ")");
            }
            refs.add(ref);
        }
        plan.messages().forEach(this::checkOutgoing); // all refused before any is sent
        if (plan.chordSizes().isEmpty()) {
            publishAll("send " + signatures.size() + " tasks", plan.publications());
        } else {
            withPublishRetry("send " + signatures.size() + " tasks",
                    () -> results.settle(List.of(io.celeriac.spi.Settlement.of(plan.effects())), broker));
        }
        if (config.get(Settings.TASK_SEND_SENT_EVENT)) {
            plan.messages().forEach(m -> sentEvent(m.routingKey(), m));
        }
        runEager();
        List<AsyncResult> out = new java.util.ArrayList<>(refs.size());
        refs.forEach(r -> out.add(asyncResult(r)));
        return out;
    }

    /**
     * Celery's {@code signature.apply_async(args, kwargs, **options)} in full: partial arguments and
     * Celery's options (parent_id, group_id, countdown, …) merged in; returns what was promised.
     *
     * @param signature what to run
     * @param args      positional arguments put before the signature's own; may be null
     * @param kwargs    keyword arguments merged over the signature's own; may be null
     * @param options   Celery's option names and values; may be null
     * @return the ids given to what was sent (a task, a group, a chain's steps)
     */
    public io.celeriac.canvas.Ref applyAsync(Signature signature, ArrayNode args, ObjectNode kwargs, ObjectNode options) {
        return commit(signature, args, kwargs, options);
    }

    /**
     * Commits effects (messages, results, chord sizes) through the result store, atomically where it can.
     *
     * @param effects what to commit
     */
    public void commit(io.celeriac.spi.Effects effects) {
        withPublishRetry("commit", () -> results.settle(List.of(io.celeriac.spi.Settlement.of(effects)), broker));
        runEager();
    }

    /** task_always_eager: runs what was just sent (and what it causes) before the send returns. */
    private void runEager() {
        if (eager != null) {
            eager.drain();
        }
    }

    /**
     * The task running on this thread as a parent for what it sends.
     *
     * @return its id and root id, or null outside a task
     */
    public static Dispatch.Parent currentParent() {
        TaskContext parent = CurrentTask.get();
        if (parent == null) {
            return null;
        }
        JsonNode root = parent.headers().get("root_id");
        return new Dispatch.Parent(parent.id(), root != null && !root.isNull() ? root.asText() : parent.id());
    }

    /**
     * Applies a group (or anything that ends in one) and saves it, so {@link #restoreGroup} finds it by id.
     *
     * @param signature a group, or a canvas that ends in one
     * @return the group's results
     * @throws IllegalArgumentException the signature does not end in a group
     */
    public GroupResult applyGroup(Signature signature) {
        io.celeriac.canvas.Ref ref = commit(signature);
        if (ref == null || !ref.isGroup()) {
            throw new IllegalArgumentException(signature + " is not a group: apply it with apply()");
        }
        results.saveGroup(ref.id(), ref.asTuple());
        return groupResult(ref);
    }

    /**
     * A group saved by {@link #applyGroup} or Python's {@code GroupResult.save()}, by id.
     *
     * @param groupId the group's id
     * @return the group's results; empty when no such group is saved (or it expired)
     */
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
            publishAll("send " + signature, plan.publications());
        } else {
            withPublishRetry("send " + signature, () -> results.settle(List.of(io.celeriac.spi.Settlement.of(plan.effects())), broker));
        }
        if (config.get(Settings.TASK_SEND_SENT_EVENT)) {
            plan.messages().forEach(m -> sentEvent(m.routingKey(), m));
        }
        runEager();
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
            events().send(e);
        } catch (RuntimeException ex) {
            log.debug("task-sent event not sent: {}", ex.getMessage());
        }
    }

    /**
     * Publishes a ready-made message (the ETA, if any, is in its headers).
     *
     * @param queue the queue to put it on
     * @param m     the message
     * @throws MessageTooLargeException its arguments are over {@code task_payload_max_bytes}
     */
    public void publish(String queue, TaskMessage m) {
        checkOutgoing(m);
        publish(queue, dispatch.toBroker(m));
        runEager();
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

    /** Publishes many messages in as few round trips as the broker can, retrying what is left while it is unreachable. */
    private void publishAll(String what, List<io.celeriac.spi.Publication> publications) {
        if (publications.size() == 1) {
            publish(publications.get(0).queue(), publications.get(0).message());
            return;
        }
        List<io.celeriac.spi.Publication> left = new java.util.ArrayList<>(publications);
        withPublishRetry(what, () -> broker.publishAll(left));
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
     * is kept for {@code result_expires}, and broadcast as Celery's {@code revoke} control
     * command so Python workers on the same broker obey it too.
     *
     * @param taskId    the task's id
     * @param terminate also stop it if it is running now
     */
    public void revoke(String taskId, boolean terminate) {
        coordination().revoke(taskId, terminate, clock.instant().plus(config.get(Settings.RESULT_EXPIRES)));
        // and as Celery's app.control.revoke: a broadcast, so Python workers sharing the broker obey it too
        ObjectNode args = Json.NODES.objectNode();
        args.put("task_id", taskId);
        args.put("terminate", terminate);
        args.put("signal", "SIGTERM");
        try {
            control().cast("revoke", args, null);
        } catch (RuntimeException e) {
            log.warn("revoke {}: recorded, but the broadcast to workers failed: {}", taskId, e.getMessage());
        }
    }

    /**
     * A typed client: an implementation of {@code type} whose {@link Task} methods send their task
     * (by the {@code @Task} name, so Python workers and tasks keep working) with the method's
     * parameters as positional arguments ({@link Kwarg} ones as keyword arguments, a
     * {@link SendOptions} parameter as the call's options). What a method returns says what it does:
     * <ul>
     *   <li>the task's value ({@code Report}, {@code long}, {@code List<Report>}, {@code Void}): sends,
     *       waits up to {@code result_timeout} (or {@link TaskClient#resultTimeout}) and converts the
     *       result with Jackson; a failure throws {@link TaskFailedException}, a result of another
     *       shape {@link ResultTypeException};</li>
     *   <li>{@code TypedResult<R>} or {@code AsyncResult}: sends and returns the handle;</li>
     *   <li>{@code void}: sends, fire-and-forget.</li>
     * </ul>
     * Default methods without {@code @Task} run their own body. The interface may be one a worker's
     * task class implements ({@link TaskRegistry#register(Object)} registers the implementation
     * under the interface's names); {@link TypedResult#async} then gives any method's async variant.
     *
     * <pre>{@code
     * Facts facts = app.client(Facts.class);
     * Report r = facts.scrape("wire-agency");
     * }</pre>
     *
     * @param <T>  the interface
     * @param type the interface
     * @return the client, thread-safe
     * @throws IllegalArgumentException {@code type} is not an interface, or one of its methods has no
     *         task name, an unsupported return or parameter type (one line naming every such method)
     */
    public <T> T client(Class<T> type) {
        return ClientProxy.create(this, type);
    }

    /**
     * A handle on any task id (Celery's {@code AsyncResult(id)}), sent from here or elsewhere.
     *
     * @param taskId the task's id
     * @return a handle reading its stored state
     */
    public AsyncResult result(String taskId) {
        return new AsyncResult(taskId, results);
    }

    /** Closes the coordination store if it opened it, and the broker and result store if {@link #open} opened them. */
    @Override
    public void close() {
        synchronized (this) {
            if (coordination != null && ownsCoordination) {
                coordination.close();
            }
        }
        if (owns) {
            try {
                results.close();
            } finally {
                broker.close();
                if (eagerUrl != null) {
                    io.celeriac.spi.InMemoryBackend.drop(eagerUrl);
                }
            }
        }
    }
}
