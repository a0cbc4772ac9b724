package io.celeriac.bench;

import io.celeriac.AsyncResult;
import io.celeriac.Canvas;
import io.celeriac.Celeriac;
import io.celeriac.Signature;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskResult;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Chains of five {@code add} steps through one worker process: the chains are sent first (by
 * Celeriac's client, with no worker running: the same messages Celery's client sends), then a
 * worker started on them; chains per second from the first step's result to the last chain's.
 * Every step after the first is published by the worker that ran the step before it.
 */
final class Chains {
    static final int STEPS = 5;

    /** @param workerCpuSecs CPU time the worker (and its children) used from its start to the last result */
    record Figures(double chainsPerSec, double stepsPerSec, double secs, double workerCpuSecs) {
    }

    /** User and system CPU of a process and its descendants so far (Linux /proc; 0 elsewhere). */
    static double cpuSecs(ProcessHandle root) {
        double total = 0;
        List<ProcessHandle> all = new ArrayList<>(root.descendants().toList());
        all.add(root);
        for (ProcessHandle h : all) {
            try {
                String stat = java.nio.file.Files.readString(Path.of("/proc", Long.toString(h.pid()), "stat"));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                total += (Long.parseLong(f[11]) + Long.parseLong(f[12])) / 100.0;
            } catch (Exception gone) {
                // exited, or not Linux
            }
        }
        return total;
    }

    private Chains() {
    }

    static Figures run(Scenario s, Path work, int chains) throws Exception {
        String queue = "bench";
        Config config = Config.builder().set(Settings.BROKER_URL, s.brokerUrl()).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            client.broker().purge(queue);
            List<AsyncResult> sent = new ArrayList<>(chains);
            for (int i = 0; i < chains; i++) {
                List<Signature> steps = new ArrayList<>();
                steps.add(Signature.of("add", i, 1).set("queue", queue));
                for (int k = 1; k < STEPS; k++) {
                    steps.add(Signature.of("add", 1).set("queue", queue));
                }
                sent.add(client.apply(Canvas.chain(steps)));
            }
            Path log = work.resolve(s.name() + "-chains-worker.log");
            Process worker = Measure.startWorker(s, queue, log);
            try {
                Instant first = null;
                Instant last = null;
                for (int i = 0; i < chains; i++) {
                    AsyncResult r = sent.get(i);
                    long v = r.get(Duration.ofMinutes(10)).asLong();
                    if (v != i + STEPS) {
                        throw new IllegalStateException("chain " + i + " gave " + v + "; see " + log);
                    }
                    AsyncResult head = r;
                    while (head.parent().isPresent()) {
                        head = head.parent().get();
                    }
                    TaskResult start = head.meta().orElseThrow();
                    TaskResult end = r.meta().orElseThrow();
                    first = first == null || start.dateDone().isBefore(first) ? start.dateDone() : first;
                    last = last == null || end.dateDone().isAfter(last) ? end.dateDone() : last;
                }
                double secs = Duration.between(first, last).toNanos() / 1e9;
                double cpu = cpuSecs(worker.toHandle());
                return new Figures(chains / secs, chains * STEPS / secs, secs, cpu);
            } finally {
                Measure.stop(worker);
            }
        }
    }
}
