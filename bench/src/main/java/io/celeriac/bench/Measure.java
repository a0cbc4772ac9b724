package io.celeriac.bench;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.NodeBeat;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Runs one {@link Scenario} against a fresh worker process and returns what it measured. */
final class Measure {
    /** JVM options the worker parent runs with: the same defaults as the ./celeriac launcher. */
    static final List<String> WORKER_JVM = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xms16m", "-Xss512k",
            "-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0"); // the launcher's default

    /** How many tasks one {@code sendMany} call of the batch-send figure carries. */
    static final int SEND_BATCH = 1000;

    /**
     * enqueuePerSec: one send after another; batchSendPerSec: {@code sendMany} of {@link #SEND_BATCH}.
     * @param drainCpuSecs CPU the worker used from when it was first seen taking tasks to the last result read, with the store server's (if known)
     * @param brokerCpuSecs the broker server's CPU over the same span (NaN when it is not a process of the bench's own)
     */
    record Figures(double enqueuePerSec, double batchSendPerSec, double drainPerSec, double drainSecs, double p50ms, double p90ms,
                   double p99ms, double maxMs, long idleRssKib, long idlePssKib, int processes, double drainCpuSecs,
                   double brokerCpuSecs) {
    }

    private static int started;

    private Measure() {
    }

    static Figures run(Scenario s, Path work) throws Exception {
        return run(s, work, null, null);
    }

    /**
     * As {@link #run(Scenario, Path)}, counting the CPU of {@code store} (a server process, or null) in the drain's,
     * and the CPU of {@code broker} (the broker's server process, or null) on its own.
     */
    static Figures run(Scenario s, Path work, ProcessHandle store, ProcessHandle broker) throws Exception {
        String queue = "bench";
        Config config = Config.builder().set(Settings.BROKER_URL, s.brokerUrl()).set(Settings.RESULT_BACKEND, s.results()).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            client.broker().purge(queue);
            SendOptions to = SendOptions.options().withQueue(queue);

            // 1. idle memory, with the children (if any) started
            Path log = work.resolve(s.name() + "-worker.log");
            Process worker = startWorker(s, queue, log);
            try {
                awaitChildren(client, worker, s, log);
                Thread.sleep(2000); // let start-up garbage settle
                long rss = rssKib(worker.toHandle());
                long pss = pssKib(worker.toHandle());
                int processes = 1 + (int) worker.toHandle().descendants().count();
                stop(worker);

                // 2. enqueue with no worker running: half one at a time, half in batches (sendMany)
                List<String> ids = new ArrayList<>(s.tasks());
                int single = s.tasks() - s.tasks() / 2;
                long t0 = System.nanoTime();
                for (int i = 0; i < single; i++) {
                    ids.add(client.send(s.task(), s.args(), Map.of(), to).id());
                }
                double enqueueSecs = (System.nanoTime() - t0) / 1e9;
                long t1 = System.nanoTime();
                for (int sent = single; sent < s.tasks(); sent += SEND_BATCH) {
                    List<io.celeriac.Signature> batch = new ArrayList<>();
                    for (int i = sent; i < Math.min(s.tasks(), sent + SEND_BATCH); i++) {
                        batch.add(io.celeriac.Signature.of(s.task(), s.args(), Map.of()).set(to));
                    }
                    client.sendMany(batch).forEach(r -> ids.add(r.id()));
                }
                double batchSecs = (System.nanoTime() - t1) / 1e9;

                // 3. drain: a fresh worker on the backlog; first to last result, start-up not counted
                worker = startWorker(s, queue, log);
                // wait without competing for the CPU: a cheap look at the queue now and then, then read the results
                double cpu0 = -1; // worker and store CPU when the worker was first seen taking tasks (its start-up left out)
                double brokerCpu0 = 0;
                long left;
                while ((left = client.broker().size(queue)) > 0) {
                    if (cpu0 < 0 && left < s.tasks()) {
                        cpu0 = Chains.cpuSecs(worker.toHandle()) + (store == null ? 0 : Chains.cpuSecs(store));
                        brokerCpu0 = broker == null ? 0 : Chains.cpuSecs(broker);
                    }
                    if (!worker.isAlive()) {
                        throw new IllegalStateException("the worker died: " + Files.readString(log));
                    }
                    Thread.sleep(250); // a SQL size() counts the rows: looked at often, it takes the worker's CPU
                }
                Instant first = null;
                Instant last = null;
                for (String id : ids) {
                    TaskResult r = client.results().await(id, Duration.ofMinutes(10))
                            .orElseThrow(() -> new IllegalStateException("no result for " + id + "; see " + log));
                    if (!r.state().ready()) {
                        throw new IllegalStateException("task " + id + " is " + r.state() + "; see " + log);
                    }
                    first = first == null || r.dateDone().isBefore(first) ? r.dateDone() : first;
                    last = last == null || r.dateDone().isAfter(last) ? r.dateDone() : last;
                }
                double drainSecs = Duration.between(first, last).toNanos() / 1e9;
                double drainCpu = Chains.cpuSecs(worker.toHandle()) + (store == null ? 0 : Chains.cpuSecs(store)) - Math.max(0, cpu0);
                double brokerCpu = broker == null || cpu0 < 0 ? Double.NaN : Chains.cpuSecs(broker) - brokerCpu0;

                // 4. latency, one task at a time against the idle worker
                for (int i = 0; i < Math.min(200, s.latencyTasks()); i++) {
                    client.send(s.task(), s.args(), Map.of(), to).get(Duration.ofSeconds(60));
                }
                long[] lat = new long[s.latencyTasks()];
                for (int i = 0; i < lat.length; i++) {
                    long st = System.nanoTime();
                    AsyncResult r = client.send(s.task(), s.args(), Map.of(), to);
                    r.get(Duration.ofSeconds(60));
                    lat[i] = System.nanoTime() - st;
                }
                Arrays.sort(lat);
                int m = lat.length;
                return new Figures(single / enqueueSecs, (s.tasks() - single) / batchSecs, (s.tasks() - 1) / drainSecs, drainSecs,
                        lat[m / 2] / 1e6, lat[(int) (m * 0.90)] / 1e6, lat[(int) (m * 0.99)] / 1e6, lat[m - 1] / 1e6,
                        rss, pss, processes, drainCpu, brokerCpu);
            } finally {
                stop(worker);
            }
        }
    }

    static Process startWorker(Scenario s, String queue, Path log) throws IOException {
        if (s.celery()) {
            return startCelery(s, queue, log);
        }
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java));
        cmd.addAll(WORKER_JVM);
        String extra = System.getenv("BENCH_WORKER_JAVA_OPTS"); // e.g. a profiler: -XX:StartFlightRecording=...
        if (extra != null && !extra.isBlank()) {
            // %n in them becomes the scenario and phase, e.g. filename=/tmp/%n.jfr
            String phase = s.name() + "-" + (++started);
            cmd.addAll(List.of(extra.trim().replace("%n", phase).split("\\s+")));
        }
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), "io.celeriac.cli.Main"));
        cmd.addAll(s.workerArgs(queue));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    /** The Python app the Celery worker runs: a no-op task under the name Celeriac's example app gives it. */
    private static final String CELERY_APP = String.join("\n",
            "import os",
            "from celery import Celery",
            "app = Celery('celeriac_bench', broker=os.environ['BROKER'], backend=os.environ['RESULTS'])",
            "app.conf.update(task_serializer='json', result_serializer='json', accept_content=['json'])",
            "",
            "@app.task(name='noop')",
            "def noop(*args, **kwargs):",
            "    return None",
            "",
            "@app.task(name='add')",
            "def add(x, y):",
            "    return x + y",
            "");

    /** Python Celery's worker from Debian's python3-celery ({@code /usr/bin/python3 -m celery}). */
    private static Process startCelery(Scenario s, String queue, Path log) throws IOException {
        Path dir = log.getParent();
        Files.writeString(dir.resolve("celeriac_bench.py"), CELERY_APP);
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/python3", "-m", "celery", "-A", "celeriac_bench"));
        cmd.addAll(s.workerArgs(queue));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().put("BROKER", s.brokerUrl());
        pb.environment().put("RESULTS", s.results());
        pb.environment().put("PYTHONPATH", dir.toString());
        pb.environment().put("C_FORCE_ROOT", "1");
        return pb.start();
    }

    /** Stops a worker and the processes it started (Celery's prefork children too). */
    static void stop(Process worker) throws InterruptedException {
        List<ProcessHandle> children = worker.toHandle().descendants().toList();
        worker.destroy();
        if (!worker.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
            worker.destroyForcibly().waitFor();
        }
        children.forEach(ProcessHandle::destroyForcibly);
    }

    /**
     * Waits for the worker's heartbeat, and for its children when it has a process pool; a Celery
     * worker, until it has run a first task.
     */
    private static void awaitChildren(Celeriac client, Process worker, Scenario s, Path log) throws Exception {
        if (s.celery()) {
            AsyncResult r = client.send(s.task(), s.args(), Map.of(), SendOptions.options().withQueue("bench"));
            r.get(Duration.ofMinutes(2));
            return;
        }
        String node = "bench@" + TaskMessage.hostName();
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (System.nanoTime() < deadline) {
            if (!worker.isAlive()) {
                throw new IllegalStateException("the worker died: " + Files.readString(log));
            }
            NodeBeat beat = client.coordination().nodes().get(node);
            if (beat != null) {
                int children = Json.read(beat.json()).path("pool_stats").path("processes").size();
                if (!"process".equals(s.pool()) || children >= s.concurrency()) {
                    return;
                }
            }
            Thread.sleep(20);
        }
        throw new IllegalStateException("the worker did not become ready; see " + log);
    }

    /** Resident memory of a process and all its descendants, in KiB (Linux /proc). */
    static long rssKib(ProcessHandle root) {
        long total = rss(root.pid());
        for (ProcessHandle h : root.descendants().toList()) {
            total += rss(h.pid());
        }
        return total;
    }

    /**
     * Proportional set size of a process and all its descendants, in KiB: each page shared by n of them
     * (libjvm, the class-data archives) counted 1/n in each, so the sum is what they use together
     * (/proc/PID/smaps_rollup, Linux 4.14+; 0 where it cannot be read).
     */
    static long pssKib(ProcessHandle root) {
        long total = pss(root.pid());
        for (ProcessHandle h : root.descendants().toList()) {
            total += pss(h.pid());
        }
        return total;
    }

    private static long rss(long pid) {
        return kib(pid, "status", "VmRSS:");
    }

    private static long pss(long pid) {
        return kib(pid, "smaps_rollup", "Pss:");
    }

    /** The KiB figure of the line starting with {@code field} in /proc/PID/{@code file}; 0 when the process is gone (or not Linux). */
    private static long kib(long pid, String file, String field) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), file))) {
                if (line.startsWith(field)) {
                    return Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
        } catch (IOException | NumberFormatException e) {
            // gone, or not Linux
        }
        return 0;
    }
}
