package io.celeriac.bench;

import io.celeriac.testkit.LocalPostgres;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code bench/run --suite peers}: back to back on the machine's PostgreSQL and on one Redis of its
 * own, each system in a process of its own with 2 worker threads, the same no-op task: Celeriac,
 * db-scheduler and JobRunr on PostgreSQL, Celeriac and Python Celery on Redis. Two methods per
 * system: a burn-down (a backlog sent with no worker running, then drained: tasks / (last − first
 * completion)) and a paced run at 50% and 90% of that system's burn-down rate (latency from send to
 * completion). Writes the figures, the ratios and each system's configuration to
 * {@code bench/results/peers-<UTC time>.txt}.
 *
 * <pre>
 *   bench/run --suite peers [--tasks 10000] [--jobrunr-tasks 3000] [--paced-seconds 10] [--producers 16] [--db-scheduler-fractions 1.0,4.0]
 *             [--peers celeriac-pg,db-scheduler-pg,jobrunr-pg,celeriac-redis,celery-redis] [--out FILE]
 * </pre>
 */
final class PeerSuite {
    record Row(String name, String configuration, int tasks, double loadSecs, double burnPerSec, double burnSecs,
               Paced.Figures half, Paced.Figures ninety, String loadBefore, String loadAfter) {
    }

    private PeerSuite() {
    }

