package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.TaskDefinition;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code worker_pool: process}, the default (Celery's prefork): {@code worker_concurrency} child
 * JVMs, each running one task at a time, spoken to over pipes ({@link Frames}).
 *
 * <ul>
 *   <li>Hard time limit: the child is sent SIGTERM, then SIGKILL after {@code worker_child_kill_grace};
 *       the task is FAILURE {@code TimeLimitExceeded} and a fresh child takes its place.</li>
 *   <li>A child that dies mid-task gives {@link Outcome.Lost}; the worker decides between
 *       WorkerLostError and requeueing.</li>
 *   <li>Recycling by class loader: after {@code worker_max_tasks_per_child} tasks a child drops its
 *       {@link AppGeneration} (the app's classes and statics, its task thread and thread locals) and
 *       loads the app afresh, in the same JVM, while the pool runs tasks on the other children; when
 *       the app cannot be split from celeriac's class path ({@link AppClassPath}) the JVM is replaced instead.</li>
 *   <li>Replacement: above {@code worker_max_memory_per_child} KiB resident a child retires after its
 *       task and a new JVM takes its place; while the pool may replace JVMs, one spare child per slot
 *       is kept started ahead so a replacement does not stall a slot.</li>
 * </ul>
 */
final class ProcessPool implements WorkerPool {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final WorkerOptions options;
    private final List<String> command;
    private final ClassDataArchive archive;
    private final Map<String, Object> settings;
    private final Duration aliveTimeout;
    private final Duration killGrace;
    private final int target;
    private final LinkedBlockingQueue<ChildProcess> idle = new LinkedBlockingQueue<>();
    private final Set<ChildProcess> all = ConcurrentHashMap.newKeySet();
    private final Map<RequestContext, ChildProcess> busy = new ConcurrentHashMap<>();
    private final ExecutorService starter;
    private final AtomicInteger nextIndex = new AtomicInteger();
    private final AtomicLong started = new AtomicLong();
    private final AtomicLong retired = new AtomicLong();
    private final AppReloads reloads;
    private final AtomicLong lost = new AtomicLong();
    private final AtomicLong timeLimitKills = new AtomicLong();
    private volatile boolean closing;
    private volatile TaskObserver observer = new TaskObserver() { };
    private volatile long startFailureBackoffMs;
    /** Children that failed to start in a row (reset by one that starts). */
    private final AtomicInteger startFailures = new AtomicInteger();
    /** Why the pool gave up (no child can start), or null. */
    private volatile String broken;
    /** The worker is stopping: nothing waits for a child any more (see {@link #stopWaiting}). */
    private volatile boolean stopWaiting;
    /** Set once {@link #start} has returned with a child up: from then on a broken pool is reported to {@link #onBroken}. */
    private boolean startedUp;
    private final Object readiness = new Object();
    private volatile java.util.function.Consumer<String> onBroken = why -> { };
    private volatile Thread archiving;

    ProcessPool(WorkerOptions options) {
        this.options = options;
        this.aliveTimeout = options.config().get(Settings.WORKER_PROC_ALIVE_TIMEOUT);
        this.killGrace = options.config().get(Settings.WORKER_CHILD_KILL_GRACE);
        this.reloads = new AppReloads(options, aliveTimeout, () -> observer);
        boolean replacing = options.maxMemoryPerChildKib() > 0 || reloads.replacesJvms();
        // When JVMs are replaced all the time: keep one spare per slot warming up, and start them two
        // at a time, so a retiring child's slot rarely waits for a JVM to start.
        int spares = replacing ? Math.max(1, options.concurrency()) : 0;
        this.target = options.concurrency() + spares;
        this.size.set(options.concurrency());
        this.starter = Executors.newFixedThreadPool(replacing ? 2 : 1, ThreadPool.platformThreads("celeriac-pool-starter-"));
        this.settings = options.config().explicitValues();
        this.command = command(options.config().get(Settings.WORKER_CHILD_JAVA_OPTIONS), options.config().get(Settings.LOG_LEVEL),
                options.config().get(Settings.LOG_FORMAT), options.nodeName());
        this.archive = options.config().get(Settings.WORKER_CHILD_CLASS_DATA_SHARING) ? ClassDataArchive.forCommand(command) : null;
    }

    private List<String> command(String javaOptions, String logLevel, String logFormat, String node) {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        // JVM warnings go to stdout by default, which is the protocol's channel: send them to the log.
        cmd.add("-Xlog:disable");
        cmd.add("-Xlog:all=warning:stderr:uptime,level,tags");
        if ("json".equals(logFormat)) { // the JVM's own lines are not JSON: keep out the notes of class-data sharing
            cmd.add("-Xlog:cds*=error:stderr:uptime,level,tags");
        }
        cmd.addAll(SHARED_JDK_ARCHIVE); // before the user's options, which can set it otherwise
        for (String o : javaOptions.trim().split("\\s+")) {
            if (!o.isEmpty()) {
                cmd.add(o);
            }
        }
        cmd.add("-Dceleriac.log_level=" + ("WARNING".equals(logLevel) ? "WARN" : logLevel));
        cmd.add("-Dceleriac.log_format=" + logFormat); // the child writes its lines to the worker's standard error itself
        cmd.add("-Dceleriac.worker=" + node);
        reloads.addClassPath(cmd); // with reloads, the app's entries are loaded by each generation, the rest by the JVM
        cmd.add(ChildMain.class.getName());
        return cmd;
    }

    /**
     * Options that map the JDK's class-data archive (and the pool's own, {@link ClassDataArchive}) at the address
     * it was laid out for instead of a random one: relocated (the JVM's default since 17.0.x), each JVM rewrites
     * the pointers of its copy, 10 MiB of private memory a child; mapped in place, its pages stay the file's,
     * shared by the worker and every child (about 5 MiB less a JVM, parent and children together). What it gives
     * up is the archive's address randomization. Empty on a JVM that is not HotSpot; a child whose address is
     * taken relocates as before.
     */
    static final List<String> SHARED_JDK_ARCHIVE = sharedJdkArchive();

    private static List<String> sharedJdkArchive() {
        // HotSpot has had the option since Java 14 (the children run the worker's own java); asking the JVM through
        // its diagnostic MXBean instead would load JMX into the worker for this alone
        String vm = System.getProperty("java.vm.name", "");
        return vm.contains("HotSpot") || vm.contains("OpenJDK")
                ? List.of("-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0") : List.of();
    }

    /** The command for the next child: with the class-data archive when there is one (see {@link ClassDataArchive}). */
    private List<String> nextCommand() {
        return archive == null ? command : archive.command(command);
    }

    @Override
    public String describe() {
        return "process (" + size.get() + " child JVMs"
                + (options.maxTasksPerChild() > 0 ? ", recycled every " + options.maxTasksPerChild() + " tasks"
                        + (reloads.on() ? " (the app reloaded)" : " (JVM replaced)") : "")
                + (options.maxMemoryPerChildKib() > 0 ? ", or above " + options.maxMemoryPerChildKib() + " KiB" : "") + ")";
    }

    @Override
    public ThreadFactory slotThreads() {
        return ThreadPool.platformThreads("celeriac-slot-");
    }

    /**
     * Starts the children and returns once the first is ready, so that the worker neither says it is
     * ready nor reserves a message before something can run it. Throws {@link WorkerStartException}
     * when {@value #START_ATTEMPTS} children in a row fail to start (a bad
     * {@code worker_child_java_options}, no memory, a broken JDK); returns without a child when
     * {@link #stopWaiting} is called first (a SIGTERM during start-up).
     */
    @Override
    public void start() {
        if (archive != null) {
            archiving = archive.ensure(command, settings, aliveTimeout);
        }
        for (int i = 0; i < target; i++) {
            spawn();
        }
        synchronized (readiness) {
            try {
                // autoscale with MIN 0 starts no child: the first comes with the first message
                while (target > 0 && started.get() == 0 && broken == null && !stopWaiting) {
                    readiness.wait(100);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (broken != null) {
                throw new WorkerStartException("process pool: " + broken);
            }
            startedUp = true;
        }
    }

    /** Children that fail to start this many times in a row, with none alive, and the pool gives up. */
    static final int START_ATTEMPTS = 3;

    @Override
    public void onBroken(java.util.function.Consumer<String> listener) {
        this.onBroken = listener;
    }

    @Override
    public void stopWaiting() {
        stopWaiting = true;
        synchronized (readiness) {
            readiness.notifyAll();
        }
    }

    /** No child can start: runs waiting for one give up, and the worker is told (after start-up; during it, start throws). */
    private void giveUp(String why) {
        boolean report;
        synchronized (readiness) {
            if (broken != null) {
                return;
            }
            broken = why;
            report = startedUp;
            readiness.notifyAll();
        }
        if (report) {
            onBroken.accept("process pool: " + why);
        }
    }

    /** Starts one child in the background; on failure, tries again with back-off until the pool closes. */
    private void spawn() {
        if (closing || broken != null) {
            return;
        }
        try {
            starter.execute(this::startOne);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the pool is closing
        }
    }

    private void startOne() {
        while (!closing && broken == null) {
            int index = nextIndex.incrementAndGet();
            try {
                ChildProcess c = ChildProcess.start(index, nextCommand(), settings, aliveTimeout);
                started.incrementAndGet();
                observer.pool(TaskObserver.PoolEvent.CHILD_STARTED, c.pid());
                startFailureBackoffMs = 0;
                startFailures.set(0);
                all.add(c);
                idle.add(c);
                synchronized (readiness) {
                    readiness.notifyAll();
                }
                if (closing) {
                    c.retire();
                }
                return;
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                int failures = startFailures.incrementAndGet();
                if (failures >= START_ATTEMPTS && all.stream().noneMatch(ChildProcess::alive)) {
                    giveUp("no child JVM could start (" + failures + " failures in a row; last: " + e.getMessage()
                            + "); check worker_child_java_options, the memory free and the JDK");
                    return;
                }
                startFailureBackoffMs = startFailureBackoffMs == 0 ? 500 : Math.min(startFailureBackoffMs * 2, 30_000);
                log.error("process pool: {}; trying again in {} ms", e.getMessage(), startFailureBackoffMs);
                try {
                    Thread.sleep(startFailureBackoffMs);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /**
     * Takes an idle, living child, replacing dead ones found on the way; null when there is none to
     * wait for: the pool is broken, or the worker is stopping ({@link #stopWaiting}).
     */
    private ChildProcess checkOut() throws InterruptedException {
        while (true) {
            ChildProcess c = idle.poll(100, java.util.concurrent.TimeUnit.MILLISECONDS);
            if (c == null) {
                if (broken != null || stopWaiting) {
                    return null;
                }
                continue;
            }
            if (c.alive()) {
                return c;
            }
            discard(c, "died while idle (" + c.exitDescription() + ")");
        }
    }

    private void discard(ChildProcess c, String why) {
        if (all.remove(c)) {
            log.warn("process pool: child {} (pid {}) {}; starting a replacement", c.index, c.pid(), why);
            spawn();
        }
    }

    @Override
    public Outcome execute(TaskDefinition task, RequestContext ctx, Duration softLimit, Duration hardLimit) throws InterruptedException {
        ObjectNode run = Json.NODES.objectNode();
        run.put("op", "run");
        String payload = ctx.rawPayload() != null ? ctx.rawPayload() : MessageCodec.encode(ctx.message());
        run.put("soft_ms", softLimit.toMillis());
        run.put("deliveries", ctx.deliveryCount());
        ChildProcess c;
        while (true) { // a child found dead when handed the task had not started it: use another
            c = checkOut();
            if (c == null) {
                return new Outcome.NotStarted(broken != null ? "no child JVM can start" : "the worker is stopping and no child was free");
            }
            synchronized (ctx) {
                if (ctx.terminated()) { // revoked with terminate while waiting for a child
                    idle.add(c);
                    return new Outcome.Lost("terminated before it started");
                }
                busy.put(ctx, c);
            }
            try {
                c.send(run, payload);
                break;
            } catch (IOException e) {
                busy.remove(ctx);
                c.kill(Duration.ZERO);
                discard(c, "could not be given a task (" + c.exitDescription() + ")");
            }
        }
        try {
            ObjectNode reply = answer(c, ctx, hardLimit);
            if (reply == null) { // the hard limit passed first
                timeLimitKills.incrementAndGet();
                observer.pool(TaskObserver.PoolEvent.TIME_LIMIT_KILL, c.pid());
                log.error("Task {}[{}] hit its hard time limit of {} s: killing child {} (pid {})", ctx.taskName(), ctx.id(),
                        hardLimit.toMillis() / 1000.0, c.index, c.pid());
                c.kill(killGrace);
                discard(c, "was killed at the hard time limit");
                return new Outcome.Failure(TimeLimits.exceeded(ctx, hardLimit));
            }
            if (ChildProcess.isGone(reply)) {
                String how = c.exitDescription();
                if (!ctx.terminated()) {
                    lost.incrementAndGet();
                    observer.pool(TaskObserver.PoolEvent.CHILD_LOST, c.pid());
                }
                discard(c, (ctx.terminated() ? "was killed to terminate " : "died running ") + ctx.taskName() + "[" + ctx.id() + "] (" + how + ")");
                return new Outcome.Lost("Worker exited prematurely: " + how + " (child " + c.index + ", pid " + c.pid() + ")");
            }
            c.tasksRun++;
            c.generationTasks++;
            recycleOrReturn(c);
            return ChildMain.decode(reply);
        } catch (InterruptedException e) {
            // cold shutdown while the task runs: its message is being given back, so stop it
            c.kill(Duration.ZERO);
            discard(c, "was stopped by a cold shutdown");
            throw e;
        } finally {
            busy.remove(ctx);
        }
    }

    /**
     * The child's answer for the run of {@code ctx} (or {@link ChildProcess#isGone}), storing the
     * states the task reports on the way (STARTED, progress); null when the hard limit passes first.
     */
    private static ObjectNode answer(ChildProcess c, RequestContext ctx, Duration hardLimit) throws InterruptedException {
        long deadline = System.nanoTime() + hardLimit.toNanos();
        while (true) {
            Duration left = Duration.ofNanos(deadline - System.nanoTime());
            if (!hardLimit.isZero() && (left.isZero() || left.isNegative())) {
                return null;
            }
            ObjectNode reply = c.await(hardLimit.isZero() ? Duration.ZERO : left);
            io.celeriac.protocol.TaskResult state = reply == null ? null : ChildMain.stateOf(ctx.id(), reply);
            if (state == null) {
                return reply;
            }
            ctx.store(state);
        }
    }

    private void recycleOrReturn(ChildProcess c) {
        String why = null;
        boolean reload = false;
        if (options.maxMemoryPerChildKib() > 0) {
            long rss = c.rssKib();
            if (rss > options.maxMemoryPerChildKib()) {
                why = "uses " + rss + " KiB resident (worker_max_memory_per_child " + options.maxMemoryPerChildKib() + ")";
            }
        }
        if (why == null && options.maxTasksPerChild() > 0 && c.generationTasks >= options.maxTasksPerChild()) {
            why = "ran " + c.generationTasks + " tasks (worker_max_tasks_per_child)";
            reload = reloads.on();
        }
        if (why == null && !closing) {
            giveBack(c);
            return;
        }
        if (why != null && reload && !closing) {
            reloads.reload(c, why, this::reloaded, this::retireNow, this::discard);
            return;
        }
        if (why != null) {
            retired.incrementAndGet();
            observer.pool(TaskObserver.PoolEvent.CHILD_RETIRED, c.pid());
            log.info("process pool: child {} (pid {}) {}: retiring it", c.index, c.pid(), why);
        }
        all.remove(c);
        c.retire();
        spawn();
    }

    /** An idle child back to the pool, or retired when the pool is to shrink (pool_shrink while it was busy). */
    private void giveBack(ChildProcess c) {
        if (surplus.getAndUpdate(n -> n > 0 ? n - 1 : 0) > 0) {
            retireNow(c);
            return;
        }
        idle.add(c);
    }

    /** A child that has reloaded its app: back to the pool, unless the pool is closing. */
    private void reloaded(ChildProcess c) {
        if (closing) {
            retireNow(c);
        } else {
            giveBack(c);
        }
    }

    private void retireNow(ChildProcess c) {
        all.remove(c);
        c.retire();
    }

    @Override
    public void terminate(RequestContext ctx) {
        ChildProcess c;
        synchronized (ctx) { // see execute: a run is either not started yet, or registered in busy
            ctx.markTerminated();
            c = busy.get(ctx);
        }
        if (c != null) {
            c.kill(Duration.ZERO);
        }
    }

    /** Children to retire instead of reusing (pool_shrink while they were busy). */
    private final java.util.concurrent.atomic.AtomicInteger surplus = new java.util.concurrent.atomic.AtomicInteger();
    private final java.util.concurrent.atomic.AtomicInteger size = new java.util.concurrent.atomic.AtomicInteger();

    @Override
    public void resize(int delta) {
        size.addAndGet(delta);
        int spawn = Autoscaler.keepRetiring(surplus, delta); // a busy child due to retire stays instead of a new one
        for (int i = 0; i < spawn; i++) {
            spawn();
        }
        for (int i = 0; i < -delta; i++) {
            ChildProcess c = idle.poll();
            if (c != null) {
                all.remove(c);
                c.retire();
            } else {
                surplus.incrementAndGet(); // the next child to come back retires
            }
        }
    }

    @Override
    public long pidOf(RequestContext ctx) {
        ChildProcess c = busy.get(ctx);
        return c == null ? ProcessHandle.current().pid() : c.pid();
    }

    /** As Celery's prefork pool: children's pids, limits, and how tasks were spread over them ({@code writes}). */
    @Override
    public Map<String, Object> celeryStats(int concurrency) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("max-concurrency", concurrency);
        List<ChildProcess> alive = all.stream().filter(ChildProcess::alive).sorted(java.util.Comparator.comparingLong(ChildProcess::pid)).toList();
        m.put("processes", alive.stream().map(ChildProcess::pid).toList());
        m.put("max-tasks-per-child", options.maxTasksPerChild() > 0 ? (Object) options.maxTasksPerChild() : "N/A");
        m.put("put-guarded-by-semaphore", false);
        io.celeriac.config.Config c = options.config();
        m.put("timeouts", List.of(seconds(c.get(io.celeriac.config.Settings.TASK_SOFT_TIME_LIMIT)),
                seconds(c.get(io.celeriac.config.Settings.TASK_TIME_LIMIT))));
        long total = alive.stream().mapToLong(ch -> ch.tasksRun).sum();
        Map<String, Object> writes = new LinkedHashMap<>();
        writes.put("total", total);
        writes.put("avg", String.format(java.util.Locale.ROOT, "%.2f", alive.isEmpty() || total == 0 ? 0.0 : 1.0 / alive.size()));
        writes.put("all", String.join(", ", alive.stream().map(ch -> String.format(java.util.Locale.ROOT, "%.2f",
                total == 0 ? 0.0 : (double) ch.tasksRun / total)).toList()));
        writes.put("raw", String.join(", ", alive.stream().map(ch -> Integer.toString(ch.tasksRun)).toList()));
        writes.put("strategy", "fair");
        Map<String, Object> inqueues = new LinkedHashMap<>();
        inqueues.put("total", alive.size());
        inqueues.put("active", busy.size());
        writes.put("inqueues", inqueues);
        m.put("writes", writes);
        return m;
    }

    private static long seconds(java.time.Duration d) {
        return d == null ? 0 : Math.round(io.celeriac.config.Durations.toSeconds(d));
    }

    @Override
    public void observe(TaskObserver observer) {
        this.observer = observer;
    }

    @Override
    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("implementation", "process");
        m.put("max-concurrency", size.get());
        m.put("processes", all.stream().filter(ChildProcess::alive).map(ChildProcess::pid).sorted().toList());
        m.put("max-tasks-per-child", options.maxTasksPerChild() > 0 ? options.maxTasksPerChild() : "N/A");
        m.put("max-memory-per-child", options.maxMemoryPerChildKib() > 0 ? options.maxMemoryPerChildKib() : "N/A");
        m.put("children_started", started.get());
        m.put("children_retired", retired.get());
        m.put("children_recycled", reloads.count());
        m.put("recycle", reloads.kind());
        m.put("stray_app_threads", reloads.strayThreads());
        m.put("children_lost", lost.get());
        m.put("time_limit_kills", timeLimitKills.get());
        return m;
    }

    @Override
    public void close() {
        closing = true;
        stopWaiting();
        starter.shutdownNow(); // a child still starting is killed (see ChildProcess.start)
        reloads.close();
        Thread cds = archiving;
        if (cds != null) {
            cds.interrupt();
        }
        try {
            if (!starter.awaitTermination(15, java.util.concurrent.TimeUnit.SECONDS)) {
                log.warn("process pool: a child was still starting at close");
            }
            if (cds != null) {
                cds.join(15_000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<ChildProcess> children = new ArrayList<>(all);
        for (ChildProcess c : children) {
            c.retire();
        }
        for (ChildProcess c : children) {
            try {
                if (!c.waitForExit(Duration.ofSeconds(5))) {
                    c.kill(Duration.ZERO);
                }
            } catch (InterruptedException e) {
                c.kill(Duration.ZERO);
                Thread.currentThread().interrupt();
            }
        }
        all.clear();
        idle.clear();
    }
}
