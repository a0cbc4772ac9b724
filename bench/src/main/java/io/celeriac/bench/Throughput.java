package io.celeriac.bench;

import io.celeriac.worker.Worker;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark: pushes tasks through a broker and one worker process, per scenario, and writes
 * what it measured: enqueue rate (one client thread, no worker), drain rate (a worker started on
 * the backlog: first to last result, JVM start-up not counted), send-to-result latency of tasks sent
 * one at a time, and the idle worker's resident memory (parent and children together).
 *
 * <pre>
 *   bench/run                  the default suite: threads pool, process pool, process pool recycling every 50
 *   bench/run --suite quick    the thread pool only
 *   bench/run --suite recycle  the process pool, without and with recycling every 50 tasks
 *   bench/run --suite beat     beat's firing accuracy
 *   bench/run --suite redis    on a Redis of its own: Python Celery's prefork pool, then Celeriac's pools
 *   bench/run --suite rabbitmq on a RabbitMQ node of its own, results in a Redis of its own: the same four
 *   bench/run --suite history  the task history's find() on 1,000,000 records per store [--records N --queries M --stores sqlite,postgres,redis]
 *   bench/run --suite history-cost  the thread pool's drain rate with task_history off and on, on SQLite and on a Redis of its own
 *                              [--stores sqlite,redis,postgres --repeat N: each store's pair N times, off and on in turn; medians]
 *   bench/run --suite peers    Celeriac, db-scheduler and JobRunr on PostgreSQL, Celeriac and Python Celery on Redis: burn-down and paced [--tasks N --paced-seconds S]
 *   bench/run --suite chains   chains of 5 per second on a Redis of its own, Python Celery's worker and Celeriac's [--chains N]
 *   bench/run --tasks N --latency-tasks M --broker URL --out FILE
 *   bench/run --suite S --only NAME,...   only the scenarios named (as the report's first column names them)
 * </pre>
 */
public final class Throughput {
    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        int n = Integer.parseInt(a.getOrDefault("tasks", "20000"));
        int m = Integer.parseInt(a.getOrDefault("latency-tasks", "2000"));
        Path work = Files.createTempDirectory("celeriac-bench");
        String url = a.getOrDefault("broker", "sqlite:" + work.resolve("bench.db"));
        String prefix = switch (a.getOrDefault("suite", "full")) {
            case "redis" -> "redis-";
            case "rabbitmq" -> "rabbitmq-";
            default -> "throughput-";
        };
        Path out = Path.of(a.getOrDefault("out", "bench/results/" + prefix
                + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()) + ".txt"));

        if ("beat".equals(a.get("suite"))) {
            Duration every = Duration.ofMillis(100);
            BeatAccuracy.Figures f = BeatAccuracy.run(work, every, Duration.ofSeconds(30));
            String text = "# Celeriac beat accuracy\ndate:     " + Instant.now() + "\ncommand:  bench/run "
                    + String.join(" ", args) + "\nmachine:  " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                    + System.getProperty("java.version") + ", embedded SQLite broker\n\n" + BeatAccuracy.report(f, every);
            Path beatOut = Path.of(a.getOrDefault("out", out.toString().replace("throughput-", "beat-")));
            Files.createDirectories(beatOut.toAbsolutePath().getParent());
            Files.writeString(beatOut, text);
            System.out.print(text);
            System.out.println("\nwritten to " + beatOut);
            return;
        }
        if ("history".equals(a.get("suite"))) {
            HistoryBench.run(a, args, work);
            return;
        }
        if ("peers".equals(a.get("suite"))) {
            PeerSuite.run(a, args, work);
            return;
        }
        if ("chains".equals(a.get("suite"))) {
            chains(a, args, work, Integer.parseInt(a.getOrDefault("chains", "2000")));
            return;
        }
        List<Scenario> suite = new ArrayList<>();
        io.celeriac.testkit.RedisServer ownRedis = null;
        boolean rabbitSuite = "rabbitmq".equals(a.get("suite"));
        boolean redisSuite = "redis".equals(a.get("suite")) || rabbitSuite;
        boolean historyCost = "history-cost".equals(a.get("suite"));
        io.celeriac.testkit.RabbitNode ownNode = null;
        String results = null; // the result backend, when not the broker
        if ((redisSuite || historyCost) && !a.containsKey("broker")) {
            ownRedis = io.celeriac.testkit.RedisServer.start(work.resolve("redis"), false);
            io.celeriac.testkit.RedisServer own = ownRedis;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> { // a failed run leaves no redis-server behind
                try {
                    own.close();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            url = ownRedis.url(0);
        }
        if (rabbitSuite) {
            // the broker a RabbitMQ node of its own (or --broker amqp://...), the results in the Redis
            results = ownRedis == null ? a.getOrDefault("result-backend", "redis://127.0.0.1:6379/0") : url;
            if (!a.containsKey("broker")) {
                ownNode = io.celeriac.testkit.RabbitNode.launch();
                url = ownNode.url();
            }
        }
        io.celeriac.testkit.LocalPostgres pg = null;
        List<String> costStores = List.of();
        if (historyCost) {
            // what the task history costs the task's path: the same drain with task_history off, then on (in turn, --repeat times)
            costStores = List.of(a.getOrDefault("stores", "sqlite,redis").split(","));
            int repeat = Integer.parseInt(a.getOrDefault("repeat", "1"));
            for (String store : costStores) {
                String storeUrl = switch (store) {
                    case "sqlite" -> "sqlite:" + work.resolve("history-cost.db");
                    case "redis" -> url;
                    case "postgres" -> {
                        pg = pg == null ? new io.celeriac.testkit.LocalPostgres() : pg;
                        yield pg.createDatabase();
                    }
                    default -> throw new IllegalArgumentException("unknown store '" + store + "' (sqlite, redis, postgres)");
                };
                Scenario off = new Scenario(store + "-threads-2", storeUrl, "threads", 2, 0, "noop", List.of(), n, m);
                for (int i = 0; i < repeat; i++) {
                    suite.add(off);
                    suite.add(off.with(store + "-threads-2-history", "--set", "task_history=true"));
                }
            }
        } else if (redisSuite) {
            // back to back on one broker: Python Celery's prefork pool, then Celeriac's process and thread pools
            // defaults first (prefetch multiplier 4 for both), then both with a deep prefetch, as for short tasks
            List<Scenario> pair = List.of(
                    new Scenario("celery-prefork-2", url, "prefork", 2, 0, "noop", List.of(), n, m, true, 0),
                    new Scenario("celeriac-process-2", url, "process", 2, 0, "noop", List.of(), n, m),
                    new Scenario("celeriac-threads-2", url, "threads", 2, 0, "noop", List.of(), n, m),
                    new Scenario("celery-prefork-2-pf64", url, "prefork", 2, 0, "noop", List.of(), n, m, true, 64),
                    new Scenario("celeriac-process-2-pf64", url, "process", 2, 0, "noop", List.of(), n, m, false, 64),
                    new Scenario("celeriac-threads-2-pf64", url, "threads", 2, 0, "noop", List.of(), n, m, false, 64));
            for (Scenario s : pair) {
                suite.add(results == null ? s : s.withResultBackend(results));
            }
        } else {
            suite.add(new Scenario("threads", url, "threads", 2, 0, "noop", List.of(), n, m));
        }
        Scenario process = new Scenario("process", url, "process", 2, 0, "noop", List.of(), n, m);
        List<Scenario> recycling = List.of(process,
                new Scenario("process-recycle-50", url, "process", 2, 50, "noop", List.of(), n, Math.min(m, 500))); // the same backlog: a reload is cheap now
        if ("process-quick".equals(a.get("suite"))) {
            suite.clear();
            suite.add(process);
        }
        if ("recycle".equals(a.get("suite"))) {
            suite.clear();
            suite.addAll(recycling);
        }
        if (!a.getOrDefault("suite", "full").endsWith("quick") && !redisSuite && !historyCost && !"recycle".equals(a.get("suite"))) {
            suite.addAll(recycling);
            suite.add(new Scenario("process-10ms", url, "process", 2, 0, "sleep", List.of(0.01), Math.max(500, n / 20), 100));
            suite.add(new Scenario("process-10ms-recycle-50", url, "process", 2, 50, "sleep", List.of(0.01),
                    Math.max(500, n / 20), 100));
        }
        if (a.containsKey("only")) { // a development loop: just the scenarios named, e.g. --only celeriac-threads-2
            List<String> only = List.of(a.get("only").split(","));
            suite.removeIf(s -> !only.contains(s.name()));
            if (suite.isEmpty()) {
                throw new IllegalArgumentException("--only " + a.get("only") + " names none of this suite's scenarios");
            }
        }

        StringBuilder report = new StringBuilder();
        report.append("# Celeriac benchmark\n");
        report.append("date:     ").append(Instant.now()).append('\n');
        report.append("command:  bench/run ").append(String.join(" ", args)).append('\n');
        report.append("broker:   ").append(url).append(ownNode == null ? "" : " (a RabbitMQ node of its own)").append('\n');
        if (results != null) {
            report.append("results:  ").append(results).append(ownRedis == null ? "" : " (a redis-server of its own)").append('\n');
        }
        report.append("load:     ").append(PeerSuite.uptime()).append(" at the start\n");
        report.append("machine:  ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch"))
                .append(", Java ").append(System.getProperty("java.version")).append('\n');
        report.append("worker:   1 process (Celeriac: JVM ").append(String.join(" ", Measure.WORKER_JVM)).append("), celeriac ")
                .append(Worker.VERSION).append("\n\n");
        ProcessHandle brokerProcess = ownNode == null ? null : ownNode.handle();
        report.append(String.format("%-24s %10s %10s %10s %9s %9s %9s %12s %12s %11s%s%n", "scenario", "enqueue/s", "batch/s", "drain/s",
                "p50 ms", "p99 ms", "max ms", "idle RSS MiB", "idle PSS MiB", "CPU µs/task",
                brokerProcess == null ? "" : String.format(" %14s", "broker µs/task")));
        System.out.print(report);
        Map<String, Measure.Figures> figures = new HashMap<>();
        Map<String, List<Double>> drains = new HashMap<>();
        Map<String, List<Double>> cpus = new HashMap<>();
        for (Scenario s : suite) {
            Measure.Figures f = Measure.run(s, work, (historyCost || redisSuite) && s.brokerUrl().equals(url) && ownRedis != null
                    ? ProcessHandle.of(ownRedis.pid()).orElse(null) : null, brokerProcess);
            figures.put(s.name(), f);
            drains.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(f.drainPerSec());
            cpus.computeIfAbsent(s.name(), k -> new ArrayList<>()).add(f.drainCpuSecs());
            String line = String.format("%-24s %10.0f %10.0f %10.0f %9.2f %9.2f %9.2f %8.1f (%d) %12.1f %11.0f%s%n", s.name(), f.enqueuePerSec(),
                    f.batchSendPerSec(), f.drainPerSec(), f.p50ms(), f.p99ms(), f.maxMs(), f.idleRssKib() / 1024.0, f.processes(),
                    f.idlePssKib() / 1024.0, 1e6 * f.drainCpuSecs() / s.tasks(),
                    brokerProcess == null ? "" : String.format(" %14.0f", 1e6 * f.brokerCpuSecs() / s.tasks()));
            report.append(line);
            System.out.print(line);
        }
        report.append("\n");
        suite.stream().distinct().forEach(s -> report.append("  ").append(s.describe()).append('\n'));
        if (historyCost) {
            report.append('\n');
            for (String store : costStores) {
                if (!drains.containsKey(store + "-threads-2") || !drains.containsKey(store + "-threads-2-history")) {
                    continue; // one of the pair left out with --only
                }
                double off = median(drains.get(store + "-threads-2"));
                double on = median(drains.get(store + "-threads-2-history"));
                double cpuOff = median(cpus.get(store + "-threads-2"));
                double cpuOn = median(cpus.get(store + "-threads-2-history"));
                report.append(String.format("%-8s history costs %5.1f%% of the drain rate (median drain/s %.0f off, %.0f on, of %d runs each);"
                                + " CPU %.0f µs a task off, %.0f on (+%.0f%%)%n", store, 100 * (off - on) / off, off, on,
                        drains.get(store + "-threads-2").size(), 1e6 * cpuOff / n, 1e6 * cpuOn / n, 100 * (cpuOn - cpuOff) / cpuOff));
            }
        }
        if (pg != null) {
            pg.close();
        }
        if (redisSuite) {
            for (String name : List.of("celeriac-process-2", "celeriac-threads-2", "celeriac-process-2-pf64",
                    "celeriac-threads-2-pf64")) {
                Measure.Figures celery = figures.get(name.endsWith("-pf64") ? "celery-prefork-2-pf64" : "celery-prefork-2");
                Measure.Figures f = figures.get(name);
                if (celery == null || f == null) {
                    continue; // left out with --only
                }
                report.append(String.format("%s vs Celery prefork -c 2 (same prefetch): drain (Celeriac/Celery) %.1fx, latency p50 %.1fx lower,"
                                + " p99 %.1fx lower, idle RSS %.1fx%n", name, f.drainPerSec() / celery.drainPerSec(),
                        celery.p50ms() / f.p50ms(), celery.p99ms() / f.p99ms(), (double) f.idleRssKib() / celery.idleRssKib()));
            }
            report.append("(Every row's tasks are sent by Celeriac's client, so enqueue/s measures the client, not the worker;"
                    + " Celery acks early, its default; Celeriac acks late, its default.)\n");
        }
        ratio(report, figures, "process-recycle-50", "process");
        ratio(report, figures, "process-10ms-recycle-50", "process-10ms");
        if (historyCost) {
            report.append("\nCPU a task: the worker's from when it was first seen taking tasks (its start-up left out) to the last"
                    + " result read, with its Redis server's meanwhile (SQLite: in the worker; PostgreSQL's server not counted),"
                    + " over the tasks.\n");
        }
        if (redisSuite && ownRedis != null) {
            report.append("\nCPU µs/task: the worker's (all its processes') and its Redis server's CPU from when the worker was first seen"
                    + " taking tasks to the last result read, over the backlog (its start-up and the latency phase left out; the Redis server also serves the client reading the results);"
                    + " steadier than drain/s on a loaded machine.\n");
        }
        if (brokerProcess != null) {
            report.append("\nbroker µs/task: the RabbitMQ node's CPU (beam.smp and its helpers) over the same span as CPU µs/task, over the"
                    + " backlog: delivering and taking the acks of the messages (a share of the 2 cores the worker cannot have).\n");
        }
        report.append("\nenqueue/s: half the backlog sent one at a time by one client thread, no worker running; batch/s: the other"
                + " half sent with sendMany, " + Measure.SEND_BATCH + " tasks a call;\n"
                + "drain/s: first to last result of a backlog, results stored, acks late; latency: send to result"
                + " read, one task at a time;\nidle RSS: worker parent and children together (processes in brackets); idle PSS: the same with each page shared by several of them (libjvm, class-data archives) counted once, split among them: what they use together;\n"
                + "CPU µs/task: the worker's CPU (parent and children) from when it was first seen taking tasks to the last result read,"
                + " over the backlog (a database server's own CPU not counted).\n");
        report.append("load at the end: ").append(PeerSuite.uptime()).append('\n');
        if (ownRedis != null) {
            ownRedis.close();
        }
        if (ownNode != null) {
            ownNode.close();
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.println("\nwritten to " + out);
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int k = sorted.size();
        return k % 2 == 1 ? sorted.get(k / 2) : (sorted.get(k / 2 - 1) + sorted.get(k / 2)) / 2;
    }

    /** {@code --suite chains}: chains of 5 per second on one Redis, Python Celery's worker and Celeriac's, back to back. */
    private static void chains(Map<String, String> a, String[] args, Path work, int chains) throws Exception {
        io.celeriac.testkit.RedisServer ownRedis = a.containsKey("broker") ? null : io.celeriac.testkit.RedisServer.start(work.resolve("redis"), false);
        String url = ownRedis == null ? a.get("broker") : ownRedis.url(0);
        List<Scenario> suite = List.of(
                new Scenario("celery-prefork-2", url, "prefork", 2, 0, "add", List.of(), chains, 0, true, 0),
                new Scenario("celeriac-process-2", url, "process", 2, 0, "add", List.of(), chains, 0),
                new Scenario("celeriac-threads-2", url, "threads", 2, 0, "add", List.of(), chains, 0));
        StringBuilder report = new StringBuilder();
        report.append("# Celeriac benchmark: chains of ").append(Chains.STEPS).append('\n');
        report.append("date:     ").append(Instant.now()).append('\n');
        report.append("command:  bench/run ").append(String.join(" ", args)).append('\n');
        report.append("broker:   ").append(url).append(ownRedis == null ? "" : " (a redis-server of its own)").append('\n');
        report.append("machine:  ").append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
                .append(System.getProperty("java.version")).append('\n');
        report.append("chains:   ").append(chains).append(" × add → add → add → add → add, results stored\n\n");
        report.append(String.format("%-22s %10s %10s %9s %12s%n", "worker", "chains/s", "steps/s", "seconds", "worker CPU s"));
        System.out.print(report);
        Map<String, Chains.Figures> figures = new HashMap<>();
        for (Scenario s : suite) {
            Chains.Figures f = Chains.run(s, work, chains);
            figures.put(s.name(), f);
            String line = String.format("%-22s %10.0f %10.0f %9.2f %12.2f%n", s.name(), f.chainsPerSec(), f.stepsPerSec(), f.secs(),
                    f.workerCpuSecs());
            report.append(line);
            System.out.print(line);
        }
        report.append('\n');
        Chains.Figures celery = figures.get("celery-prefork-2");
        for (String name : List.of("celeriac-process-2", "celeriac-threads-2")) {
            report.append(String.format("%s vs Celery prefork -c 2: %.1fx the chains per second%n", name,
                    figures.get(name).chainsPerSec() / celery.chainsPerSec()));
        }
        report.append("(default prefetch for both; the chains are sent by Celeriac's client before the worker starts;"
                + " each later step is published by the worker, committed with the result of the step before it)\n");
        if (ownRedis != null) {
            ownRedis.close();
        }
        Path out = Path.of(a.getOrDefault("out", "bench/results/chains-"
                + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()) + ".txt"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.println("\nwritten to " + out);
    }

    private static void ratio(StringBuilder report, Map<String, Measure.Figures> f, String recycled, String base) {
        if (f.containsKey(recycled) && f.containsKey(base)) {
            report.append(String.format("recycling every 50 keeps %.0f%% of %s throughput (%.0f of %.0f tasks/s)%n",
                    100 * f.get(recycled).drainPerSec() / f.get(base).drainPerSec(), base,
                    f.get(recycled).drainPerSec(), f.get(base).drainPerSec()));
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("usage: bench/run [--suite full|quick|recycle|beat|redis|rabbitmq|peers|chains|history|history-cost] [--tasks N] [--latency-tasks M]"
                        + " [--broker URL] [--out FILE]");
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }
}
