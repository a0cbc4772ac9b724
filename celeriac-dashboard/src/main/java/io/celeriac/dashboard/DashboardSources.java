package io.celeriac.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskState;
import io.celeriac.beat.Beat;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.fleet.FleetChecks;
import io.celeriac.manager.ControlSocket;
import io.celeriac.manager.Daemon;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.NodeBeat;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the dashboard shows, read through the same client APIs the commands use: heartbeats and
 * {@code inspect stats} ({@code celeriac inspect}), queue sizes and the dead-letter queue
 * ({@link io.celeriac.spi.Broker}), beat's schedule and leader lock ({@link Coordination}, as
 * {@code celeriac beat --list}), the manager's processes (its control socket, as {@code celeriac
 * status}), the health check's record (as {@code celeriac health}), and the stored task history.
 * A sampler ({@link #sample}, every few seconds) keeps what only time shows: queue rates, and,
 * without a task history, tasks done per minute from the workers' heartbeat counters.
 */
final class DashboardSources implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.dashboard");
    /** A node silent this long is not listed (as celeriac health forgets it). */
    static final Duration FORGOTTEN = Duration.ofMinutes(10);
    /** The chart's span. */
    static final int MINUTES = 180;
    private static final int HISTORY_SCAN_CAP = 20_000;

    final Config config;
    final Celeriac app;
    final Path runDir;
    final Clock clock;
    private final TaskHistory history;
    private final String historyProblem;
    private final String deadLetterQueue;

    private volatile Cached<Map<String, JsonNode>> stats = new Cached<>(Map.of(), Instant.EPOCH);
    private final Map<String, long[]> lastCounters = new ConcurrentHashMap<>();
    private final TreeMap<Long, long[]> sampledMinutes = new TreeMap<>();
    private final Map<String, Deque<long[]>> queueSamples = new ConcurrentHashMap<>();
    private final Deque<JsonNode> healthSamples = new ArrayDeque<>();
    private volatile Cached<TreeMap<Long, long[]>> historyMinutes = new Cached<>(new TreeMap<>(), Instant.EPOCH);

    private record Cached<T>(T value, Instant at) {
    }

    DashboardSources(Config config, Celeriac app, Path runDir, Clock clock) {
        this.config = config;
        this.app = app;
        this.runDir = runDir;
        this.clock = clock;
        this.deadLetterQueue = config.get(Settings.TASK_DEAD_LETTER_QUEUE);
        TaskHistory h = null;
        String problem = null;
        if (!config.get(Settings.TASK_HISTORY)) {
            problem = "task_history is off: workers do not record tasks, so there is no task list"
                    + " (set task_history: true; the chart counts the workers' heartbeats meanwhile)";
        } else {
            try {
                h = io.celeriac.spi.Backends.openTaskHistory(config);
            } catch (RuntimeException e) {
                problem = "the task history cannot be opened: " + e.getMessage();
            }
        }
        this.history = h;
        this.historyProblem = problem;
    }

    /** The task history, or empty when it is off or cannot be opened ({@link #historyProblem}). */
    Optional<TaskHistory> history() {
        return Optional.ofNullable(history);
    }

    /** Why there is no task history, or null. */
    String historyProblem() {
        return historyProblem;
    }

    String deadLetterQueue() {
        return deadLetterQueue;
    }

    // --- workers ------------------------------------------------------------------------------

    /** One worker as its heartbeat and its {@code stats} reply show it. */
    record WorkerView(String node, double heartbeatAge, boolean online, boolean progressing, JsonNode beat, JsonNode stats) {
    }

    /** Every worker heard from within {@link #FORGOTTEN}, by node name; {@code stats} from a broadcast (cached 5 s). */
    List<WorkerView> workers(boolean withStats) {
        long now = clock.millis();
        Map<String, JsonNode> st = withStats ? stats() : Map.of();
        Duration liveness = config.get(Settings.WORKER_LIVENESS_TIMEOUT);
        List<WorkerView> out = new ArrayList<>();
        for (NodeBeat b : new TreeMap<>(app.coordination().nodes()).values()) {
            if (!b.isWorker() || now - b.at().toEpochMilli() > FORGOTTEN.toMillis()) {
                continue;
            }
            JsonNode beat = read(b.json());
            // up and making progress by the rules of /metrics, /health/ready and celeriac health (FleetChecks)
            FleetChecks.Heartbeat h = new FleetChecks.Heartbeat(b.node(), beat, b.at());
            boolean online = !beat.path("type").asText().equals("worker-offline") && h.up(now);
            out.add(new WorkerView(b.node(), h.age(now), online, online && h.makingProgress(now, liveness), beat, st.get(b.node())));
        }
        return out;
    }

    private Map<String, JsonNode> stats() {
        Cached<Map<String, JsonNode>> c = stats;
        if (Duration.between(c.at(), clock.instant()).toMillis() < 5000) {
            return c.value();
        }
        try {
            // asked of every worker; done as soon as those online by their heartbeats have answered (else after 1 s)
            List<String> online = workers(false).stream().filter(WorkerView::online).map(WorkerView::node).toList();
            Map<String, JsonNode> replies = app.control().call("stats", null, List.of(), online, Duration.ofSeconds(1));
            stats = new Cached<>(Map.copyOf(replies), clock.instant());
            return replies;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return c.value();
        } catch (RuntimeException e) {
            log.debug("stats broadcast failed: {}", e.getMessage());
            return c.value();
        }
    }

    /** Sends a control request to one worker and returns its reply (or an error object). */
    JsonNode control(String node, String method, ObjectNode arguments) throws InterruptedException {
        Map<String, JsonNode> r = app.control().call(method, arguments, List.of(node), List.of(node), Duration.ofSeconds(2));
        stats = new Cached<>(stats.value(), Instant.EPOCH); // the next page shows the change
        JsonNode reply = r.get(node);
        return reply != null ? reply : Json.NODES.objectNode().put("error", "no reply from " + node + " within 2 s");
    }

    // --- queues ---------------------------------------------------------------------------------

    /** The queues worth listing: the default, the configured ones, the routes', the ones workers consume. */
    List<String> queueNames() {
        TreeSet<String> names = new TreeSet<>();
        names.add(config.get(Settings.TASK_DEFAULT_QUEUE));
        names.addAll(config.get(Settings.WORKER_QUEUES));
        for (JsonNode s : stats.value().values()) {
            s.path("queues").forEach(q -> names.add(q.asText()));
        }
        for (WorkerView w : workers(false)) {
            w.beat().path("queues").forEach(q -> names.add(q.asText()));
        }
        names.addAll(queueSamples.keySet());
        names.remove(deadLetterQueue);
        return List.copyOf(names);
    }

    /**
     * A queue's length now, its net change per minute over the last minute sampled (null before two
     * samples), and the tasks from it finished per minute over the last five (from the task history; null without one).
     */
    record QueueView(String name, long length, Double perMinute, Double donePerMinute) {
    }

    List<QueueView> queues() {
        Map<String, Long> done = history == null ? null : doneByQueue();
        List<QueueView> out = new ArrayList<>();
        for (String q : queueNames()) {
            out.add(new QueueView(q, app.broker().size(q), rate(q), done == null ? null : done.getOrDefault(q, 0L) / 5.0));
        }
        return out;
    }

    private volatile Cached<Map<String, Long>> doneByQueue = new Cached<>(Map.of(), Instant.EPOCH);

    /** Tasks finished in the last five minutes by queue, from the history (at most 10,000 looked at; cached 10 s). */
    private Map<String, Long> doneByQueue() {
        Cached<Map<String, Long>> c = doneByQueue;
        if (Duration.between(c.at(), clock.instant()).toSeconds() < 10) {
            return c.value();
        }
        Map<String, Long> m = new TreeMap<>();
        try {
            scan(new TaskHistory.Query(null, null, null, null, clock.instant().minus(Duration.ofMinutes(5)), null, 1000, null),
                    10_000, r -> {
                        if (r.state().ready() && r.queue() != null) {
                            m.merge(r.queue(), 1L, Long::sum);
                        }
                    });
        } catch (RuntimeException e) {
            log.debug("done by queue from the history: {}", e.getMessage());
            return c.value();
        }
        doneByQueue = new Cached<>(m, clock.instant());
        return m;
    }

    long deadLetterCount() {
        return app.broker().size(deadLetterQueue);
    }

    private Double rate(String queue) {
        Deque<long[]> d = queueSamples.get(queue);
        if (d == null) {
            return null;
        }
        synchronized (d) {
            if (d.size() < 2) {
                return null;
            }
            long[] first = d.peekFirst();
            long[] last = d.peekLast();
            double minutes = (last[0] - first[0]) / 60_000.0;
            return minutes <= 0 ? null : (last[1] - first[1]) / minutes;
        }
    }

    // --- the dead-letter queue --------------------------------------------------------------------

    /** One dead-lettered message: the worker's record (reason, queue, task, id, node, time) and its original payload. */
    record DeadLetter(String id, String task, String queue, String reason, String node, String time, int deliveryCount,
                      String payload) {
    }

    /**
     * Up to {@code limit} dead letters, oldest first. The broker SPI has no "peek": they are
     * reserved and given straight back (nothing else consumes this queue).
     */
    List<DeadLetter> deadLetters(int limit) throws InterruptedException {
        List<Delivery> got = app.broker().reserve(List.of(deadLetterQueue), limit, Duration.ZERO);
        try {
            return got.stream().map(DashboardSources::deadLetter).toList();
        } finally {
            for (Delivery d : got) {
                app.broker().requeue(d);
            }
        }
    }

    private static DeadLetter deadLetter(Delivery d) {
        JsonNode r = read(d.payload());
        return new DeadLetter(text(r, "id"), text(r, "task"), text(r, "queue"), text(r, "reason"), text(r, "node"), text(r, "time"),
                r.path("delivery_count").asInt(), text(r, "payload"));
    }

    /**
     * Puts dead letters back on the queue they came from, as they were sent: the one of task id
     * {@code id}, or every one when {@code id} is null. Returns how many went back; a record
     * without its original payload stays.
     */
    int replay(String id) throws InterruptedException {
        int replayed = 0;
        int seen = 0;
        long total = app.broker().size(deadLetterQueue);
        while (seen <= total) {
            List<Delivery> got = app.broker().reserve(List.of(deadLetterQueue), 100, Duration.ZERO);
            if (got.isEmpty()) {
                break;
            }
            seen += got.size();
            List<Delivery> done = new ArrayList<>();
            for (Delivery d : got) {
                DeadLetter l = deadLetter(d);
                boolean match = id == null || id.equals(l.id());
                if (match && l.payload() != null && l.queue() != null) {
                    app.broker().publish(l.queue(), new BrokerMessage(l.id(), l.payload(), 0, null));
                    done.add(d);
                    replayed++;
                } else {
                    app.broker().requeue(d);
                }
            }
            app.broker().ack(done);
            if (id != null && replayed > 0) {
                // the rest of this batch was given back above
                break;
            }
        }
        return replayed;
    }

    long purge(String queue) {
        return app.broker().purge(queue);
    }

    // --- the manager, beat, the health check --------------------------------------------------------

    /** The manager's processes as {@code celeriac status} reads them, or a line saying why there are none. */
    record ManagerView(Long pid, JsonNode processes, String problem) {
    }

    ManagerView manager() {
        Optional<Long> pid = Daemon.running(runDir);
        if (pid.isEmpty()) {
            return new ManagerView(null, null, "no manager runs on " + runDir + " (celeriac start)");
        }
        try {
            JsonNode r = ControlSocket.request(runDir, Json.NODES.objectNode().put("command", "status"), Duration.ofSeconds(3));
            return new ManagerView(pid.get(), r.get("processes"), null);
        } catch (Exception e) {
            return new ManagerView(pid.get(), null, "the manager (pid " + pid.get() + ") does not answer: " + e.getMessage());
        }
    }

    /** Beat's schedule, the leader lock's holder and the beats that sent heartbeats. */
    record BeatView(List<Beat.EntryStatus> entries, String leader, List<String> beats, String problem) {
    }

    BeatView beat() {
        String leader = app.coordination().holder(Beat.LOCK).map(h -> h.replaceAll("/.*", "")).orElse(null);
        long now = clock.millis();
        List<String> beats = new TreeMap<>(app.coordination().nodes()).values().stream()
                .filter(b -> b.isBeat() && now - b.at().toEpochMilli() <= FORGOTTEN.toMillis())
                .map(b -> b.node() + String.format(" (heartbeat %.0f s ago)", (now - b.at().toEpochMilli()) / 1000.0)).toList();
        try {
            List<Beat.EntryStatus> entries = new Beat(config, app.broker(), app.coordination(), clock, "dashboard").entries();
            return new BeatView(entries, leader, beats, null);
        } catch (RuntimeException e) {
            return new BeatView(List.of(), leader, beats, "beat_schedule cannot be read: " + e.getMessage());
        }
    }

    /** One run of celeriac.health_check: when, healthy or not, each check's result and latency. */
    record HealthRun(Instant at, boolean healthy, String node, JsonNode checks) {
    }

    /**
     * The health check's runs, newest first: from the task history when it is on (every run is a
     * task there, its report its result), else the runs seen while this dashboard ran.
     */
    List<HealthRun> healthRuns(int limit) {
        List<HealthRun> out = new ArrayList<>();
        if (history != null) {
            try {
                for (TaskRecord r : history.find(new TaskHistory.Query(null, "celeriac.health_check", null, null, null, null,
                        Math.min(limit, 1000), null)).records()) {
                    if (!r.state().ready()) {
                        continue;
                    }
                    out.add(new HealthRun(r.updated(), r.state().equals(TaskState.SUCCESS), r.worker(), checksOf(r)));
                }
                if (!out.isEmpty()) {
                    return out;
                }
            } catch (RuntimeException e) {
                log.debug("health runs from the history: {}", e.getMessage());
            }
        }
        synchronized (healthSamples) {
            for (JsonNode r : healthSamples) {
                out.add(healthRun(r));
                if (out.size() >= limit) {
                    break;
                }
            }
        }
        return out;
    }

    /** A run's checks: its result (the report) when it passed; from the failure's message ("unhealthy: {checks}") when not. */
    private static JsonNode checksOf(TaskRecord r) {
        JsonNode report = read(r.result());
        if (report.path("checks").isObject()) {
            return report.path("checks");
        }
        String e = r.exception() == null ? "" : r.exception();
        int at = e.indexOf("unhealthy: {");
        JsonNode checks = at < 0 ? Json.NODES.objectNode() : read(e.substring(at + "unhealthy: ".length()));
        if (checks.isEmpty()) {
            return Json.NODES.objectNode().set("task", Json.NODES.objectNode().put("ok", false).put("error", e));
        }
        return checks;
    }

    private static HealthRun healthRun(JsonNode r) {
        Instant at = r.hasNonNull("checked_at") ? CeleryTime.parse(r.get("checked_at").asText()) : Instant.EPOCH;
        return new HealthRun(at, r.path("healthy").asBoolean(), text(r, "node"), r.path("checks"));
    }

    // --- tasks per minute ----------------------------------------------------------------------------

    /**
     * Succeeded and failed per minute over the last {@link #MINUTES} minutes: {@code [epoch minute,
     * succeeded, failed]} rows, oldest first, and where they come from.
     */
    record Rates(List<long[]> rows, String source) {
    }

    Rates rates() {
        long nowMinute = clock.millis() / 60_000;
        TreeMap<Long, long[]> counts;
        String source;
        TreeMap<Long, long[]> stored = history == null ? null : historyMinutes();
        if (stored != null && !stored.isEmpty()) {
            counts = stored;
            source = "the stored task history (tasks by the minute they finished)";
        } else if (stored != null) {
            synchronized (sampledMinutes) {
                counts = new TreeMap<>(sampledMinutes);
            }
            source = "the workers' heartbeat counters, sampled while this dashboard runs (the task history holds no task"
                    + " finished in the last " + MINUTES / 60 + " hours)";
        } else {
            synchronized (sampledMinutes) {
                counts = new TreeMap<>(sampledMinutes);
            }
            source = "the workers' heartbeat counters, sampled while this dashboard runs (task_history is off)";
        }
        List<long[]> rows = new ArrayList<>();
        for (long m = nowMinute - MINUTES + 1; m <= nowMinute; m++) {
            long[] c = counts.getOrDefault(m, new long[2]);
            rows.add(new long[] {m, c[0], c[1]});
        }
        return new Rates(rows, source);
    }

    private TreeMap<Long, long[]> historyMinutes() {
        Cached<TreeMap<Long, long[]>> c = historyMinutes;
        if (Duration.between(c.at(), clock.instant()).toSeconds() < 15) {
            return c.value();
        }
        TreeMap<Long, long[]> m = new TreeMap<>();
        Instant from = clock.instant().minus(Duration.ofMinutes(MINUTES));
        try {
            for (int which = 0; which < 2; which++) {
                TaskState state = which == 0 ? TaskState.SUCCESS : TaskState.FAILURE;
                int column = which;
                scan(new TaskHistory.Query(null, null, state, null, from, null, 1000, null), HISTORY_SCAN_CAP,
                        r -> m.computeIfAbsent(r.updated().toEpochMilli() / 60_000, k -> new long[2])[column]++);
            }
        } catch (RuntimeException e) {
            log.debug("rates from the history: {}", e.getMessage());
            return c.value();
        }
        historyMinutes = new Cached<>(m, clock.instant());
        return m;
    }

    /** Every record of {@code query}, page after page, newest first, until {@code cap} were looked at. */
    private void scan(TaskHistory.Query query, int cap, java.util.function.Consumer<TaskRecord> each) {
        TaskHistory.Query q = query;
        int scanned = 0;
        while (true) {
            TaskHistory.Page p = history.find(q);
            p.records().forEach(each);
            scanned += p.records().size();
            if (p.next() == null || scanned >= cap) {
                return;
            }
            q = q.withCursor(p.next());
        }
    }

    // --- the sampler ---------------------------------------------------------------------------------

    /** One look: the workers' counters, the queue lengths, the health check's record. Called every few seconds. */
    void sample() {
        long now = clock.millis();
        long minute = now / 60_000;
        try {
            long succeeded = 0;
            long failed = 0;
            for (WorkerView w : workers(false)) {
                long s = w.beat().path("succeeded").asLong();
                long f = w.beat().path("failed").asLong();
                long[] before = lastCounters.put(w.node(), new long[] {s, f});
                if (before != null) { // a worker that restarted counts from 0 again: no negative deltas
                    succeeded += Math.max(0, s - before[0]);
                    failed += Math.max(0, f - before[1]);
                }
            }
            synchronized (sampledMinutes) {
                long[] c = sampledMinutes.computeIfAbsent(minute, k -> new long[2]);
                c[0] += succeeded;
                c[1] += failed;
                sampledMinutes.headMap(minute - MINUTES).clear();
            }
            for (String q : queueNames()) {
                Deque<long[]> d = queueSamples.computeIfAbsent(q, k -> new ArrayDeque<>());
                long size = app.broker().size(q);
                synchronized (d) {
                    d.addLast(new long[] {now, size});
                    while (d.size() > 2 && d.peekFirst()[0] < now - 60_000) {
                        d.removeFirst();
                    }
                }
            }
            app.coordination().get("celeriac.health_check.last").ifPresent(text -> {
                JsonNode r = read(text);
                synchronized (healthSamples) {
                    JsonNode newest = healthSamples.peekFirst();
                    if (newest == null || !newest.path("checked_at").equals(r.path("checked_at"))) {
                        healthSamples.addFirst(r);
                        while (healthSamples.size() > 200) {
                            healthSamples.removeLast();
                        }
                    }
                }
            });
        } catch (RuntimeException e) {
            log.debug("sample failed: {}", e.getMessage());
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------

    static JsonNode read(String json) {
        try {
            return json == null ? Json.NODES.objectNode() : Json.read(json);
        } catch (Exception e) {
            return Json.NODES.objectNode();
        }
    }

    private static String text(JsonNode n, String field) {
        return n.hasNonNull(field) ? n.get(field).asText() : null;
    }

    /** Everything in one JSON document, for scripts and the live pages ({@code /api/overview}). */
    ObjectNode overviewJson() {
        ObjectNode o = Json.NODES.objectNode();
        List<WorkerView> ws = workers(false);
        o.put("workers_online", ws.stream().filter(WorkerView::online).count());
        o.put("workers_offline", ws.stream().filter(w -> !w.online()).count());
        ObjectNode q = o.putObject("queues");
        queues().forEach(v -> q.put(v.name(), v.length()));
        o.put("dead_letters", deadLetterCount());
        return o;
    }

    @Override
    public void close() {
        if (history != null) {
            history.close();
        }
    }
}
