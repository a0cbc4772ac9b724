package io.celeriac.cli;

import io.celeriac.Apps;
import io.celeriac.Celeriac;
import io.celeriac.ConfigException;
import io.celeriac.TaskRegistry;
import io.celeriac.beat.Beat;
import io.celeriac.beat.BeatService;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.worker.Worker;
import io.celeriac.worker.WorkerOptions;
import io.celeriac.worker.WorkerStartException;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Start a worker: consume queues and run tasks until SIGTERM/SIGINT.",
                "First signal: warm shutdown (finish running tasks, exit 0). Second: cold shutdown (give them back)."})
final class WorkerCommand implements Callable<Integer> {
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger("celeriac");

    @Mixin
    ConfigOptions config;

    @Mixin
    DaemonOptions daemon;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-B", "--beat"}, description = "Run beat inside this worker (for development; in production run 'celeriac beat' apart).")
    boolean beat;

    @Option(names = "-O", paramLabel = "fair|default", description = "Celery's optimization profile: both accepted; the"
            + " worker always reserves as 'fair' does (a process takes a task only when it has a free slot).")
    String optimization;

    @Option(names = {"-c", "--concurrency"}, paramLabel = "N", description = "worker_concurrency: tasks run at once.")
    Integer concurrency;

    @Option(names = {"-Q", "--queues"}, split = ",", paramLabel = "QUEUE", description = "worker_queues: queues to consume.")
    List<String> queues;

    @Option(names = {"-n", "--hostname"}, paramLabel = "NAME", description = "worker_hostname: node name (NAME@host).")
    String hostname;

    @Option(names = {"-P", "--pool"}, paramLabel = "POOL", description = "worker_pool: process (default) or threads.")
    String pool;

    @Option(names = {"-E", "--task-events"}, description = "worker_send_task_events: send task and worker events.")
    boolean taskEvents;

    @Option(names = "--max-tasks-per-child", paramLabel = "N", description = "worker_max_tasks_per_child (process pool).")
    Integer maxTasksPerChild;

    @Option(names = "--max-memory-per-child", paramLabel = "KIB", description = "worker_max_memory_per_child (process pool).")
    Integer maxMemoryPerChild;

    @Option(names = "--time-limit", paramLabel = "SECONDS", description = "task_time_limit: the hard time limit.")
    String timeLimit;

    @Option(names = "--soft-time-limit", paramLabel = "SECONDS", description = "task_soft_time_limit.")
    String softTimeLimit;

    @Option(names = "--autoscale", paramLabel = "MAX,MIN", description = "worker_autoscale: grow the pool with the backlog"
            + " up to MAX, shrink it to MIN when idle (-c is then ignored, as Celery).")
    String autoscale;

    @Option(names = "--prefetch-multiplier", paramLabel = "N", description = "worker_prefetch_multiplier.")
    Integer prefetchMultiplier;

    @Override
    public Integer call() throws InterruptedException, IOException {
        queues = FlagChecks.names("-Q", queues, "queue name");
        hostname = FlagChecks.name("-n", hostname, "node name");
        Map<String, String> flags = new LinkedHashMap<>();
        if (concurrency != null) flags.put(Settings.WORKER_CONCURRENCY.name(), concurrency.toString());
        if (queues != null) flags.put(Settings.WORKER_QUEUES.name(), String.join(",", queues));
        if (hostname != null) flags.put(Settings.WORKER_HOSTNAME.name(), hostname);
        if (pool != null) flags.put(Settings.WORKER_POOL.name(), pool);
        if (taskEvents) flags.put(Settings.WORKER_SEND_TASK_EVENTS.name(), "true");
        if (autoscale != null) flags.put(Settings.WORKER_AUTOSCALE.name(), autoscale);
        if (prefetchMultiplier != null) flags.put(Settings.WORKER_PREFETCH_MULTIPLIER.name(), prefetchMultiplier.toString());
        if (maxTasksPerChild != null) flags.put(Settings.WORKER_MAX_TASKS_PER_CHILD.name(), maxTasksPerChild.toString());
        if (maxMemoryPerChild != null) flags.put(Settings.WORKER_MAX_MEMORY_PER_CHILD.name(), maxMemoryPerChild.toString());
        if (timeLimit != null) flags.put(Settings.TASK_TIME_LIMIT.name(), timeLimit);
        if (softTimeLimit != null) flags.put(Settings.TASK_SOFT_TIME_LIMIT.name(), softTimeLimit);
        if (optimization != null && !List.of("fair", "default").contains(optimization)) {
            throw new ConfigException("-O '" + optimization + "': expected fair or default");
        }
        Config c = config.load(flags);
        WorkerOptions options = WorkerOptions.from(c);
        Logging.worker(options.nodeName());
        Path logFile = DaemonOptions.path("--logfile", daemon.logFile, options.nodeName());
        if (logFile != null) { // the pool's children log there too
            c = c.toBuilder().set(Settings.WORKER_CHILD_JAVA_OPTIONS, c.get(Settings.WORKER_CHILD_JAVA_OPTIONS)
                    + " -D" + LogSetup.LOG_FILE_PROPERTY + "=" + logFile.toAbsolutePath()).build();
            options = WorkerOptions.from(c);
        }
        TaskRegistry registry = Apps.load(c);
        if (!hasUserTask(registry)) {
            throw new ConfigException(NO_APP);
        }
        if (beat) {
            Beat.validate(c);
        }
        Optional<Integer> done = daemon.begin(spec, options.nodeName());
        if (done.isPresent()) {
            return done.get();
        }
        try {
            return run(c, options, registry);
        } finally {
            daemon.end();
        }
    }

