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
    /** Presence and revocations. */
    private final io.celeriac.spi.Coordination coordination;
    private final WorkerPool pool;
    private final WorkerStats stats = new WorkerStats();
    /** Told of every message's fate and of the pool's events: the stats, task events, metrics, task history. */
    private final Observers observers = new Observers();
    private final ResultStore results;
    /** {@code worker_metrics_port}: {@code /metrics} and health; null when off. */
    private WorkerMetrics metrics;
    /** {@code task_history}: the records of the tasks this worker handles; null when off. */
    private HistoryWriter history;
    private final RequestHandler handler;
    private final Finisher finisher;
    private final Heartbeat heartbeat;
    private final Revocations revocations;
    private final ControlServer control;
    /** {@code --autoscale}: sizes the pool from the messages held; null when off. */
    private final Autoscaler autoscaler;
    private final LinkedBlockingQueue<Delivery> buffer = new LinkedBlockingQueue<>();
    /** What this worker knows of its buffered messages' leases: one whose lease may have lapsed is not started. */
    private final Leases leases;
    /** Messages dropped because their lease may have lapsed, to give back (by the consumer thread). */
    private final LinkedBlockingQueue<Delivery> lapsed = new LinkedBlockingQueue<>();
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
    /** A stop was asked for (possibly before {@link #start} finished). */
    private volatile boolean stopRequested;
    private final java.util.concurrent.atomic.AtomicBoolean warmStopBegun = new java.util.concurrent.atomic.AtomicBoolean();
    private boolean startCalled;
    /** Why the worker stopped by itself (see {@link #fatal}), or null. */
    private final java.util.concurrent.atomic.AtomicReference<String> failure = new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * A worker over a broker and result store opened by the caller; its coordination store (presence,
     * revocations) is opened from the settings ({@code coordination_url}) and closed when it stops.
     */
    public Worker(WorkerOptions options, TaskRegistry registry, Broker broker, ResultStore results, Clock clock) {
        this(options, registry, broker, results, null, clock);
    }

    /**
     * A worker over a broker, result store and coordination store opened by the caller, who also
     * closes them.
     *
     * @param options      the worker's settings
     * @param registry     its tasks
     * @param broker       where it reserves messages
     * @param results      where it stores results
     * @param coordination where it records its heartbeats and reads revocations; null: opened from the settings
     * @param clock        the time source
     */
    public Worker(WorkerOptions options, TaskRegistry registry, Broker broker, ResultStore results,
                  io.celeriac.spi.Coordination coordination, Clock clock) {
        this.options = Objects.requireNonNull(options);
        this.registry = Objects.requireNonNull(registry);
        this.broker = Objects.requireNonNull(broker);
        this.results = Objects.requireNonNull(results);
        this.app = coordination == null ? new Celeriac(options.config(), registry, broker, results, clock)
                : new Celeriac(options.config(), registry, broker, results, coordination, clock);
        this.coordination = app.coordination();
        this.leases = new Leases(broker.lease(), clock);
        this.autoscaler = options.autoscale()
                ? new Autoscaler(options.autoscaleMax(), options.autoscaleMin(), options.autoscaleKeepalive(), clock) : null;
        HealthCheckTask.register(registry, () -> app, options);
        CeleryBuiltins.register(registry);
        this.pool = "threads".equals(options.pool()) ? new ThreadPool() : new ProcessPool(options);
        observers.add(stats.observer);
        pool.observe(observers);
        // after a fatal error the finisher still tries to commit what was submitted (the reason recorded with a message)
        this.finisher = new Finisher(results, broker, () -> cold && failure.get() == null);
        this.revocations = new Revocations(this.coordination, broker, r -> terminate(r.taskId()));
        this.handler = new RequestHandler(options, registry, broker, results, pool, observers, clock, () -> cold, finisher,
                revocations, () -> app, app.dispatch());
        this.heartbeat = new Heartbeat(broker, this.coordination, options, stats, pool, registry.names(), revocations::refresh,
                handler::events, leases, this::buffered, concurrency::get);
        this.control = new ControlServer(app.control(), options.nodeName(), new WorkerControl(this).methods());
        pool.onBroken(this::fatal);
        handler.onFatal(this::fatal, this::unfit);
    }

    /**
     * Adds an observer of every message's fate and of the pool's events (see {@link TaskObserver});
     * call it before {@link #start}.
     *
     * @param observer told on the task's own thread: it must be quick; what it throws is logged once and ignored
     */
    public void observe(TaskObserver observer) {
        observers.add(Objects.requireNonNull(observer));
    }

    /**
     * Registers this worker's meters (the same as its {@code /metrics}: tasks by outcome, runtimes,
     * retries, the pool, children, dead letters; each tagged {@code worker}) on an application's
     * Micrometer registry as well, such as Spring Boot's; call it before {@link #start}.
     *
     * @param meterRegistry where the meters go; the caller owns and closes it
     */
    public synchronized void bindMeters(io.micrometer.core.instrument.MeterRegistry meterRegistry) {
        if (startCalled) {
            throw new IllegalStateException("bindMeters must be called before the worker starts");
        }
        boundRegistries.add(Objects.requireNonNull(meterRegistry));
    }

    private final List<io.micrometer.core.instrument.MeterRegistry> boundRegistries = new ArrayList<>();

    /** The port {@code /metrics} listens on, or 0 when {@code worker_metrics_port} is 0 (off) or the worker has not started. */
    public int metricsPort() {
        return metricsPort;
    }

    private volatile int metricsPort;

    /**
     * The worker cannot go on (its pool cannot start children; a {@code VirtualMachineError} such as
     * out of memory in this JVM): give back every message it holds except the caller's, whose outcome
     * is recorded already, and stop; {@link #failure()} tells why, and the process exits non-zero so
     * that its supervisor starts a fresh one.
     */
    void fatal(String reason) {
        if (!failure.compareAndSet(null, reason)) {
            return;
        }
        log.error("{}: {}; stopping the worker (the messages it holds go back to the queue)", options.nodeName(), reason);
        coldStop(Thread.currentThread());
    }

    /**
     * This JVM is not fit to run more (a {@code VirtualMachineError} in a thread-pool task): reserve and
     * start nothing from now on, before the failed run's message is put back, so that another process
     * runs it and not this one again. {@link #fatal} follows.
     */
    void unfit() {
        consuming = false;
        accepting = false;
    }

    /** Why the worker stopped by itself ({@link #fatal}), or empty when it was asked to stop or still runs. */
    public java.util.Optional<String> failure() {
        return java.util.Optional.ofNullable(failure.get());
    }

    /** pool_grow / pool_shrink: more or fewer slots (and children, in the process pool); never below one. */
    synchronized String resize(int delta) {
        if (delta == 0) {
            return "pool unchanged";
        }
        if (delta < 0) {
            delta = -Math.min(-delta, concurrency.get() - 1);
            if (delta == 0) {
                throw new IllegalArgumentException("the pool has one slot; it cannot shrink further");
            }
        }
        applyResize(delta);
        log.info("{}: pool {} by {} to {}", options.nodeName(), delta > 0 ? "grew" : "shrank", Math.abs(delta), concurrency.get());
        return delta > 0 ? "pool will grow" : "pool will shrink";
    }

    /**
     * {@code delta} more slots (and children), or fewer: a slot (a child) leaves when idle, or after
     * the task it runs, never during it. Slots still waiting to retire are kept first when growing.
     */
    private void applyResize(int delta) {
        pool.resize(delta);
        concurrency.addAndGet(delta);
        int start = Autoscaler.keepRetiring(slotsToRetire, delta); // a slot due to retire stays instead of a new one
        for (int i = 0; i < start; i++) {
            startSlot();
        }
        if (delta < 0) {
            slotsToRetire.addAndGet(-delta);
        }
    }

    /** The autoscaler, or null when {@code --autoscale} is off. */
    Autoscaler autoscaler() {
        return autoscaler;
    }

    /** The messages this worker holds (reserved ahead + running): the autoscaler's {@code qty}. */
    int held() {
        return held.get();
    }

    /**
     * Autoscale: grows or shrinks the pool as {@link Autoscaler#decide} says for the messages held
     * now. Called each second, when messages arrive, and after {@code autoscale} changed the range.
     */
    synchronized void autoscale() {
        if (autoscaler == null || !accepting) {
            return;
        }
        int delta = autoscaler.decide(held.get(), concurrency.get());
        if (delta != 0) {
            applyResize(delta);
            log.info("{}: autoscale: scaling {} {} {} to {} (holding {} message(s))", options.nodeName(),
                    delta > 0 ? "up" : "down", Math.abs(delta), pool instanceof ProcessPool ? "child JVM(s)" : "slot(s)",
                    concurrency.get(), held.get());
        }
    }

    private void autoscaleLoop() {
        while (accepting) {
            try {
                autoscale();
            } catch (RuntimeException e) {
                log.error("{}: autoscale: {}", options.nodeName(), e.toString(), e);
            }
            sleepQuietly(1000); // Celery's autoscaler thread: once a second
        }
    }

    private final long startedAtMillis = System.currentTimeMillis();

    // --- what the control table reads and changes (WorkerControl) ------------------------------------

    long startedAtMillis() {
        return startedAtMillis;
    }

    Revocations revocations() {
        return revocations;
    }

    /** The queues consumed now; add_consumer and cancel_consumer change this list. */
    List<String> queues() {
        return queues;
    }

    Broker broker() {
        return broker;
    }

    io.celeriac.spi.Coordination coordination() {
        return coordination;
    }

    Heartbeat heartbeat() {
        return heartbeat;
    }

    RequestHandler handler() {
        return handler;
    }

    WorkerPool pool() {
        return pool;
    }

    int concurrency() {
        return concurrency.get();
    }

    /** The messages reserved ahead and not started (this worker's buffer), a snapshot. */
    List<Delivery> buffered() {
        return List.of(buffer.toArray(new Delivery[0]));
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

    /**
     * Starts the worker: first the pool, waiting until it can run a task (the process pool: a child
     * is up), so that nothing is reserved before then. Throws {@link WorkerStartException} when the
     * pool cannot start; returns without starting when a stop was asked for meanwhile.
     */
    public synchronized void start() {
        if (startCalled) {
            throw new IllegalStateException("worker already started");
        }
        startCalled = true;
        warnOnDuplicateNodeName();
        try {
            startObservers();
            pool.start();
        } catch (RuntimeException e) {
            failure.compareAndSet(null, e.getMessage());
            pool.close();
            closeObservers();
            app.close();
            terminated.countDown();
            throw e;
        }
        if (stopRequested) {
            log.info("{}: stopped while starting, before it reserved anything", options.nodeName());
            pool.close();
            closeObservers();
            app.close();
            terminated.countDown();
            return;
        }
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
        if (autoscaler != null) {
            Thread scaler = new Thread(this::autoscaleLoop, "celeriac-autoscaler");
            scaler.setDaemon(true);
            scaler.start();
        }
        Thread reaper = new Thread(this::awaitSlotsThenGoOffline, "celeriac-shutdown");
        reaper.setDaemon(true);
        reaper.start();
        log.info("{} ready: pool {}, concurrency {}, queues {}{}{}", options.nodeName(), pool.describe(),
                autoscaler == null ? options.concurrency() : "autoscale " + options.autoscaleMax() + "," + options.autoscaleMin(),
                options.queues(), metrics == null ? "" : ", metrics on http://"
                        + hostForUrl(options.config().get(io.celeriac.config.Settings.WORKER_METRICS_BIND)) + ":" + metricsPort + "/metrics",
                history == null ? "" : ", task history on");
        if (failure.get() != null) { // the pool broke as it started
            coldStop(null);
        } else if (stopRequested) { // a signal while starting, that shutdown() left to this method
            shutdown();
        }
    }

    /** Opens the task history (task_history) and starts /metrics (worker_metrics_port), before the pool starts. */
    private void startObservers() {
        io.celeriac.config.Config c = options.config();
        if (c.get(io.celeriac.config.Settings.TASK_HISTORY)) {
            try {
                history = new HistoryWriter(io.celeriac.spi.Backends.openTaskHistory(c), options.nodeName(),
                        c.get(io.celeriac.config.Settings.TASK_HISTORY_RETENTION), c.get(io.celeriac.config.Settings.TASK_HISTORY_MAX),
                        Clock.systemUTC());
                observers.add(history);
            } catch (RuntimeException e) { // a history that cannot be kept costs records, never tasks
                log.warn("{}: task_history is on, but {}; running without it", options.nodeName(),
                        io.celeriac.protocol.LogText.escape(String.valueOf(e.getMessage())));
            }
        }
        HistoryWriter h = history;
        for (io.micrometer.core.instrument.MeterRegistry r : boundRegistries) {
            observers.add(new WorkerMeters(r, options.nodeName(), java.util.Set.copyOf(registry.names()), stats,
                    concurrency::get, this::liveChildren, () -> h == null ? 0 : h.dropped()));
        }
        int port = c.get(io.celeriac.config.Settings.WORKER_METRICS_PORT);
        if (port > 0) {
            WorkerMetrics m = new WorkerMetrics(options.nodeName(), java.util.Set.copyOf(registry.names()), broker, results, c, stats,
                    concurrency::get, this::liveChildren, () -> h == null ? 0 : h.dropped());
            try {
                metricsPort = m.start(c.get(io.celeriac.config.Settings.WORKER_METRICS_BIND), port);
            } catch (RuntimeException e) {
                m.close();
                throw e;
            }
            metrics = m;
            observers.add(m);
        }
    }

    private void closeObservers() {
        if (metrics != null) {
            metrics.close();
        }
        if (history != null) {
            history.close();
        }
    }

    /** The pool's child processes alive now (0 for the thread pool). */
    private int liveChildren() {
        Object p = pool.stats().get("processes");
        return p instanceof java.util.Collection<?> c ? c.size() : 0;
    }

    private static String hostForUrl(String host) {
        return host.contains(":") ? "[" + host + "]" : host;
    }

    private void warnOnDuplicateNodeName() {
        try {
            var other = coordination.nodes().get(options.nodeName());
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
                dropLapsed();
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
                long reserving = leases.now();
                List<Delivery> got = broker.reserve(List.copyOf(queues), free, POLL_SLICE);
                leases.reserved(got, reserving);
                stats.lastPollMillis = System.currentTimeMillis();
                if (backoff > 0) {
                    BrokerOutage.of(broker).ok("consumer");
                    backoff = 0;
                }
                if (!got.isEmpty()) {
                    held.addAndGet(got.size());
                    buffer.addAll(got);
                    autoscale(); // as Celery's, on each arrival: grow at once to the backlog
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
            if (d != null && !accepting) { // stopped while this slot waited (a JVM error in another slot): not run here
                leases.forget(d);
                try {
                    broker.requeue(d);
                } catch (RuntimeException e) {
                    log.warn("could not give message {} back ({}); it returns when its lease lapses", d.tag(), e.getMessage());
                }
                released(d);
                return;
            }
            if (d == null) {
                leases.report();
                if (!accepting || retireThisSlot()) {
                    return;
                }
                continue;
            }
            if (!leases.admit(d)) { // reserved before a pause longer than its lease: another worker may run it
                lapsed.add(d);
                released(d);
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

    /**
     * How many messages this worker may hold: its concurrency now × worker_prefetch_multiplier;
     * with autoscale, its MAX × the multiplier (as Celery), so the backlog it can see reaches MAX.
     */
    int prefetchLimit() {
        int size = autoscaler != null ? autoscaler.max() : concurrency.get();
        return Math.max(1, size) * options.prefetchMultiplier();
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

    /**
     * Buffered messages whose lease may have lapsed leave the buffer, and those dropped (here or by
     * the slots) are given back: at once for anyone if this worker still held them, a no-op when
     * another worker has them. A give-back that fails is tried again on the next round; the gap is
     * logged once.
     */
    private void dropLapsed() {
        for (Delivery d : leases.sweep(buffer)) {
            lapsed.add(d);
            released(d);
        }
        Delivery d;
        while ((d = lapsed.peek()) != null) {
            try {
                broker.requeue(d);
            } catch (RuntimeException e) {
                BrokerOutage.of(broker).failed("give back a message whose lease lapsed", e);
                break; // the broker is down: again on the next round
            }
            lapsed.poll();
        }
        leases.report();
    }

    private void giveBackBuffered() {
        List<Delivery> back = new ArrayList<>();
        buffer.drainTo(back);
        held.addAndGet(-back.size());
        back.forEach(leases::forget);
        lapsed.drainTo(back);
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
        closeObservers();
        app.close(); // the coordination store, if it opened it (not the caller's broker and results)
        terminated.countDown();
    }

    /** Warm shutdown: stop consuming, finish running tasks, ack them, go offline. Returns at once. */
    public void shutdown() {
        stopRequested = true;
        pool.stopWaiting(); // a run waiting for a child that is not there gives its message back
        if (!consuming && !accepting || !warmStopBegun.compareAndSet(false, true)) {
            return; // not started yet (start() sees stopRequested), or stopping already
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
        coldStop(null);
    }

    /** {@link #shutdownNow()}, leaving the message of thread {@code keep} (whose outcome is recorded already) alone. */
    private void coldStop(Thread keep) {
        cold = true;
        consuming = false;
        accepting = false;
        stopRequested = true;
        pool.stopWaiting();
        log.warn("{}: cold shutdown: giving {} running task(s) back to the broker", options.nodeName(),
                running.values().stream().filter(t -> t != keep).count());
        for (Map.Entry<Delivery, Thread> e : running.entrySet()) {
            if (e.getValue() == keep) {
                continue;
            }
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
