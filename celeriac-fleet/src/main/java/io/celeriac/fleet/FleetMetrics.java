package io.celeriac.fleet;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Celeriac;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fleet's metrics in Prometheus text format, computed when scraped from what the broker and the
 * coordination store hold (Micrometer's Prometheus registry): queue lengths (the dead-letter queue
 * too), workers up and making progress, each worker's tasks done by outcome (from its heartbeat),
 * the last run of the built-in {@code celeriac.health_check} (outcome and latency per check), whether
 * a beat leader is alive, and whether the broker and result store answer. Series of workers and
 * queues that are gone are dropped. The per-task figures (runtimes by task name) are each worker's
 * own {@code /metrics}; these are the ones only a view of the whole fleet has.
 */
public final class FleetMetrics {
    /** The content type of {@link #scrape()}: Prometheus text format 0.0.4. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Logger log = LoggerFactory.getLogger("celeriac.fleet");

    private final Celeriac app;
    private final FleetHealth health;
    private final List<String> extraQueues;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** The values of this scrape, read by the meters' functions. */
    private Map<Key, Double> values = new HashMap<>();
    private final Map<Key, Meter> meters = new HashMap<>();

    /** One series: its meter name, whether it is a counter, its unit, help and tags. */
    private record Key(String name, boolean counter, String unit, String help, Tags tags) {
    }

    /**
     * The metrics of the fleet {@code app} reaches.
     *
     * @param app an open client; not closed here
     * @param health the readiness checks to report (shared with {@code /health/ready}, so a scrape and a
     *     probe within a second cost one look)
     * @param extraQueues queues to report besides the default queue, {@code worker_queues}, the
     *     dead-letter queue and the queues live workers consume
     */
    public FleetMetrics(Celeriac app, FleetHealth health, Collection<String> extraQueues) {
        this.app = app;
        this.health = health;
        this.extraQueues = List.copyOf(extraQueues);
    }

    /**
     * Reads the fleet and renders every metric.
     *
     * @return the Prometheus text format ({@link #CONTENT_TYPE})
     */
    public synchronized String scrape() {
        Map<Key, Double> next = new LinkedHashMap<>();
        FleetHealth.Readiness ready = health.ready();
        for (String check : List.of("broker", "result_backend")) {
            FleetChecks.Result r = ready.check(check);
            gauge(next, "celeriac.up", "Whether the part answers (1) or not (0), as /health/ready found it.", r != null && r.ok() ? 1 : 0,
                    "check", check);
        }
        FleetChecks.Nodes nodes = ready.nodes();
        if (ready.check("broker") != null && ready.check("broker").ok()) {
            queues(next, nodes);
        }
        if (nodes != null) {
            workers(next, nodes);
        }
        coordination(next, nodes);
        sync(next);
        return registry.scrape(CONTENT_TYPE);
    }

    private void queues(Map<Key, Double> next, FleetChecks.Nodes nodes) {
        String deadLetter = app.config().get(Settings.TASK_DEAD_LETTER_QUEUE);
        TreeSet<String> queues = new TreeSet<>(extraQueues);
        queues.add(app.config().get(Settings.TASK_DEFAULT_QUEUE));
        queues.addAll(app.config().get(Settings.WORKER_QUEUES));
        queues.add(deadLetter);
        if (nodes != null) {
            for (FleetChecks.Heartbeat w : nodes.workers().values()) {
                if (w.up(nodes.nowMillis())) {
                    w.state().path("queues").forEach(q -> queues.add(q.asText()));
                }
            }
        }
        try {
            for (String q : queues) {
                long n = app.broker().size(q);
                gauge(next, "celeriac.queue.length", "Messages waiting in the queue (ready to be reserved).", n, "queue", q);
                if (q.equals(deadLetter)) {
                    gauge(next, "celeriac.dead.letters", "Messages in the dead-letter queue (task_dead_letter_queue).", n);
                }
            }
        } catch (RuntimeException e) {
            log.warn("metrics: could not read the queues' lengths: {}", FleetChecks.oneLine(e.getMessage()));
        }
    }