    static final String NO_APP = "no app registers a task: name your CeleriacApp with -A/--app CLASS and put its jar on"
            + " CELERIAC_CLASSPATH (or list it in META-INF/services/io.celeriac.CeleriacApp); celeriac demo runs the example app";

    /** Whether an app registered a task of its own: Celeriac's and Celery's built-ins do not make an app. */
    static boolean hasUserTask(TaskRegistry registry) {
        return registry.names().stream().anyMatch(t -> !t.startsWith("celery.") && !t.startsWith("celeriac."));
    }

    private int run(Config c, WorkerOptions options, TaskRegistry registry) throws InterruptedException {
        try (Celeriac app = Celeriac.connect(c, registry)) { // never eager: a worker consumes from the broker
            Worker worker = new Worker(options, registry, app.broker(), app.results(), app.coordination(), Clock.systemUTC());
            AtomicBoolean cold = new AtomicBoolean();
            AtomicReference<BeatService> beatService = new AtomicReference<>();
            Runnable stopBeat = () -> Optional.ofNullable(beatService.get()).ifPresent(BeatService::stop); // -B: no more sending once stopping
            Signals.onTermination(() -> {
                stopBeat.run();
                worker.shutdown();
            }, () -> {
                cold.set(true);
                stopBeat.run();
                worker.shutdownNow();
            });
            if (Logging.json(c)) { // every line of the output a JSON object: the banner's gist as one line
                WorkerOptions o = worker.options();
                log.info("{} v{} (celeriac): transport {}, results {}, concurrency {} ({}), queues {}", o.nodeName(), Worker.VERSION,
                        app.broker().describe(), app.results().describe(), o.concurrency(), worker.poolDescription(), o.queues());
            } else {
                banner(spec.commandLine().getErr(), worker, app);
            }
            ManagerWatch.start("worker " + options.nodeName(), worker::shutdown);
            try {
                worker.start(); // returns once the pool can run a task (the process pool: a child is up)
            } catch (WorkerStartException e) {
                spec.commandLine().getErr().println("celeriac: worker " + options.nodeName() + " cannot start: " + Main.oneLine(e.getMessage()));
                return Main.FAILED;
            }
            if (beat) {
                beatService.set(startBeat(c, app, options.nodeName()));
            }
            long failedAt = 0;
            while (!worker.awaitTermination(Duration.ofSeconds(1))) {
                // a worker runs until it is told to stop, or cannot go on (then it stops by itself)
                if (worker.failure().isPresent()) {
                    if (failedAt == 0) {
                        failedAt = System.nanoTime();
                    } else if (System.nanoTime() - failedAt > TimeUnit.MILLISECONDS.toNanos(Signals.COLD_GRACE)) {
                        spec.commandLine().getErr().println("celeriac: worker " + options.nodeName() + " stopped: "
                                + Main.oneLine(worker.failure().get()) + " (tasks still running after "
                                + Signals.COLD_GRACE + " ms; exiting now)");
                        spec.commandLine().getErr().flush();
                        Runtime.getRuntime().halt(Main.FAILED);
                    }
                }
            }
            if (beatService.get() != null) {
                beatService.get().stop(); // gives up the leader lock before the broker closes
                beatService.get().awaitStop(Duration.ofSeconds(10));
            }
            if (worker.failure().isPresent()) {
                spec.commandLine().getErr().println("celeriac: worker " + options.nodeName() + " stopped: " + Main.oneLine(worker.failure().get()));
                return Main.FAILED;
            }
            return cold.get() ? Main.FAILED : Main.OK;
        }
    }

    /** Beat in this process ({@code -B}), on a thread of its own: the same beat as {@code celeriac beat}, leader lock and all. */
    private static BeatService startBeat(Config c, Celeriac app, String node) {
        log.warn("-B: beat runs inside this worker; that is for development: in production run 'celeriac beat' as a process of its own");
        Beat b = new Beat(c, app.broker(), app.coordination(), Clock.systemUTC(), "beat-" + node);
        BeatService service = new BeatService(b);
        service.start();
        return service;
    }

    private static void banner(PrintWriter err, Worker w, Celeriac app) {
        WorkerOptions o = w.options();
        err.println();
        err.println(" -------------- " + o.nodeName() + " v" + Worker.VERSION + " (celeriac)");
        err.println("--- ***** ----- ");
        err.println("- ** ---------- [config]");
        err.println("- ** ---------- .> transport:   " + app.broker().describe());
        err.println("- ** ---------- .> results:     " + app.results().describe());
        err.println("- ** ---------- .> concurrency: " + o.concurrency() + " (" + w.poolDescription() + ")");
        err.println("- ** ---------- .> prefetch:    " + o.prefetchLimit() + " messages");
        err.println("- ** ---------- .> acks:        " + (o.acksLate() ? "late (after the task)" : "early (before the task)"));
        err.println("--- ***** ----- ");
        err.println(" -------------- [queues]");
        for (String q : o.queues()) {
            err.println("                .> " + q);
        }
        err.println();
        err.println("[tasks]");
        for (String t : w.registry().names()) {
            err.println("  . " + t);
        }
        err.println();
        err.flush();
    }
}
