package io.celeriac.worker;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Set;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * A worker's meters (tasks by outcome, runtimes, retries, the pool, children, dead letters), fed as
 * a {@link TaskObserver} and registered on any Micrometer {@link MeterRegistry}: the worker's own
 * Prometheus registry behind {@code /metrics} ({@link WorkerMetrics}), or an application's
 * ({@link Worker#bindMeters}). Every meter carries the tag {@code worker} (the node name).
 */
final class WorkerMeters implements TaskObserver {
    /** The task label of a message whose task is not registered here (keeps the label set bounded). */
    static final String UNREGISTERED = "(unregistered)";
    private static final Duration[] BUCKETS = {Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25),
            Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1),
            Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofMinutes(1),
            Duration.ofMinutes(5), Duration.ofMinutes(15)};

    private final MeterRegistry registry;
    private final Tags tags;
    private final Set<String> registered;
    private final Counter childStarts;
    private final Counter childRetirements;
    private final Counter childRecycles;
    private final Counter childLosses;
    private final Counter timeLimitKills;
    private final Counter deadLetters;
    /** Held here: a function counter keeps only a weak reference. */
    private final LongSupplier historyDropped;

    WorkerMeters(MeterRegistry registry, String node, Set<String> registered, WorkerStats stats, Supplier<Integer> poolSize,
                 Supplier<Integer> poolChildren, LongSupplier historyDropped) {
        this.registry = registry;
        this.tags = Tags.of("worker", node);
        this.registered = Set.copyOf(registered);
        Gauge.builder("celeriac.tasks.running", stats, WorkerStats::active).tags(tags).description("Tasks running now")
                .strongReference(true).register(registry);
        Gauge.builder("celeriac.pool.size", poolSize, s -> s.get()).tags(tags).description("Tasks the pool runs at once")
                .strongReference(true).register(registry);
        Gauge.builder("celeriac.pool.children", poolChildren, s -> s.get()).tags(tags)
                .description("Child processes alive (process pool; 0 for threads)").strongReference(true).register(registry);
        Gauge.builder("celeriac.worker.progress.age", stats, WorkerStats::secondsWithoutProgress).tags(tags).baseUnit("seconds")
                .description("Seconds since the worker last polled the broker or finished a task").strongReference(true)
                .register(registry);
        childStarts = counter("celeriac.child.starts", "Child processes started");
        childRetirements = counter("celeriac.child.retirements",
                "Child JVMs retired and replaced (worker_max_memory_per_child; worker_max_tasks_per_child when the app cannot be reloaded alone)");
        childRecycles = counter("celeriac.child.recycles", "Children that reloaded their app in the same JVM (worker_max_tasks_per_child)");
        childLosses = counter("celeriac.child.losses", "Child processes that died running a task");
        timeLimitKills = counter("celeriac.time.limit.kills", "Runs stopped at their hard time limit");
        deadLetters = counter("celeriac.dead.letters", "Messages sent to the dead-letter queue");
        this.historyDropped = historyDropped;
        FunctionCounter.builder("celeriac.task.history.dropped", historyDropped, LongSupplier::getAsLong).tags(tags)
                .description("Task history records dropped (the history could not be written, or its queue was full)")
                .register(registry);
    }

    private Counter counter(String name, String description) {
        return Counter.builder(name).tags(tags).description(description).register(registry);
    }

    /** The task label: the name when registered here, else {@link #UNREGISTERED}. */
    private String label(String task) {
        return task != null && registered.contains(task) ? task : UNREGISTERED;
    }

    @Override
    public void finished(Finished f) {
        String task = label(f.task());
        Counter.builder("celeriac.tasks").description("Messages handled, by task and outcome")
                .tags(tags).tags("task", task, "outcome", f.fate().label()).register(registry).increment();
        if (f.fate() == Fate.RETRY) {
            Counter.builder("celeriac.task.retries").description("Retries asked for, by task").tags(tags).tags("task", task)
                    .register(registry).increment();
        }
        if (f.deadLettered()) {
            deadLetters.increment();
        }
        if (f.runtime() != null && f.state() != null) {
            Timer.builder("celeriac.task.runtime").description("How long runs took, by task").tags(tags).tags("task", task)
                    .serviceLevelObjectives(BUCKETS).register(registry).record(Duration.ofNanos(Math.round(f.runtime() * 1e9)));
        }
    }

    @Override
    public void pool(PoolEvent event, long pid) {
        switch (event) {
            case CHILD_STARTED -> childStarts.increment();
            case CHILD_RETIRED -> childRetirements.increment();
            case CHILD_RECYCLED -> childRecycles.increment();
            case CHILD_LOST -> childLosses.increment();
            case TIME_LIMIT_KILL -> timeLimitKills.increment();
        }
    }
}
