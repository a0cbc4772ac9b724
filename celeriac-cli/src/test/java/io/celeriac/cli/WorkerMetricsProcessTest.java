package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.PrometheusText;
import io.celeriac.testkit.RedisServer;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real worker process with {@code worker_metrics_port}: its {@code /metrics}, read by a strict
 * parser of Prometheus's text format, counts exactly the tasks sent; {@code /health/ready} turns 503,
 * naming the broker, when its Redis is stopped, and 200 again when it is back.
 */
@Tag("integration")
@Timeout(180)
class WorkerMetricsProcessTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private final List<ChildJvm> children = new ArrayList<>();

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static PrometheusText scrape(int port) throws Exception {
        return PrometheusText.parse(get(port, "/metrics").body());
    }

    private void waitFor(Duration atMost, Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(atMost).pollInterval(Duration.ofMillis(200)).ignoreExceptions(), children, condition);
    }

    private ChildJvm worker(String broker, int port, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--set", "worker_metrics_port=" + port));
        args.addAll(List.of(extra));
        ChildJvm w = processes.worker(dir, broker, "metrics", args.toArray(String[]::new));
        children.add(w);
        return w;
    }

    @Test
    void metricsCountTheTasksSentAndHealthIsReady() throws Exception {
        String url = "sqlite:" + dir.resolve("metrics.db");
        int port = freePort();
        int successes = 23;
        int failures = 7;
        ChildJvm w = worker(url, port, "-P", "process", "-c", "2");
        waitFor(Duration.ofSeconds(90), () -> w.output().contains("metrics on http://127.0.0.1:" + port + "/metrics"));
        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url).build(), new TaskRegistry())) {
            List<AsyncResult> sent = new ArrayList<>();
            for (int i = 0; i < successes; i++) {
                sent.add(client.send("add", i, 1));
            }
            for (int i = 0; i < failures; i++) {
                sent.add(client.send("fail", "boom " + i));
            }
            waitFor(Duration.ofSeconds(90), () -> sent.stream().allMatch(r -> r.state().ready()));
        }
        // the observer is told before the settlement is committed: by the time results are stored, the counts are in
        HttpResponse<String> r = get(port, "/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
        PrometheusText m = PrometheusText.parse(r.body());

        assertThat(m.families().get("celeriac_tasks_total").type()).isEqualTo("counter");
        assertThat(m.value("celeriac_tasks_total", Map.of("task", "add", "outcome", "success"))).isEqualTo(successes);
        assertThat(m.samples("celeriac_tasks_total", Map.of()).get(0).labels().get("worker")).startsWith("metrics@");
        assertThat(m.value("celeriac_tasks_total", Map.of("task", "fail", "outcome", "failure"))).isEqualTo(failures);
        assertThat(m.sum("celeriac_tasks_total", Map.of())).isEqualTo(successes + failures);
        assertThat(m.families().get("celeriac_task_runtime_seconds").type()).isEqualTo("histogram");
        assertThat(m.value("celeriac_task_runtime_seconds_count", Map.of("task", "add"))).isEqualTo(successes);
        assertThat(m.value("celeriac_task_runtime_seconds_count", Map.of("task", "fail"))).isEqualTo(failures);
        assertThat(m.value("celeriac_task_runtime_seconds_bucket", Map.of("task", "add", "le", "+Inf"))).isEqualTo(successes);
        assertThat(m.value("celeriac_tasks_running", Map.of())).isZero();
        assertThat(m.value("celeriac_pool_size", Map.of())).isEqualTo(2);
        // the pool starts its first child before the worker is ready, the second beside it
        waitFor(Duration.ofSeconds(60), () -> scrape(port).value("celeriac_pool_children", Map.of()) == 2);
        assertThat(scrape(port).value("celeriac_child_starts_total", Map.of())).isGreaterThanOrEqualTo(2);
        assertThat(m.value("celeriac_child_losses_total", Map.of())).isZero();
        assertThat(m.value("celeriac_time_limit_kills_total", Map.of())).isZero();
        assertThat(m.value("celeriac_dead_letters_total", Map.of())).isZero();
        assertThat(m.sum("celeriac_task_retries_total", Map.of())).isZero();

        HttpResponse<String> live = get(port, "/health/live");
        assertThat(live.statusCode()).isEqualTo(200);
        assertThat(Json.read(live.body()).path("status").asText()).isEqualTo("live");
        HttpResponse<String> ready = get(port, "/health/ready");
        JsonNode body = Json.read(ready.body());
        assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        assertThat(body.path("status").asText()).isEqualTo("ready");
        assertThat(body.path("checks").path("broker").path("ok").asBoolean()).isTrue();
        assertThat(body.path("checks").path("result_backend").path("ok").asBoolean()).isTrue();
        assertThat(body.path("checks").path("progress").path("ok").asBoolean()).isTrue();
        assertThat(get(port, "/nothing").statusCode()).isEqualTo(404);
    }

    @Test
    void aPortInUseOrABadBindAddressIsOneLineAndTheWorkerDoesNotStart() throws Exception {
        String url = "sqlite:" + dir.resolve("busy.db");
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            ChildJvm w = worker(url, taken.getLocalPort(), "-P", "threads");
            assertThat(w.waitFor(60)).as(w.output()).isTrue();
            assertThat(w.exitCode()).isEqualTo(1);
            assertThat(w.output()).contains("cannot start: worker_metrics_port " + taken.getLocalPort() + ": cannot listen on 127.0.0.1:"
                    + taken.getLocalPort()).doesNotContain("\tat ").doesNotContain("ready: pool");
        }
        ChildJvm bad = worker(url, freePort(), "-P", "threads", "--set", "worker_metrics_bind=no-such-host.invalid");
        assertThat(bad.waitFor(60)).as(bad.output()).isTrue();
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.output()).contains("worker_metrics_bind 'no-such-host.invalid' is not an address of this host")
                .doesNotContain("\tat ");
    }

    @Test
    void readyTurns503NamingTheBrokerWhenRedisStopsAndBackWhenItReturns() throws Exception {
        RedisServer redis = RedisServer.start(dir.resolve("redis"), false);
        try {
            int port = freePort();
            ChildJvm w = worker(redis.url(), port, "-P", "threads", "-c", "2");
            waitFor(Duration.ofSeconds(60), () -> get(port, "/health/ready").statusCode() == 200);

            redis.stop(); // the broker (and result store) goes away
            waitFor(Duration.ofSeconds(30), () -> get(port, "/health/ready").statusCode() == 503);
            JsonNode body = Json.read(get(port, "/health/ready").body());
            assertThat(body.path("status").asText()).isEqualTo("unready");
            assertThat(body.path("failing").asText()).contains("broker");
            assertThat(body.path("checks").path("broker").path("ok").asBoolean()).isFalse();
            assertThat(body.path("checks").path("broker").path("detail").asText()).isNotBlank();
            assertThat(get(port, "/health/live").statusCode()).isEqualTo(200); // the process still serves
            assertThat(w.process().isAlive()).isTrue();

            redis.start(); // same port: the worker reconnects
            waitFor(Duration.ofSeconds(60), () -> get(port, "/health/ready").statusCode() == 200);
        } finally {
            redis.close();
        }
    }
}
