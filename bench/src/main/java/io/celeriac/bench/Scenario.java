package io.celeriac.bench;

import java.util.ArrayList;
import java.util.List;

/** One benchmark run: which broker, which pool, which task, how many. */
record Scenario(String name, String brokerUrl, String pool, int concurrency, int maxTasksPerChild, String task,
                List<Object> args, int tasks, int latencyTasks) {

    /** The worker's command-line arguments for this scenario. */
    List<String> workerArgs(String queue) {
        List<String> a = new ArrayList<>(List.of("worker", "--broker", brokerUrl, "-Q", queue, "-n", "bench",
                "-c", Integer.toString(concurrency), "-P", pool, "--loglevel", "WARNING"));
        if (maxTasksPerChild > 0) {
            a.add("--max-tasks-per-child");
            a.add(Integer.toString(maxTasksPerChild));
        }
        return a;
    }

    String describe() {
        return name + ": " + task + args + " × " + tasks + ", pool " + pool + ", concurrency " + concurrency
                + (maxTasksPerChild > 0 ? ", max_tasks_per_child " + maxTasksPerChild : "");
    }
}
