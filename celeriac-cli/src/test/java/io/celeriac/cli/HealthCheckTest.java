package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Apps;
import io.celeriac.Celeriac;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.worker.Worker;
import io.celeriac.worker.WorkerOptions;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The built-in health check with a real database connection, and with a database that is down. */
@Tag("integration")
class HealthCheckTest {
    @TempDir
    Path dir;

    private JsonNode runHealthCheck(String jdbcUrl, boolean expectSuccess) throws Exception {
        Config c = Config.builder()
                .set(Settings.BROKER_URL, "sqlite:" + dir.resolve("health.db"))
                .set(Settings.WORKER_POOL, "threads")
                .set(Settings.WORKER_CONCURRENCY, 1)
                .set(Settings.HEALTH_CHECK_JDBC_URL, jdbcUrl)
                .build();
        TaskRegistry registry = Apps.load(c);
        try (Celeriac app = Celeriac.open(c, registry)) {
            Worker w = new Worker(WorkerOptions.from(c), registry, app.broker(), app.results(), Clock.systemUTC());
            w.start();
            try {
                var r = app.send("celeriac.health_check");
                if (expectSuccess) {
                    assertThat(r.get(Duration.ofSeconds(30)).get("healthy").asBoolean()).isTrue();
                } else {
                    assertThatThrownBy(() -> r.get(Duration.ofSeconds(60))).isInstanceOf(TaskFailedException.class)
                            .hasMessageContaining("HealthCheckFailed");
                }
                return Json.read(app.coordination().get("celeriac.health_check.last").orElseThrow());
            } finally {
                w.shutdown();
                w.awaitTermination(Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void recordsSuccessWithEachCheckAndItsLatency() throws Exception {
        JsonNode rec = runHealthCheck("jdbc:sqlite:" + dir.resolve("app.db"), true);
        assertThat(rec.get("healthy").asBoolean()).isTrue();
        assertThat(rec.get("checked_at").asText()).isNotBlank();
        for (String check : new String[] {"broker", "result_backend", "database"}) {
            assertThat(rec.get("checks").get(check).get("ok").asBoolean()).as(check).isTrue();
            assertThat(rec.get("checks").get(check).get("latency_ms").isNumber()).isTrue();
        }
        assertThat(rec.get("workers")).isNotEmpty();
    }

    @Test
    void recordsAFailureWithTheReasonWhenTheDatabaseIsDown() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort(); // free now, and nothing listens on it after this
        }
        JsonNode rec = runHealthCheck("jdbc:postgresql://127.0.0.1:" + closedPort + "/factcheck?user=app&password=secret", false);
        assertThat(rec.get("healthy").asBoolean()).isFalse();
        JsonNode db = rec.get("checks").get("database");
        assertThat(db.get("ok").asBoolean()).isFalse();
        assertThat(db.get("error").asText()).containsIgnoringCase("connection").contains(Integer.toString(closedPort));
        assertThat(db.get("target").asText()).contains("password=***").doesNotContain("secret");
        assertThat(rec.get("checks").get("broker").get("ok").asBoolean()).isTrue();
    }

    @Test
    void failsItsBrokerDataCheckOnceTheWorkersRedisRestartedWithoutItsData() throws Exception {
        try (io.celeriac.testkit.RedisServer redis = io.celeriac.testkit.RedisServer.start(dir.resolve("redis"), false)) {
            Config c = Config.builder()
                    .set(Settings.BROKER_URL, redis.url())
                    .set(Settings.WORKER_POOL, "threads")
                    .set(Settings.WORKER_CONCURRENCY, 1)
                    .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(500))
                    .build();
            TaskRegistry registry = Apps.load(c);
            try (Celeriac app = Celeriac.open(c, registry)) {
                Worker w = new Worker(WorkerOptions.from(c), registry, app.broker(), app.results(), Clock.systemUTC());
                w.start();
                try {
                    assertThat(app.send("celeriac.health_check").get(Duration.ofSeconds(30)).get("healthy").asBoolean()).isTrue();
                    redis.stop();
                    redis.start(); // the same port, empty
                    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> app.broker().dataLoss() != null);
                    JsonNode rec = org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                            .until(() -> {
                                var r = app.send("celeriac.health_check");
                                assertThatThrownBy(() -> r.get(Duration.ofSeconds(20))).isInstanceOf(TaskFailedException.class)
                                        .hasMessageContaining("HealthCheckFailed");
                                return Json.read(app.coordination().get("celeriac.health_check.last").orElseThrow());
                            }, r -> !r.get("healthy").asBoolean());
                    JsonNode check = rec.get("checks").get("broker_data");
                    assertThat(check.get("ok").asBoolean()).isFalse();
                    assertThat(check.get("error").asText()).startsWith("Redis at " + redis.url() + " restarted with its data gone");
                    assertThat(rec.get("checks").get("broker").get("ok").asBoolean()).as("it answers: the data is what is gone").isTrue();
                } finally {
                    w.shutdown();
                    w.awaitTermination(Duration.ofSeconds(10));
                }
            }
        }
    }
}
