package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.fleet.FleetEndpoints;
import io.celeriac.fleet.FleetHealth;
import io.celeriac.fleet.FleetMetrics;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.PrometheusText;
import io.celeriac.testkit.RedisServer;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fleet's {@code /metrics}, {@code /health/live} and {@code /health/ready} against real worker
 * processes: on SQLite, the scrape (read by a strict text-format parser) counts exactly the tasks
 * sent; on a private Redis, readiness goes from 200 to 503 naming the broker when the server stops.
 */
@Tag("chaos")
@Timeout(180)
class FleetEndpointsProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** An HTTP server with the endpoints mounted, as the dashboard mounts them; returns its base URL. */
    private String serve(Celeriac app) throws Exception {
        FleetHealth health = new FleetHealth(app);
        FleetEndpoints endpoints = new FleetEndpoints(new FleetMetrics(app, health, List.of()), health);
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        endpoints.mount(server);
        server.start();
        processes.closeAfter(() -> server.stop(0));
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private PrometheusText scrape(String base) throws Exception {
        HttpResponse<String> r = get(base + "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
        return PrometheusText.parse(r.body());
    }

    /** The one sample named {@code name} with exactly these labels (names and values alternating), or empty. */
    private static java.util.Optional<Double> value(PrometheusText m, String name, String... labels) {
        Map<String, String> want = new java.util.TreeMap<>();
        for (int i = 0; i + 1 < labels.length; i += 2) {
            want.put(labels[i], labels[i + 1]);
        }
        return m.samples(name, want).stream().filter(s -> s.labels().equals(want)).map(PrometheusText.Sample::value).findFirst();
    }

    private Celeriac client(String url) {
        Celeriac app = Celeriac.open(Config.builder().set(io.celeriac.config.Settings.BROKER_URL, url).build(), new TaskRegistry());
        processes.closeAfter(app);
        return app;
    }

    @Test
    void metricsCountTheTasksSentAndHealthReportsTheFleet() throws Exception {
        String url = "sqlite:" + dir.resolve("fleet.db");
        ChildJvm worker = processes.worker(dir, url, "m", "-P", "threads", "-c", "2", "--loglevel", "WARNING");
        String node = "m@" + TaskMessage.hostName();
        Celeriac app = client(url);
        String base = serve(app);

        CliProcesses.until(await().atMost(Duration.ofSeconds(60)), List.of(worker),
                () -> get(base + "/health/ready").statusCode() == 200);
        JsonNode ready = Json.read(get(base + "/health/ready").body());
        assertThat(ready.get("status").asText()).isEqualTo("ready");
        assertThat(ready.has("failing")).isFalse();
        assertThat(ready.get("checks").fieldNames()).toIterable().containsExactly("broker", "result_backend", "workers");
        assertThat(ready.at("/checks/workers/detail").asText()).contains(node);
        assertThat(Json.read(get(base + "/health/live").body()).get("status").asText()).isEqualTo("live");

        int succeeded = 7;
        int failed = 3;
        List<AsyncResult> sent = new ArrayList<>();
        for (int i = 0; i < succeeded; i++) {
            sent.add(app.send("add", i, 1));
        }
        for (int i = 0; i < failed; i++) {
            sent.add(app.send("fail", "no " + i));
        }
        app.send("no_such_task"); // unknown: dead-lettered (a FAILURE too)
        AsyncResult check = app.send("celeriac.health_check");
        sent.add(check);
        await().atMost(Duration.ofSeconds(60)).until(() -> sent.stream().allMatch(AsyncResult::ready));
        assertThat(check.get(Duration.ofSeconds(1)).get("healthy").asBoolean()).isTrue();

        CliProcesses.until(await().atMost(Duration.ofSeconds(30)), List.of(worker), () -> {
            PrometheusText m = scrape(base);
            return value(m, "celeriac_worker_tasks_total", "worker", node, "outcome", "succeeded").orElse(-1.0) == succeeded + 1 // + health check
                    && value(m, "celeriac_worker_tasks_total", "worker", node, "outcome", "failed").orElse(-1.0) == failed
                    && value(m, "celeriac_worker_tasks_total", "worker", node, "outcome", "dead_lettered").orElse(-1.0) == 1;
        });
        PrometheusText m = scrape(base);
        assertThat(m.families().get("celeriac_worker_tasks_total").type()).isEqualTo("counter");
        assertThat(value(m, "celeriac_worker_tasks_total", "worker", node, "outcome", "retried")).contains(0.0);
        assertThat(value(m, "celeriac_worker_tasks_total", "worker", node, "outcome", "revoked")).contains(0.0);
        assertThat(value(m, "celeriac_workers_up")).contains(1.0);
        assertThat(value(m, "celeriac_workers_making_progress")).contains(1.0);
        assertThat(value(m, "celeriac_worker_up", "worker", node)).contains(1.0);
        assertThat(value(m, "celeriac_worker_concurrency", "worker", node)).contains(2.0);
        assertThat(value(m, "celeriac_queue_length", "queue", "celery")).contains(0.0);
        assertThat(value(m, "celeriac_queue_length", "queue", "celeriac.dead_letter")).contains(1.0);
        assertThat(value(m, "celeriac_dead_letters")).contains(1.0);
        assertThat(value(m, "celeriac_up", "check", "broker")).contains(1.0);
        assertThat(value(m, "celeriac_up", "check", "result_backend")).contains(1.0);
        assertThat(value(m, "celeriac_health_check_healthy")).contains(1.0);
        for (String c : List.of("broker", "result_backend")) {
            assertThat(value(m, "celeriac_health_check_ok", "check", c)).as(c).contains(1.0);
            assertThat(value(m, "celeriac_health_check_latency_seconds", "check", c)).as(c).hasValueSatisfying(v -> assertThat(v).isBetween(0.0, 10.0));
        }
        assertThat(value(m, "celeriac_health_check_last_run_seconds").orElseThrow() * 1000)
                .isCloseTo(System.currentTimeMillis(), org.assertj.core.data.Offset.offset(120_000.0));
        assertThat(value(m, "celeriac_beat_leader_present")).contains(0.0); // no beat in this test

        // the same checks, and the same text, as celeriac health prints them
        CliRun health = CliRun.of("health", "--broker", url, "--no-manager");
        assertThat(health.out()).contains("ok    broker: ", "ok    worker " + node + ": answered a ping", "ok    health_check: the last run");

        // the worker goes: its series go stale, then readiness fails naming the workers
        worker.close();
        CliProcesses.until(await().atMost(Duration.ofSeconds(30)), List.of(),
                () -> value(scrape(base), "celeriac_worker_up", "worker", node).orElse(-1.0) == 0.0);
        assertThat(value(scrape(base), "celeriac_workers_up")).contains(0.0);
    }

    @Test
    void readinessGoesFrom200To503WhenTheRedisBrokerStops() throws Exception {
        RedisServer redis = RedisServer.start(dir.resolve("redis"), true); // kept over the restart: no data loss for the worker to report
        processes.closeAfter(redis);
        ChildJvm worker = processes.worker(dir, redis.url(), "r", "-P", "threads", "-c", "1", "--loglevel", "WARNING");
        Celeriac app = client(redis.url());
        String base = serve(app);
        CliProcesses.until(await().atMost(Duration.ofSeconds(60)), List.of(worker),
                () -> get(base + "/health/ready").statusCode() == 200);

        redis.stop();
        long t0 = System.nanoTime();
        CliProcesses.until(await().atMost(Duration.ofSeconds(30)), List.of(worker),
                () -> get(base + "/health/ready").statusCode() == 503);
        HttpResponse<String> r = get(base + "/health/ready");
        assertThat(r.statusCode()).isEqualTo(503);
        JsonNode doc = Json.read(r.body());
        assertThat(doc.get("status").asText()).isEqualTo("unready");
        assertThat(doc.get("failing").asText()).startsWith("broker");
        assertThat(doc.at("/checks/broker/ok").asBoolean()).isFalse();
        assertThat(doc.at("/checks/broker/detail").asText()).contains("127.0.0.1:" + redis.port());
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
        assertThat(get(base + "/health/live").statusCode()).isEqualTo(200); // liveness looks at nothing else
        PrometheusText m = scrape(base); // still a valid scrape, saying the broker is down
        assertThat(value(m, "celeriac_up", "check", "broker")).contains(0.0);
        assertThat(m.families()).doesNotContainKey("celeriac_queue_length");

        redis.start(); // back: ready again
        CliProcesses.until(await().atMost(Duration.ofSeconds(60)), List.of(worker),
                () -> get(base + "/health/ready").statusCode() == 200);
    }
}
