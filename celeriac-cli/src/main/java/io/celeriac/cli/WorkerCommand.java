package io.celeriac.cli;

import io.celeriac.Apps;
import io.celeriac.Celeriac;
import io.celeriac.ConfigException;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.worker.Worker;
import io.celeriac.worker.WorkerOptions;
import io.celeriac.worker.WorkerStartException;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "worker", mixinStandardHelpOptions = true,
        description = {"Start a worker: consume queues and run tasks until SIGTERM/SIGINT.",
                "First signal: warm shutdown (finish running tasks, exit 0). Second: cold shutdown (give them back)."})
final class WorkerCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

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

    @Option(names = "--prefetch-multiplier", paramLabel = "N", description = "worker_prefetch_multiplier.")
    Integer prefetchMultiplier;

    @Override
    public Integer call() throws InterruptedException {
        queues = FlagChecks.names("-Q", queues, "queue name");
        hostname = FlagChecks.name("-n", hostname, "node name");
        Map<String, String> flags = new LinkedHashMap<>();
        if (concurrency != null) flags.put(Settings.WORKER_CONCURRENCY.name(), concurrency.toString());
        if (queues != null) flags.put(Settings.WORKER_QUEUES.name(), String.join(",", queues));
        if (hostname != null) flags.put(Settings.WORKER_HOSTNAME.name(), hostname);
        if (pool != null) flags.put(Settings.WORKER_POOL.name(), pool);
        if (taskEvents) flags.put(Settings.WORKER_SEND_TASK_EVENTS.name(), "true");
        if (prefetchMultiplier != null) flags.put(Settings.WORKER_PREFETCH_MULTIPLIER.name(), prefetchMultiplier.toString());
        if (maxTasksPerChild != null) flags.put(Settings.WORKER_MAX_TASKS_PER_CHILD.name(), maxTasksPerChild.toString());
        if (maxMemoryPerChild != null) flags.put(Settings.WORKER_MAX_MEMORY_PER_CHILD.name(), maxMemoryPerChild.toString());
        if (timeLimit != null) flags.put(Settings.TASK_TIME_LIMIT.name(), timeLimit);
        if (softTimeLimit != null) flags.put(Settings.TASK_SOFT_TIME_LIMIT.name(), softTimeLimit);
        Config c = config.load(flags);
        WorkerOptions options = WorkerOptions.from(c);
        TaskRegistry registry = Apps.load(c);
        if (registry.isEmpty()) {
            throw new ConfigException("no tasks are registered: name your app with --app CLASS (a CeleriacApp on the class path)");
        }
        try (Celeriac app = Celeriac.open(c, registry)) {
            Worker worker = new Worker(options, registry, app.broker(), app.results(), Clock.systemUTC());
            AtomicBoolean cold = new AtomicBoolean();
            Signals.onTermination(worker::shutdown, () -> {
                cold.set(true);
                worker.shutdownNow();
            });
            banner(spec.commandLine().getErr(), worker, app);
            ManagerWatch.start("worker " + options.nodeName(), worker::shutdown);
            try {
                worker.start(); // returns once the pool can run a task (the process pool: a child is up)
            } catch (WorkerStartException e) {
                spec.commandLine().getErr().println("celeriac: worker " + options.nodeName() + " cannot start: " + Main.oneLine(e.getMessage()));
                return Main.FAILED;
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
            if (worker.failure().isPresent()) {
                spec.commandLine().getErr().println("celeriac: worker " + options.nodeName() + " stopped: " + Main.oneLine(worker.failure().get()));
                return Main.FAILED;
            }
            return cold.get() ? Main.FAILED : Main.OK;
        }
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