    private void workers(Map<Key, Double> next, FleetChecks.Nodes nodes) {
        long now = nodes.nowMillis();
        Duration liveness = app.config().get(Settings.WORKER_LIVENESS_TIMEOUT);
        int up = 0;
        int progressing = 0;
        for (FleetChecks.Heartbeat w : nodes.workers().values()) {
            boolean isUp = w.up(now);
            boolean moving = isUp && w.makingProgress(now, liveness);
            up += isUp ? 1 : 0;
            progressing += moving ? 1 : 0;
            String n = w.node();
            JsonNode s = w.state();
            gauge(next, "celeriac.worker.up", "Whether the worker's heartbeat is fresh (within twice its interval, as Celery judges it).",
                    isUp ? 1 : 0, "worker", n);
            gauge(next, "celeriac.worker.making.progress", "Whether the worker polled the broker or finished a task within"
                    + " worker_liveness_timeout.", moving ? 1 : 0, "worker", n);
            next.put(new Key("celeriac.worker.heartbeat.age", false, "seconds", "Seconds since the worker's last heartbeat.",
                    Tags.of("worker", n)), w.age(now));
            gauge(next, "celeriac.worker.active", "Tasks the worker is running.", s.path("active").asDouble(), "worker", n);
            gauge(next, "celeriac.worker.concurrency", "The worker's pool size.", s.path("concurrency").asDouble(), "worker", n);
            for (String outcome : List.of("succeeded", "failed", "retried", "revoked", "dead_lettered")) {
                if (s.has(outcome)) { // revoked and dead_lettered: not in the heartbeats of older workers
                    next.put(new Key("celeriac.worker.tasks", true, null, "Tasks the worker finished since it started, by outcome"
                            + " (from its heartbeat).", Tags.of("worker", n, "outcome", outcome)), s.path(outcome).asDouble());
                }
            }
        }
        gauge(next, "celeriac.workers.up", "Workers whose heartbeat is fresh.", up);
        gauge(next, "celeriac.workers.making.progress", "Workers making progress (the readiness rule).", progressing);
        Duration lease = app.config().get(Settings.BEAT_LOCK_TIMEOUT);
        long beatsUp = nodes.beats().values().stream().filter(b -> b.age(now) <= FleetChecks.silentAfter(b, lease)).count();
        gauge(next, "celeriac.beats.up", "Beat processes whose heartbeat is fresh.", beatsUp);
    }

    private void coordination(Map<Key, Double> next, FleetChecks.Nodes nodes) {
        try {
            if (nodes != null) {
                Optional<String> leader = FleetChecks.liveBeatLeader(app, nodes);
                gauge(next, "celeriac.beat.leader.present", "Whether a live beat holds the leader lock.", leader.isPresent() ? 1 : 0);
            }
            Optional<JsonNode> rec = FleetChecks.lastHealthCheckRecord(app);
            if (rec.isEmpty() || !rec.get().has("checked_at")) {
                return; // it has not run: no series (absent, not a made-up value)
            }
            JsonNode r = rec.get();
            gauge(next, "celeriac.health.check.healthy", "Whether the last run of celeriac.health_check passed.",
                    r.path("healthy").asBoolean() ? 1 : 0);
            next.put(new Key("celeriac.health.check.last.run", false, "seconds", "When celeriac.health_check last ran (Unix time).",
                    Tags.empty()), CeleryTime.parse(r.get("checked_at").asText()).toEpochMilli() / 1000.0);
            r.path("checks").fields().forEachRemaining(e -> {
                gauge(next, "celeriac.health.check.ok", "Whether each check of the last celeriac.health_check run passed.",
                        e.getValue().path("ok").asBoolean() ? 1 : 0, "check", e.getKey());
                if (e.getValue().path("latency_ms").isNumber()) {
                    next.put(new Key("celeriac.health.check.latency", false, "seconds", "How long each check of the last"
                            + " celeriac.health_check run took.", Tags.of("check", e.getKey())),
                            e.getValue().path("latency_ms").asDouble() / 1000.0);
                }
            });
        } catch (RuntimeException e) {
            log.warn("metrics: could not read the coordination store: {}", FleetChecks.oneLine(e.getMessage()));
        }
    }

    private static void gauge(Map<Key, Double> next, String name, String help, double value, String... tags) {
        next.put(new Key(name, false, null, help, Tags.of(tags)), value);
    }

    /** Registers a meter for each new series, removes those not seen in this scrape, and publishes the values. */
    private void sync(Map<Key, Double> next) {
        values = next;
        meters.entrySet().removeIf(e -> {
            if (!next.containsKey(e.getKey())) {
                registry.remove(e.getValue());
                return true;
            }
            return false;
        });
        for (Key k : next.keySet()) {
            meters.computeIfAbsent(k, key -> key.counter()
                    ? FunctionCounter.builder(key.name(), this, m -> m.value(key)).description(key.help()).tags(key.tags())
                            .register(registry)
                    : Gauge.builder(key.name(), this, m -> m.value(key)).description(key.help()).baseUnit(key.unit())
                            .tags(key.tags()).strongReference(true).register(registry));
        }
    }

    private double value(Key k) {
        return values.getOrDefault(k, Double.NaN);
    }
}
