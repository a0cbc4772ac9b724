package io.celeriac.worker;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskMessage;
import java.time.Duration;
import java.util.List;

/** The settings a worker runs with, read once from {@link Config} and checked together. */
public record WorkerOptions(Config config, String nodeName, List<String> queues, String pool, int concurrency,
                            int prefetchMultiplier, Duration heartbeatInterval, Duration recoveryTimeout, boolean acksLate,
                            boolean trackStarted, String deadLetterQueue, boolean deadLetterOnFailure,
                            boolean rejectOnWorkerLost, int workerLostLimit, int maxTasksPerChild, int maxMemoryPerChildKib,
                            Duration shutdownTimeout, int autoscaleMax, int autoscaleMin, Duration autoscaleKeepalive) {

    public static WorkerOptions from(Config c) {
        String node = c.get(Settings.WORKER_HOSTNAME);
        if (node == null || node.isBlank()) {
            node = "celeriac@" + TaskMessage.hostName();
        } else if (!node.contains("@")) {
            node = node + "@" + TaskMessage.hostName(); // as Celery: -n w1 means w1@host
        }
        List<String> queues = c.get(Settings.WORKER_QUEUES);
        if (queues.isEmpty()) {
            queues = List.of(c.get(Settings.TASK_DEFAULT_QUEUE));
        }
        Duration hb = c.get(Settings.WORKER_HEARTBEAT_INTERVAL);
        Duration recovery = c.get(Settings.BROKER_RECOVERY_TIMEOUT);
        if (hb.multipliedBy(2).compareTo(recovery) > 0) {
            throw new ConfigException("setting 'worker_heartbeat_interval' (" + hb.toMillis() + " ms) must be at most half of"
                    + " 'broker_recovery_timeout' (" + recovery.toMillis() + " ms), or a busy worker's leases would lapse");
        }
        // --autoscale MAX,MIN: the pool starts at MIN and worker_concurrency is ignored, as Celery does
        List<Integer> autoscale = c.get(Settings.WORKER_AUTOSCALE);
        int concurrency = autoscale.isEmpty() ? c.get(Settings.WORKER_CONCURRENCY) : autoscale.get(1);
        return new WorkerOptions(c, node, List.copyOf(queues), c.get(Settings.WORKER_POOL), concurrency,
                c.get(Settings.WORKER_PREFETCH_MULTIPLIER), hb, recovery, c.get(Settings.TASK_ACKS_LATE),
                c.get(Settings.TASK_TRACK_STARTED), c.get(Settings.TASK_DEAD_LETTER_QUEUE),
                c.get(Settings.TASK_DEAD_LETTER_ON_FAILURE), c.get(Settings.TASK_REJECT_ON_WORKER_LOST),
                c.get(Settings.TASK_WORKER_LOST_LIMIT), c.get(Settings.WORKER_MAX_TASKS_PER_CHILD),
                c.get(Settings.WORKER_MAX_MEMORY_PER_CHILD), c.get(Settings.WORKER_SHUTDOWN_TIMEOUT),
                autoscale.isEmpty() ? 0 : autoscale.get(0), autoscale.isEmpty() ? 0 : autoscale.get(1),
                c.get(Settings.WORKER_AUTOSCALE_KEEPALIVE));
    }

    /**
     * Whether STARTED is stored when {@code task} begins to run {@code m}: its own {@code trackStarted},
     * else {@code task_track_started}; never for a result that is not stored (as Celery).
     */
    public boolean trackStarted(io.celeriac.TaskDefinition task, TaskMessage m) {
        Boolean own = task.options().trackStarted();
        return (own != null ? own : trackStarted) && !task.options().ignoreResult() && !m.ignoreResult();
    }

    /** {@code --autoscale} is on: {@link #concurrency} is where the pool starts (MIN), {@link #autoscaleMax} its ceiling. */
    public boolean autoscale() {
        return autoscaleMax > 0;
    }

    /**
     * How many messages the worker may hold at once (running + reserved ahead) as it starts:
     * concurrency × prefetch multiplier; with autoscale, MAX × multiplier (as Celery), so that a
     * backlog shows as held messages and the pool grows to it.
     */
    public int prefetchLimit() {
        return (autoscale() ? autoscaleMax : concurrency) * prefetchMultiplier;
    }
}