    static void run(Map<String, String> a, String[] args, Path work) throws Exception {
        int n = Integer.parseInt(a.getOrDefault("tasks", "10000"));
        // JobRunr drains about a tenth as fast as the others here: a smaller backlog keeps the suite near 5 minutes
        int nJobRunr = Integer.parseInt(a.getOrDefault("jobrunr-tasks", Integer.toString(Math.min(n, 3000))));
        Duration paced = Duration.ofMillis((long) (1000 * Double.parseDouble(a.getOrDefault("paced-seconds", "10"))));
        int producers = Integer.parseInt(a.getOrDefault("producers", "16"));
        List<String> only = List.of(a.getOrDefault("peers", "celeriac-pg,db-scheduler-pg,jobrunr-pg,celeriac-redis,celery-redis")
                .split(","));
        PeerDb.quietLogging();
        String startLoad = uptime();
        StringBuilder report = new StringBuilder();
        report.append("# Celeriac benchmark: peers\n");
        report.append("date:      ").append(Instant.now()).append('\n');
        report.append("command:   bench/run ").append(String.join(" ", args)).append('\n');
        report.append("machine:   ").append(Runtime.getRuntime().availableProcessors()).append(" cores, ")
                .append(System.getProperty("os.name")).append(' ').append(System.getProperty("os.arch")).append(", Java ")
                .append(System.getProperty("java.version")).append('\n');
        report.append("load:      at start ").append(startLoad).append('\n');
        report.append("workload:  a no-op task, ").append(n).append(" for the burn-down (JobRunr ").append(nJobRunr).append("); paced for ").append(paced.toMillis() / 1000.0)
                .append(" s at 50% and at 90% of the system's own burn-down rate, by ").append(producers)
                .append(" producer threads in the benchmark's JVM\n");
        List<Row> rows = new ArrayList<>();
        try (LocalPostgres pg = new LocalPostgres(); RedisServer redis = RedisServer.start(work.resolve("redis"), false)) {
            report.append("stores:    PostgreSQL ").append(pg.psql("postgres", "show server_version"))
                    .append(" at 127.0.0.1:5432 (the machine's, fsync on), a new database per system; a redis-server of its own,")
                    .append(" database 0 for Celeriac, 1 for Celery\n\n");
            System.out.print(report);
            Map<String, Callable<Peer>> peers = new LinkedHashMap<>();
            peers.put("celeriac-pg", () -> celeriac("celeriac-pg", pg.createDatabase(), work, false,
                    "Celeriac " + io.celeriac.worker.Worker.VERSION + " on PostgreSQL (its postgresql:// broker and result backend),"
                            + " a database of its own; thread pool, 2 slots, acks late, results stored"));
            String[] fractions = a.getOrDefault("db-scheduler-fractions", "1.0,4.0").split(",");
            peers.put("db-scheduler-pg", () -> new DbSchedulerPeer(pg, work, Double.parseDouble(fractions[0]),
                    Double.parseDouble(fractions[1])));
            peers.put("jobrunr-pg", () -> new JobRunrPeer(pg, work));
            peers.put("celeriac-redis", () -> celeriac("celeriac-redis", redis.url(0), work, false,
                    "Celeriac " + io.celeriac.worker.Worker.VERSION + " on Redis (broker and result backend); thread pool,"
                            + " 2 slots, prefetch multiplier 64 (as Celery's, below), acks late, results stored"));
            peers.put("celery-redis", () -> celeriac("celery-redis", redis.url(1), work, true,
                    "Python Celery 5.2 (Debian's python3-celery) on Redis (broker and result backend); prefork pool,"
                            + " concurrency 2, prefetch multiplier 64 (Celery's Optimizing guide: raise it for many short tasks),"
                            + " acks early (its default), results stored; tasks sent by Celeriac's client (the same messages)"));
            for (Map.Entry<String, Callable<Peer>> e : peers.entrySet()) {
                if (!only.contains(e.getKey())) {
                    continue;
                }
                try (Peer p = e.getValue().call()) {
                    Row r = measure(p, p instanceof JobRunrPeer ? nJobRunr : n, paced, producers);
                    rows.add(r);
                    System.out.print(line(r));
                }
            }
        }
        String tables = PeerReport.text(rows, uptime());
        report.append(tables);
        Path out = Path.of(a.getOrDefault("out", "bench/results/peers-"
                + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()) + ".txt"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.print(tables);
        System.out.println("\nwritten to " + out);
    }

    private static Peer celeriac(String name, String url, Path work, boolean celery, String configuration) {
        Scenario s = new Scenario(name, url, celery ? "prefork" : "threads", 2, 0, "noop", List.of(), 0, 0, celery,
                url.startsWith("redis") ? 64 : 0);
        return new CeleriacPeer(name, s, work, configuration);
    }

    static Row measure(Peer p, int n, Duration paced, int producers) throws Exception {
        String before = uptime();
        long t0 = System.nanoTime();
        List<String> ids = p.load(n);
        double loadSecs = (System.nanoTime() - t0) / 1e9;
        p.startWorker();
        Map<String, Instant> done = p.completions(ids, Duration.ofMinutes(10));
        if (done.size() < n) {
            throw new IllegalStateException(p.name() + ": only " + done.size() + " of " + n + " backlog tasks completed");
        }
        Instant first = done.values().stream().min(Instant::compareTo).orElseThrow();
        Instant last = done.values().stream().max(Instant::compareTo).orElseThrow();
        double burnSecs = Duration.between(first, last).toNanos() / 1e9;
        double rate = (n - 1) / burnSecs;
        Paced.Figures half = Paced.run(p, rate * 0.5, paced, producers);
        Paced.Figures ninety = Paced.run(p, rate * 0.9, paced, producers);
        p.stopWorker();
        return new Row(p.name(), p.configuration(), n, loadSecs, rate, burnSecs, half, ninety, before, uptime());
    }

    static String line(Row r) {
        return String.format("%-16s burn-down %8.0f/s | paced 50%%: p50 %8.2f p90 %8.2f p99 %8.2f ms | paced 90%%: p50 %8.2f p90 %8.2f"
                        + " p99 %8.2f ms%n", r.name(), r.burnPerSec(), r.half().p50ms(), r.half().p90ms(), r.half().p99ms(),
                r.ninety().p50ms(), r.ninety().p90ms(), r.ninety().p99ms());
    }

    /** The load averages, as {@code uptime} prints them. */
    static String uptime() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return "load average " + f[0] + ", " + f[1] + ", " + f[2] + " (1, 5, 15 min)";
        } catch (Exception e) {
            return "load average unknown";
        }
    }
}
