package io.celeriac.bench;

import java.util.ArrayList;
import java.util.List;

/**
 * One benchmark run: which broker, which worker (Celeriac's, or Python Celery's for comparison),
 * which pool, which task, how many; where the results go ({@code resultBackend}, null: the broker's URL).
 */
record Scenario(String name, String brokerUrl, String pool, int concurrency, int maxTasksPerChild, String task,
                List<Object> args, int tasks, int latencyTasks, boolean celery, int prefetchMultiplier, List<String> extra,
                String resultBackend) {

    Scenario(String name, String brokerUrl, String pool, int concurrency, int maxTasksPerChild, String task,
             List<Object> args, int tasks, int latencyTasks, boolean celery, int prefetchMultiplier) {
        this(name, brokerUrl, pool, concurrency, maxTasksPerChild, task, args, tasks, latencyTasks, celery, prefetchMultiplier, List.of(),
                null);
    }

    /** This scenario with its results (and, for Celeriac, its coordination store) in {@code url}. */
    Scenario withResultBackend(String url) {
        return new Scenario(name, brokerUrl, pool, concurrency, maxTasksPerChild, task, args, tasks, latencyTasks, celery,
                prefetchMultiplier, extra, url);
    }

    /** Where the results go: {@link #resultBackend()}, or the broker when it names none. */
    String results() {
        return resultBackend == null ? brokerUrl : resultBackend;
    }

    /** This scenario under another name, its worker given {@code more} arguments too (e.g. {@code --set task_history=true}). */
    Scenario with(String newName, String... more) {
        List<String> all = new ArrayList<>(extra);
        all.addAll(List.of(more));
        return new Scenario(newName, brokerUrl, pool, concurrency, maxTasksPerChild, task, args, tasks, latencyTasks, celery,
                prefetchMultiplier, all, resultBackend);
    }

    Scenario(String name, String brokerUrl, String pool, int concurrency, int maxTasksPerChild, String task,
             List<Object> args, int tasks, int latencyTasks) {
        this(name, brokerUrl, pool, concurrency, maxTasksPerChild, task, args, tasks, latencyTasks, false, 0);
    }

    /** The worker's command-line arguments for this scenario (after {@code celeriac} or {@code celery -A app}). */
    List<String> workerArgs(String queue) {
        List<String> a = new ArrayList<>(List.of("worker", "-Q", queue, "-n", celery ? "bench@%h" : "bench",
                "-c", Integer.toString(concurrency), "-P", pool, "--loglevel", "WARNING"));
        if (!celery) {
            a.addAll(List.of("--broker", brokerUrl));
            if (resultBackend != null) {
                a.addAll(List.of("--result-backend", resultBackend));
            }
        }
        if (prefetchMultiplier > 0) { // the same flag for both
            a.add("--prefetch-multiplier");
            a.add(Integer.toString(prefetchMultiplier));
        }
        if (maxTasksPerChild > 0) {
            a.add("--max-tasks-per-child");
            a.add(Integer.toString(maxTasksPerChild));
        }
        a.addAll(extra);
        return a;
    }

    String describe() {
        return name + ": " + (celery ? "Python Celery " : "Celeriac ") + task + args + " × " + tasks + ", pool " + pool
                + ", concurrency " + concurrency
                + (prefetchMultiplier > 0 ? ", prefetch multiplier " + prefetchMultiplier : " (default prefetch)")
                + (maxTasksPerChild > 0 ? ", max_tasks_per_child " + maxTasksPerChild : "")
                + (extra.isEmpty() ? "" : ", " + String.join(" ", extra))
                + (resultBackend == null ? "" : ", results in " + resultBackend);
    }
}
