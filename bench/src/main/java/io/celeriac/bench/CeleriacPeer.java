package io.celeriac.bench;

import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskResult;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A Celery-protocol worker — Celeriac's, or Python Celery's for comparison — on a broker of its own,
 * tasks sent by Celeriac's client; a task has completed when its result is stored ({@code date_done}).
 */
final class CeleriacPeer implements Peer {
    private static final String QUEUE = "bench";
    private final String name;
    private final Scenario scenario;
    private final String configuration;
    private final WorkerProcess worker;
    private final Celeriac client;
    private final SendOptions to = SendOptions.options().withQueue(QUEUE);

    CeleriacPeer(String name, Scenario scenario, Path work, String configuration) {
        this.name = name;
        this.scenario = scenario;
        this.configuration = configuration;
        this.worker = new WorkerProcess(name, work.resolve(name + "-worker.log"));
        this.client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, scenario.brokerUrl()).build(), new TaskRegistry());
        client.broker().purge(QUEUE);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String configuration() {
        return configuration + "; worker: " + String.join(" ", scenario.workerArgs(QUEUE)).replaceAll("--broker \\S+ ?", "").strip();
    }

    /** Sends the backlog from 8 threads: one send is one commit, and on PostgreSQL a commit waits for its fsync. */
    @Override
    public List<String> load(int n) throws Exception {
        String[] ids = new String[n];
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<?>> parts = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int from = t;
                parts.add(pool.submit(() -> {
                    for (int i = from; i < n; i += 8) {
                        ids[i] = send();
                    }
                }));
            }
            for (java.util.concurrent.Future<?> f : parts) {
                f.get();
            }
        } finally {
            pool.shutdown();
        }
        return List.of(ids);
    }

    @Override
    public void startWorker() throws Exception {
        worker.started(Measure.startWorker(scenario, QUEUE, worker.log()));
    }

    @Override
    public String send() {
        return client.send(scenario.task(), scenario.args(), Map.of(), to).id();
    }

    @Override
    public Map<String, Instant> completions(List<String> ids, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        // wait without competing for the CPU: a cheap look at the queue now and then, then read the results
        while (client.broker().size(QUEUE) > 0 && System.nanoTime() < deadline) {
            worker.checkAlive();
            Thread.sleep(100);
        }
        Map<String, Instant> m = new HashMap<>();
        for (String id : ids) {
            Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
            Optional<TaskResult> r = left.isZero() ? client.results().get(id) : client.results().await(id, left);
            if (r.isPresent() && r.get().state().ready() && r.get().dateDone() != null) {
                m.put(id, r.get().dateDone());
            }
        }
        return m;
    }

    @Override
    public void stopWorker() throws Exception {
        worker.stop();
    }

    @Override
    public void close() throws Exception {
        stopWorker();
        client.close();
    }
}
