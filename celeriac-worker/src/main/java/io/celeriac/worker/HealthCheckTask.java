package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.NodeBeat;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The built-in task {@code celeriac.health_check} (the seed's "automatic health check every 5
 * minutes"), sent by beat every {@code health_check_interval}: checks, from inside a worker, that the
 * broker and the result store answer and, when {@code health_check_jdbc_url} is set, that the
 * application's database does (a real connection and {@code SELECT 1}); logs the workers' status;
 * and records the outcome (time, each check's result and latency, the workers seen) under
 * {@link #RECORD}, where {@code celeriac health} and monitoring read it. Returns the report when all
 * checks pass; raises {@link HealthCheckFailed} (a FAILURE result carrying the report) when one fails.
 */
final class HealthCheckTask {
    static final String NAME = "celeriac.health_check";
    /** The record the last outcome is written to. */
    static final String RECORD = "celeriac.health_check.last";
    private static final Logger log = LoggerFactory.getLogger("celeriac.health");

    private HealthCheckTask() {
    }

    /** Registers the task unless the app already defines one of that name. */
    static void register(TaskRegistry registry, Supplier<Celeriac> app, WorkerOptions options) {
        if (registry.find(NAME).isPresent()) {
            return;
        }
        registry.register(Tasks.task(NAME, () -> check(app.get(), options)));
    }

    static ObjectNode check(Celeriac app, WorkerOptions options) {
        ObjectNode report = Json.NODES.objectNode();
        report.put("node", options.nodeName());
        report.put("checked_at", CeleryTime.format(Instant.now()));
        ObjectNode checks = report.putObject("checks");
        boolean ok = probe(checks, "broker", app.broker().describe(), () -> app.broker().size(options.queues().get(0)) >= 0);
        String probeId = "celeriac-health-probe-" + options.nodeName();
        ok &= probe(checks, "result_backend", app.results().describe(), () -> {
            app.results().store(TaskResult.success(probeId, Json.NODES.textNode("ok"), Instant.now()));
            boolean back = app.results().get(probeId).isPresent();
            app.results().forget(probeId);
            return back;
        });
        Broker.DataLoss lost = app.broker().dataLoss();
        if (lost != null) { // this worker saw its broker restart without its data (see Heartbeat: its heartbeat says it too)
            ObjectNode c = checks.putObject("broker_data");
            c.put("target", app.broker().describe());
            c.put("ok", false);
            c.put("error", lost.message() + ": tasks and results sent before it are gone");
            ok = false;
        }
        String jdbc = options.config().get(Settings.HEALTH_CHECK_JDBC_URL);
        if (!jdbc.isBlank()) {
            ok &= probe(checks, "database", io.celeriac.config.Secrets.redact(jdbc), () -> selectOne(jdbc));
        }
        report.put("healthy", ok);
        report.set("workers", workers(app));
        try {
            app.coordination().put(RECORD, Json.write(report));
        } catch (RuntimeException e) {
            log.error("health check: could not record the outcome: {}", e.getMessage());
        }
        if (!ok) {
            log.error("health check FAILED: {}", Json.write(checks));
            throw new HealthCheckFailed(report);
        }
        log.info("health check ok: {}", Json.write(checks));
        return report;
    }

    private static boolean selectOne(String url) {
        DriverManager.setLoginTimeout(10);
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.setQueryTimeout(10);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                return rs.next() && rs.getInt(1) == 1;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse(""), e);
        }
    }

    /** The workers' status (the seed's "logs worker status"): each node's last heartbeat and load. */
    private static ArrayNode workers(Celeriac app) {
        ArrayNode out = Json.NODES.arrayNode();
        try {
            long now = System.currentTimeMillis();
            for (NodeBeat b : app.coordination().nodes().values()) {
                if (!b.isWorker() && !b.isBeat()) {
                    continue; // an event listener
                }
                JsonNode beat = Json.read(b.json());
                ObjectNode w = out.addObject();
                w.put("node", b.node());
                w.put("seconds_since_heartbeat", (now - b.at().toEpochMilli()) / 1000.0);
                w.put("active", beat.path("active").asInt());
                w.put("processed", beat.path("processed").asLong());
                w.put("type", beat.path("type").asText());
                log.info("health check: {} last seen {} s ago, {} active, {} processed", b.node(),
                        (now - b.at().toEpochMilli()) / 1000, beat.path("active").asInt(), beat.path("processed").asLong());
            }
        } catch (Exception e) {
            log.warn("health check: could not read worker heartbeats: {}", e.getMessage());
        }
        return out;
    }

    private static boolean probe(ObjectNode checks, String name, String target, Supplier<Boolean> check) {
        ObjectNode c = checks.putObject(name);
        c.put("target", target);
        long start = System.nanoTime();
        try {
            boolean ok = check.get();
            c.put("ok", ok);
            if (!ok) {
                c.put("error", "the check returned no data");
            }
        } catch (RuntimeException e) {
            c.put("ok", false);
            c.put("error", e.getMessage() == null ? e.toString() : e.getMessage());
        }
        c.put("latency_ms", Math.round((System.nanoTime() - start) / 10_000.0) / 100.0);
        return c.get("ok").asBoolean();
    }

    /** A health check found a problem; the message is the whole report. */
    static final class HealthCheckFailed extends RuntimeException {
        HealthCheckFailed(ObjectNode report) {
            super("unhealthy: " + Json.write(report.get("checks")));
        }
    }
}
