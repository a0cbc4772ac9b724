package io.celeriac.worker;

import io.celeriac.TaskRegistry;
import io.celeriac.config.RateLimit;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Per-task rate limits of one worker, as Celery's {@code rate_limit} ("10/s", "100/m", "5/h"; a
 * bare number is per second; "0" or empty removes the limit): starts of a limited task are spaced
 * at least 1/rate apart; a slot whose task must wait sleeps until its turn. A task's own limit
 * ({@code @Task(rateLimit)}, {@code task_annotations}) is the default; the {@code rate_limit}
 * control command overrides it while the worker runs.
 */
final class RateLimits {
    private final TaskRegistry registry;
    private final Map<String, long[]> limits = new ConcurrentHashMap<>(); // task -> {interval ns (0: none), next start ns}

    RateLimits(TaskRegistry registry) {
        this.registry = registry;
    }

    /** The interval between starts for a rate string, in nanoseconds; 0 for no limit. */
    static long intervalNanos(String rate) {
        return RateLimit.intervalNanos(rate);
    }

    /** Sets (overrides) a task's limit; "0" or empty: none, whatever the task declares. */
    void set(String task, String rate) {
        limits.put(task, new long[] {intervalNanos(rate), System.nanoTime()});
    }

    /** The limited tasks and their intervals, the tasks' own limits included. */
    Map<String, Long> intervals() {
        Map<String, Long> out = new java.util.TreeMap<>();
        registry.names().forEach(this::limit);
        limits.forEach((k, v) -> {
            if (v[0] > 0) {
                out.put(k, v[0]);
            }
        });
        return out;
    }

    private long[] limit(String task) {
        long[] l = limits.get(task);
        if (l != null) {
            return l;
        }
        String declared = registry.find(task).map(d -> d.options().rateLimit()).orElse(null);
        if (declared == null) {
            return null;
        }
        return limits.computeIfAbsent(task, t -> new long[] {intervalNanos(declared), System.nanoTime()});
    }

    /** Waits, if {@code task} is limited, until it may start. */
    void acquire(String task) throws InterruptedException {
        long[] l = limit(task);
        if (l == null || l[0] == 0) {
            return;
        }
        long start;
        synchronized (l) {
            long now = System.nanoTime();
            start = Math.max(now, l[1]);
            l[1] = start + l[0];
        }
        long wait = start - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
