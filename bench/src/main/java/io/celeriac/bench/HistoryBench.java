package io.celeriac.bench;

import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Backends;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskHistory.Cursor;
import io.celeriac.spi.TaskHistory.Query;
import io.celeriac.spi.TaskRecord;
import io.celeriac.spi.TaskRecord.Step;
import io.celeriac.testkit.LocalPostgres;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * The task history's search on a big store ({@code bench/run --suite history}): each store (SQLite
 * file, PostgreSQL database on the local server, Redis of its own) is filled with
 * {@code --records} records (default 1,000,000) through {@link TaskHistory#record} in batches of
 * 500, as workers write them, then {@code --queries} {@link TaskHistory#find} calls of mixed kinds
 * (a page of 50 each) are timed: p50/p99 per store and per kind. The bar: p99 under 200 ms.
 */
final class HistoryBench {
    private static final String[] NAMES = new String[20];
    private static final String[] WORKERS = new String[8];
    private static final String[] KINDS = {"latest", "by name", "by state", "by worker", "by id prefix", "deep page", "name+state"};
    private static final int PAGE = 50;
    private static final int BATCH = 500;

    static {
        for (int i = 0; i < NAMES.length; i++) {
            NAMES[i] = "factcheck.task_" + i;
        }
        for (int i = 0; i < WORKERS.length; i++) {
            WORKERS[i] = "celery@worker-" + i;
        }
    }

    private HistoryBench() {
    }

    static void run(Map<String, String> a, String[] args, Path work) throws Exception {
        int records = Integer.parseInt(a.getOrDefault("records", "1000000"));
        int queries = Integer.parseInt(a.getOrDefault("queries", "1000"));
        List<String> stores = Arrays.asList(a.getOrDefault("stores", "sqlite,postgres,redis").split(","));
        Path out = Path.of(a.getOrDefault("out", "bench/results/history-"
                + DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now()) + ".txt"));
        StringBuilder report = new StringBuilder("# Celeriac task history search\ndate:     " + Instant.now() + "\ncommand:  bench/run "
                + String.join(" ", args) + "\nmachine:  " + Runtime.getRuntime().availableProcessors() + " cores, Java "
                + System.getProperty("java.version") + "\nstore:    " + records + " records (batches of " + BATCH + "), then "
                + queries + " find() calls of " + PAGE + ", kinds round-robin: " + String.join(", ", KINDS) + "\n\n");
        System.out.print(report);
        LocalPostgres pg = new LocalPostgres();
        RedisServer redis = null;
        try {
            for (String store : stores) {
                String url;
                switch (store) {
                    case "sqlite" -> url = "sqlite:" + work.resolve("history.db");
                    case "postgres" -> url = a.getOrDefault("postgres", null) != null ? a.get("postgres") : pg.createDatabase();
                    case "redis" -> {
                        redis = RedisServer.start(work.resolve("redis"), false);
                        url = redis.url();
                    }
                    default -> throw new IllegalArgumentException("unknown store '" + store + "' (sqlite, postgres, redis)");
                }
                ProcessHandle server = "redis".equals(store) ? ProcessHandle.of(redis.pid()).orElse(null) : null;
                String line = measure(store, url, records, queries, server);
                report.append(line);
                System.out.print(line);
            }
        } finally {
            if (redis != null) {
                redis.close();
            }
            pg.close();
        }
        report.append("\nbar: p99 < 200 ms for every store\n");
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, report.toString());
        System.out.println("\nwritten to " + out);
    }

    /** Fills and searches one store; {@code server}: its server process (Redis), whose CPU a record the fill reports, or null. */
    private static String measure(String store, String url, int records, int queries, ProcessHandle server) throws Exception {
        Config config = Config.builder().set(Settings.BROKER_URL, url).build();
        Random random = new Random(42);
        Instant base = Instant.now().minusSeconds(6 * 24 * 3600);
        List<TaskRecord> sample = new ArrayList<>(); // every 997th record, for id prefixes and cursors
        long fillNanos;
        double serverCpu;
        long count;
        try (TaskHistory h = Backends.openTaskHistory(config)) {
            long start = System.nanoTime();
            double serverCpu0 = server == null ? 0 : Chains.cpuSecs(server);
            List<TaskRecord> batch = new ArrayList<>(BATCH);
            for (int i = 0; i < records; i++) {
                TaskRecord r = record(i, base, random);
                batch.add(r);
                if (i % 997 == 0) {
                    sample.add(r);
                }
                if (batch.size() == BATCH) {
                    h.record(batch);
                    batch.clear();
                }
                if (i > 0 && i % 100_000 == 0) {
                    System.out.printf("  %s: %,d records, %.0f/s%n", store, i, i / ((System.nanoTime() - start) / 1e9));
                }
            }
            h.record(batch);
            fillNanos = System.nanoTime() - start;
            serverCpu = server == null ? 0 : Chains.cpuSecs(server) - serverCpu0;
            count = h.count();
        }
        // A new instance, as a dashboard started after the workers wrote: nothing cached.
        long[][] byKind = new long[KINDS.length][];
        int[] n = new int[KINDS.length];
        for (int k = 0; k < KINDS.length; k++) {
            byKind[k] = new long[queries / KINDS.length + 1];
        }
        long[] all = new long[queries];
        long rows = 0;
        try (TaskHistory h = Backends.openTaskHistory(config)) {
            for (int i = 0; i < 50; i++) { // warm-up
                h.find(query(i % KINDS.length, random, sample));
            }
            for (int i = 0; i < queries; i++) {
                int kind = i % KINDS.length;
                Query q = query(kind, random, sample);
                long t = System.nanoTime();
                TaskHistory.Page p = h.find(q);
                long took = System.nanoTime() - t;
                rows += p.records().size();
                all[i] = took;
                byKind[kind][n[kind]++] = took;
            }
        }
        StringBuilder s = new StringBuilder(String.format("%-9s filled %,d records in %.1f s (%,.0f records/s), count() %,d%s%n", store,
                records, fillNanos / 1e9, records / (fillNanos / 1e9), count,
                server == null ? "" : String.format("; the server's CPU %.1f µs a record", serverCpu * 1e6 / records)));
        s.append(String.format("%-9s find: p50 %s  p99 %s  max %s  (%,d queries, %.1f rows each)%n", store, ms(all, 0.50), ms(all, 0.99),
                ms(all, 1.0), queries, rows / (double) queries));
        for (int k = 0; k < KINDS.length; k++) {
            long[] v = Arrays.copyOf(byKind[k], n[k]);
            s.append(String.format("          %-13s p50 %s  p99 %s%n", KINDS[k], ms(v, 0.50), ms(v, 0.99)));
        }
        return s.append('\n').toString();
    }

    /** Record i: 5 records per millisecond (ties in updated), a realistic mix of states. */
    private static TaskRecord record(int i, Instant base, Random random) {
        Instant updated = base.plusNanos((i / 5) * 1_000_000L * 100); // 0.1 s per 5 records: 1M records over ~5.8 days
        int roll = random.nextInt(100);
        TaskState state = roll < 80 ? TaskState.SUCCESS : roll < 90 ? TaskState.FAILURE : roll < 94 ? TaskState.STARTED
                : roll < 98 ? TaskState.RETRY : TaskState.REVOKED;
        String worker = WORKERS[random.nextInt(WORKERS.length)];
        Instant started = updated.minusMillis(20);
        List<Step> timeline = List.of(new Step(TaskState.RECEIVED, started.minusMillis(1), worker, 0, null),
                new Step(TaskState.STARTED, started, worker, 0, null), new Step(state, updated, worker, 0,
                        state == TaskState.FAILURE ? "ValueError: source unreachable" : null));
        return new TaskRecord(UUID.randomUUID().toString(), NAMES[random.nextInt(NAMES.length)], state, worker, "celery",
                "[" + i + ", \"https://example.org/claim/" + i + "\"]", "{}", state == TaskState.SUCCESS ? "{\"verdict\": true}" : null,
                state == TaskState.FAILURE ? "ValueError: source unreachable" : null,
                state == TaskState.FAILURE ? "Traceback (most recent call last):\n  File \"tasks.py\", line 12\nValueError" : null, 0,
                started.minusMillis(1), started, updated, 0.02, null, null, null, null, timeline);
    }

    private static Query query(int kind, Random random, List<TaskRecord> sample) {
        TaskRecord pick = sample.get(random.nextInt(sample.size()));
        TaskState[] states = {TaskState.SUCCESS, TaskState.FAILURE, TaskState.STARTED, TaskState.RETRY, TaskState.REVOKED};
        return switch (kind) {
            case 0 -> Query.latest(PAGE);
            case 1 -> new Query(null, NAMES[random.nextInt(NAMES.length)], null, null, null, null, PAGE, null);
            case 2 -> new Query(null, null, states[random.nextInt(states.length)], null, null, null, PAGE, null);
            case 3 -> new Query(null, null, null, WORKERS[random.nextInt(WORKERS.length)], null, null, PAGE, null);
            case 4 -> new Query(pick.id().substring(0, 4 + random.nextInt(5)), null, null, null, null, null, PAGE, null);
            case 5 -> Query.latest(PAGE).withCursor(Cursor.after(pick).text());
            default -> new Query(null, NAMES[random.nextInt(NAMES.length)], states[random.nextInt(states.length)], null, null, null,
                    PAGE, null);
        };
    }

    private static String ms(long[] nanos, double q) {
        if (nanos.length == 0) {
            return "-";
        }
        long[] s = nanos.clone();
        Arrays.sort(s);
        int i = (int) Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1));
        return String.format("%.2f ms", s[i] / 1e6);
    }
}
