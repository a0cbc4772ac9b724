package io.celeriac.worker;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.ResultStore;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker: consumes queues, runs tasks in a pool, records results, acks, beats.
 *
 * <p>Services start in order (heartbeat, slots, consumer) and stop in reverse. One consumer thread
 * reserves up to {@code concurrency × prefetch_multiplier} messages into a local buffer, and
 * {@code concurrency} slot threads each take one at a time through {@link RequestHandler}.
 *
 * <p>{@link #shutdown()} is Celery's warm shutdown: stop consuming, give buffered messages back to
 * the broker, let running tasks finish (and be acked), go offline. {@link #shutdownNow()} is the
 * cold one: also give back the messages of running tasks, at once, so another worker runs them.
 */
public final class Worker {
    public static final String VERSION = "0.1.0";
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");
    private static final Duration POLL_SLICE = Duration.ofMillis(250);

    private final WorkerOptions options;
    private final TaskRegistry registry;
    private final Broker broker;
    private final WorkerPool pool;
    private final WorkerStats stats = new WorkerStats();
    private final RequestHandler handler;
    private final Finisher finisher;
    private final Heartbeat heartbeat;
    private final Revocations revocations;
    private final ControlServer control;
    private final LinkedBlockingQueue<Delivery> buffer = new LinkedBlockingQueue<>();
    private final Map<Delivery, Thread> running = new ConcurrentHashMap<>();
    private final CountDownLatch terminated = new CountDownLatch(1);
    /** The client this worker's tasks send with (and its control commands revoke with). */
    private final Celeriac app;
    /** Messages reserved and not yet run to the end (buffered + running): bounded by the prefetch limit. */
    private final java.util.concurrent.atomic.AtomicInteger held = new java.util.concurrent.atomic.AtomicInteger();
    private final List<Thread> slots = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The queues consumed now (add_consumer / cancel_consumer change them). */
    private final List<String> queues = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** Slots running now (pool_grow / pool_shrink change it), and slots asked to retire. */
    private final java.util.concurrent.atomic.AtomicInteger concurrency = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger slotsToRetire = new java.util.concurrent.atomic.AtomicInteger();
    private Thread consumer;
    private volatile boolean consuming;
    private volatile boolean accepting;
    private volatile boolean cold;

    public Worker(WorkerOptions options, TaskRegistry registry, Broker broker, ResultStore results, Clock clock) {
        this.options = Objects.requireNonNull(options);
        this.registry = Objects.requireNonNull(registry);
        this.broker = Objects.requireNonNull(broker);
        this.app = new Celeriac(options.config(), registry, broker, results, clock);
        HealthCheckTask.register(registry, () -> app, options);
        this.pool = "threads".equals(options.pool()) ? new ThreadPool() : new ProcessPool(options);
        this.finisher = new Finisher(results, broker, () -> cold);
        this.revocations = new Revocations(broker, r -> terminate(r.taskId()));
        this.handler = new RequestHandler(options, registry, broker, results, pool, stats, clock, () -> cold, finisher,
                revocations, () -> app);
        this.heartbeat = new Heartbeat(broker, options, stats, pool, registry.names(), revocations::refresh,
                handler.events());
        this.control = new ControlServer(broker, options.nodeName(), controlMethods());
    }

    /** What {@code celeriac inspect} can ask this worker, by method name (Celery's names and reply shapes). */
    private Map<String, java.util.function.Function<com.fasterxml.jackson.databind.JsonNode, com.fasterxml.jackson.databind.JsonNode>> controlMethods() {
        Map<String, java.util.function.Function<com.fasterxml.jackson.databind.JsonNode, com.fasterxml.jackson.databind.JsonNode>> m =
                new java.util.LinkedHashMap<>();
        m.put("ping", args -> io.celeriac.protocol.Json.NODES.objectNode().put("ok", "pong"));
        m.put("stats", args -> inspectStats());
        m.put("active", args -> handler.active());
        m.put("reserved", args -> inspectReserved());
        m.put("scheduled", args -> inspectScheduled());
        m.put("registered", args -> io.celeriac.protocol.Json.toTree(registry.names().stream().sorted().toList()));
        m.put("revoked", args -> io.celeriac.protocol.Json.toTree(revocations.knownIds()));
        m.put("conf", args -> inspectConf());
        // control (Celery's method and argument names, so Python's `celery control` works too)
        m.put("shutdown", args -> {
            Thread t = new Thread(this::shutdown, "celeriac-remote-shutdown");
            t.setDaemon(true);
            t.start();
            return ok("shutting down: finishing the running tasks");
        });
        m.put("pool_grow", args -> ok(resize(args.path("n").asInt(1))));
        m.put("pool_shrink", args -> ok(resize(-args.path("n").asInt(1))));
        m.put("rate_limit", args -> {
            String task = requireTask(args.path("task_name").asText(null));
            String rate = args.path("rate_limit").isNull() ? "" : args.path("rate_limit").asText("");
            handler.rateLimits.set(task, rate);
            return ok(rate.isBlank() || RateLimits.intervalNanos(rate) == 0 ? "rate limit of " + task + " disabled"
                    : "new rate limit set successfully: " + task + " " + rate);
        });
        m.put("time_limit", args -> {
            String task = requireTask(args.path("task_name").asText(null));
            Duration soft = io.celeriac.config.Durations.ofSeconds(args.path("soft").asDouble(0));
            Duration hard = io.celeriac.config.Durations.ofSeconds(args.path("hard").asDouble(0));
            if (!hard.isZero() && !soft.isZero() && soft.compareTo(hard) >= 0) {
                throw new IllegalArgumentException("the soft limit (" + soft.toMillis() / 1000.0 + " s) must be below the hard one ("
                        + hard.toMillis() / 1000.0 + " s)");
            }
            handler.limitOverrides.put(task, new TimeLimits(soft, hard));
            return ok("time limits set successfully: " + task + " soft " + soft.toMillis() / 1000.0 + " s, hard "
                    + hard.toMillis() / 1000.0 + " s");
        });
        m.put("revoke", args -> {
            List<String> ids = new ArrayList<>();
            com.fasterxml.jackson.databind.JsonNode id = args.path("task_id");
            if (id.isArray()) {
                id.forEach(i -> ids.add(i.asText()));
            } else if (id.isTextual()) {
                ids.add(id.asText());
            }
            if (ids.isEmpty()) {
                throw new IllegalArgumentException("revoke needs a task_id");
            }
            boolean terminate = args.path("terminate").asBoolean(false);
            ids.forEach(i -> app.revoke(i, terminate));
            revocations.refresh();
            return ok("tasks " + ids + " flagged as revoked" + (terminate ? " (terminate)" : ""));
        });
        m.put("add_consumer", args -> {
            String q = args.path("queue").asText("");
            if (q.isBlank()) {
                throw new IllegalArgumentException("add_consumer needs a queue");
            }
            if (queues.contains(q)) {
                return ok("already consuming from " + q);
            }
            queues.add(q);
            log.info("{}: now consuming from queue {}", options.nodeName(), q);
            return ok("add consumer " + q);
        });
        m.put("cancel_consumer", args -> {
            String q = args.path("queue").asText("");
            if (!queues.remove(q)) {
                return ok("not consuming from " + q);
            }
            log.info("{}: no longer consuming from queue {}", options.nodeName(), q);
            return ok("no longer consuming from " + q);
        });
        return m;
    }

    private static com.fasterxml.jackson.databind.node.ObjectNode ok(String what) {
        return io.celeriac.protocol.Json.NODES.objectNode().put("ok", what);
    }

    private String requireTask(String name) {
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a task_name is needed");
        }
        if (registry.find(name).isEmpty()) {
            throw new IllegalArgumentException("unknown task '" + name + "'");
        }
        return name;
    }

    /** pool_grow / pool_shrink: more or fewer slots (and children, in the process pool); never below one. */
    private synchronized String resize(int delta) {
        if (delta == 0) {
            return "pool unchanged";
        }
        if (delta < 0) {
            delta = -Math.min(-delta, concurrency.get() - 1);
            if (delta == 0) {
                throw new IllegalArgumentException("the pool has one slot; it cannot shrink further");
            }
        }
        pool.resize(delta);
        concurrency.addAndGet(delta);
        if (delta > 0) {
            for (int i = 0; i < delta; i++) {
                startSlot();
            }
        } else {
            slotsToRetire.addAndGet(-delta);
        }
        log.info("{}: pool {} by {} to {}", options.nodeName(), delta > 0 ? "grew" : "shrank", Math.abs(delta), concurrency.get());
        return delta > 0 ? "pool will grow" : "pool will shrink";
    }

    private final long startedAtMillis = System.currentTimeMillis();

    private com.fasterxml.jackson.databind.node.ObjectNode inspectStats() {
        var o = heartbeat.state("stats");
        o.put("uptime", (System.currentTimeMillis() - startedAtMillis) / 1000);
        o.put("prefetch_count", prefetchLimit());
        o.put("concurrency", concurrency.get());
        o.set("queues", io.celeriac.protocol.Json.toTree(List.copyOf(queues)));
        var limits = o.putObject("rate_limits");
        handler.rateLimits.intervals().forEach((task, ns) -> limits.put(task, String.format("%.3f/s", 1e9 / ns)));
        o.put("broker", broker.describe());
        var total = o.putObject("total");
        new java.util.TreeMap<>(stats.total).forEach((name, n) -> total.put(name, n.get()));
        var rusage = o.putObject("rusage");
        rusage.put("maxrss", Math.max(0, ChildProcess.rssKib(ProcessHandle.current().pid()))); // 0 where unknown
        return o;
    }

    /** Messages reserved ahead and not started yet (in this worker's buffer). */
    private com.fasterxml.jackson.databind.JsonNode inspectReserved() {
        var out = Inspection.array();
        for (Delivery d : buffer.toArray(new Delivery[0])) {
            try {
                out.add(Inspection.request(io.celeriac.protocol.MessageCodec.decode(d.payload()), d.queue(), options.nodeName(),
                        d.redelivered()));
            } catch (RuntimeException malformed) {
                // it goes to the dead-letter queue when its turn comes
            }
        }
        return out;
    }

    /**
     * Tasks waiting for their ETA (countdown, eta, retry back-off) on this worker's queues, in
     * Celery's shape. They wait in the broker, not in this worker, so workers sharing a queue list
     * the same ones.
     */
    private com.fasterxml.jackson.databind.JsonNode inspectScheduled() {
        var out = Inspection.array();
        for (String q : List.copyOf(queues)) {
            for (Broker.Scheduled s : broker.scheduled(q, 100)) {
                try {
                    var m = io.celeriac.protocol.MessageCodec.decode(s.payload());
                    var o = out.addObject();
                    o.put("eta", io.celeriac.protocol.CeleryTime.format(s.due()));
                    o.put("priority", m.priority());
                    o.set("request", Inspection.request(m, q, options.nodeName(), false));
                } catch (RuntimeException malformed) {
                    // it goes to the dead-letter queue when it comes due
                }
            }
        }
        return out;
    }

    /** The effective settings, with passwords in URLs masked. */
    private com.fasterxml.jackson.databind.JsonNode inspectConf() {
        var o = io.celeriac.protocol.Json.NODES.objectNode();
        options.config().describe().forEach((k, v) -> o.put(k, io.celeriac.config.Secrets.redact(v)));
        return o;
    }

    private void terminate(String taskId) {
        if (handler != null) {
            handler.terminate(taskId);
        }
    }

    public WorkerOptions options() {
        return options;
    }

    public WorkerStats stats() {
        return stats;
    }

    /** "threads (virtual)", "process (2 child JVMs)" and the like. */
    public String poolDescription() {
        return pool.describe();
    }

    /** The pool's own figures (child pids, recycled children, time-limit kills, stuck threads, …). */
    public Map<String, Object> poolStats() {
        return pool.stats();
    }

    public synchronized void start() {
        if (consumer != null) {
            throw new IllegalStateException("worker already started");
        }
        warnOnDuplicateNodeName();
        pool.start();
        heartbeat.start();
        control.start();
        finisher.start();
        accepting = true;
        consuming = true;
        queues.addAll(options.queues());
        concurrency.set(options.concurrency());
        for (int i = 0; i < options.concurrency(); i++) {
            startSlot();
        }
        consumer = new Thread(this::consumeLoop, "celeriac-consumer");
        consumer.setDaemon(true);
        consumer.start();
        Thread reaper = new Thread(this::awaitSlotsThenGoOffline, "celeriac-shutdown");
        reaper.setDaemon(true);
        reaper.start();
        log.info("{} ready: pool {}, concurrency {}, queues {}", options.nodeName(), pool.describe(),
                options.concurrency(), options.queues());
    }

    private void warnOnDuplicateNodeName() {
        try {
            var other = broker.nodes().get(options.nodeName());
            long fresh = 3 * options.heartbeatInterval().toMillis();
            if (other != null && System.currentTimeMillis() - other.at().toEpochMilli() < fresh && !deadHereBefore(other.json())) {
                log.warn("another worker named {} sent a heartbeat {} ms ago; give each worker its own name"
                        + " (--hostname) or their heartbeats will mix", options.nodeName(),
                        System.currentTimeMillis() - other.at().toEpochMilli());
            }
        } catch (RuntimeException e) {
            log.debug("could not check for duplicate node names: {}", e.getMessage());
        }
    }

    /** A heartbeat left by a process of this host that has died (a worker restarted after a crash). */
    private static boolean deadHereBefore(String beat) {
        try {
            long pid = io.celeriac.protocol.Json.read(beat).path("pid").asLong(-1);
            return pid > 0 && ProcessHandle.of(pid).map(h -> !h.isAlive()).orElse(true);
        } catch (Exception e) {
            return false;
        }
    }

    private void consumeLoop() {
        long backoff = 0;
        while (consuming) {
            try {
                if (queues.isEmpty()) { // every queue cancelled: nothing to consume until one is added
                    sleepQuietly(100);
                    continue;
                }
                int prefetch = prefetchLimit();
                int free = prefetch - held.get();
                // Refill in batches (one claim for several messages) unless the slots are starving.
                boolean starving = buffer.isEmpty();
                if (free <= 0 || (!starving && free < (prefetch + 1) / 2)) {
                    synchronized (buffer) {
                        buffer.wait(10); // woken when a slot finishes a message
                    }
                    continue;
                }
                List<Delivery> got = broker.reserve(List.copyOf(queues), free, POLL_SLICE);
                stats.lastPollMillis = System.currentTimeMillis();
                if (backoff > 0) {
                    BrokerOutage.of(broker).ok();
                    backoff = 0;
                }
                if (!got.isEmpty()) {
                    held.addAndGet(got.size());
                    stats.received.addAndGet(got.size());
                    buffer.addAll(got);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (Throwable t) {
                backoff = backoff == 0 ? 100 : Math.min(backoff * 2, 2_000);
                BrokerOutage.of(broker).failed("consumer", t);
                sleepQuietly(backoff);
            }
        }
        // Whatever was reserved ahead but not started goes back for someone else.
        giveBackBuffered();
    }

    private void slotLoop() {
        while (true) {
            Delivery d;
            try {
                d = accepting ? buffer.poll(50, TimeUnit.MILLISECONDS) : null;
            } catch (InterruptedException e) {
                return;
            }
            if (d == null) {
                if (!accepting || retireThisSlot()) {
                    return;
                }
                continue;
            }
            running.put(d, Thread.currentThread());
            try {
                handler.handle(d);
            } catch (Throwable t) {
                // The handler records every outcome itself; reaching here is a bug or a broker that
                // stayed down through retries. Give the message back rather than hold it forever.
                log.error("worker: unexpected error handling message {}: {}", d.tag(), t.toString(), t);
                try {
                    broker.requeue(d);
                } catch (RuntimeException e) {
                    log.warn("could not give message {} back ({}); it returns when this worker's leases lapse", d.tag(), e.getMessage());
                }
            } finally {
                running.remove(d);
                released(d);
            }
            if (retireThisSlot()) {
                return;
            }
        }
    }

    private void startSlot() {
        Thread t = pool.slotThreads().newThread(this::slotLoop);
        slots.add(t);
        t.start();
    }

    /** pool_shrink: this slot leaves if some must (after its task, never while running one). */
    private boolean retireThisSlot() {
        if (slotsToRetire.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            slots.remove(Thread.currentThread());
            return true;
        }
        return false;
    }

    /** How many messages this worker may hold: its concurrency now × worker_prefetch_multiplier. */
    private int prefetchLimit() {
        return Math.max(1, concurrency.get()) * options.prefetchMultiplier();
    }

    /**
     * A message left its slot (its outcome is with the finisher, or it was given back): it no
     * longer counts against the prefetch limit, so the consumer can reserve the next one while the
     * finisher records this one.
     */
    private void released(Delivery d) {
        held.decrementAndGet();
        synchronized (buffer) {
            buffer.notifyAll();
        }
    }

    private void giveBackBuffered() {
        List<Delivery> back = new ArrayList<>();
        buffer.drainTo(back);
        held.addAndGet(-back.size());
        for (Delivery d : back) {
            try {
                broker.requeue(d);
            } catch (RuntimeException e) {
                log.warn("could not give message {} back ({}); it returns when its lease lapses", d.tag(), e.getMessage());
            }
        }
        if (!back.isEmpty()) {
            log.info("gave {} reserved message(s) back to the broker", back.size());
        }
    }

    private void awaitSlotsThenGoOffline() {
        // slots come and go (pool_grow, pool_shrink; a retiring slot leaves the list): wait for all
        while (true) {
            Thread alive = slots.stream().filter(Thread::isAlive).findFirst().orElse(null);
            if (alive == null) {
                if (!accepting) {
                    break;
                }
                sleepQuietly(50);
                continue;
            }
            try {
                alive.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        try {
            if (consumer != null) {
                consumer.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        finisher.close();
        control.close();
        heartbeat.close();
        pool.close();
        terminated.countDown();
    }

    /** Warm shutdown: stop consuming, finish running tasks, ack them, go offline. Returns at once. */
    public void shutdown() {
        if (!consuming && !accepting) {
            return;
        }
        log.info("{}: warm shutdown: finishing {} running task(s)", options.nodeName(), running.size());
        consuming = false;
        accepting = false;
        Duration limit = options.shutdownTimeout();
        if (!limit.isZero()) {
            Thread t = new Thread(() -> {
                try {
                    if (!terminated.await(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                        log.warn("{}: tasks still running after worker_shutdown_timeout ({} s): shutting down cold",
                                options.nodeName(), limit.toSeconds());
                        shutdownNow();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }, "celeriac-shutdown-timeout");
            t.setDaemon(true);
            t.start();
        }
    }

    /**
     * Cold shutdown: as {@link #shutdown()}, but the running tasks' messages are given back to the
     * broker now (they will run again elsewhere) and their threads interrupted.
     */
    public void shutdownNow() {
        cold = true;
        consuming = false;
        accepting = false;
        log.warn("{}: cold shutdown: giving {} running task(s) back to the broker", options.nodeName(), running.size());
        for (Map.Entry<Delivery, Thread> e : running.entrySet()) {
            try {
                broker.requeue(e.getKey());
            } catch (RuntimeException ex) {
                log.warn("could not give message {} back ({}); it returns when its lease lapses", e.getKey().tag(), ex.getMessage());
            }
            e.getValue().interrupt();
        }
    }

    /** Waits until every slot finished and the node went offline. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public String nodeName() {
        return options.nodeName();
    }

    public TaskRegistry registry() {
        return registry;
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
