package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.dashboard.PasswordHash;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Backends;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code celeriac dashboard}: its refusals, its password hashes, and the dashboard the manager runs and restarts. */
@Timeout(180)
class DashboardProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Path cfg;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    @AfterEach
    void stopManager() {
        if (cfg != null) {
            CliRun.of("stop", "--config", cfg.toString());
        }
    }

    @Test
    void aNonLoopbackBindWithoutAuthIsOneLineAndExitTwo() {
        CliRun r = CliRun.of("dashboard", "--bind", "0.0.0.0", "--broker", "sqlite:" + dir.resolve("x.db"));
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip()).hasLineCount(1)
                .startsWith("celeriac: dashboard_bind 0.0.0.0 is not a loopback address: set dashboard_auth");
        CliRun badAuth = CliRun.of("dashboard", "--broker", "sqlite:" + dir.resolve("x.db"), "--set", "dashboard_auth=basic:me:secret");
        assertThat(badAuth.code()).isEqualTo(2);
        assertThat(badAuth.err().strip()).hasLineCount(1).contains("basic:USER:HASH").doesNotContain("secret");
    }

    @Test
    void hashPasswordPrintsTheSettingsValue() {
        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream("correct horse battery\n".getBytes(StandardCharsets.UTF_8)));
            CliRun r = CliRun.of("dashboard", "hash-password", "--user", "ops");
            assertThat(r.code()).as(r.err()).isZero();
            String value = r.out().strip();
            assertThat(value).startsWith("basic:ops:pbkdf2-sha256$");
            assertThat(PasswordHash.verify("correct horse battery".toCharArray(), value.substring("basic:ops:".length()))).isTrue();
            System.setIn(new ByteArrayInputStream("short\n".getBytes(StandardCharsets.UTF_8)));
            assertThat(CliRun.of("dashboard", "hash-password").code()).isEqualTo(2);
        } finally {
            System.setIn(stdin);
        }
    }

    @Test
    void theManagerRunsTheDashboardAndItsTaskListSurvivesARestart() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        cfg = Files.writeString(dir.resolve("celeriac.yaml"), String.join("\n",
                "broker_url: sqlite:" + dir.resolve("celeriac.db"), "run_dir: " + dir.resolve("run"), "log_dir: " + dir.resolve("logs"),
                "worker_concurrency: 1", "worker_heartbeat_interval: 0.5", "health_check_interval: 0", "task_history: true",
                "dashboard_port: " + port, ""));
        Config c = Config.builder().set(Settings.BROKER_URL, "sqlite:" + dir.resolve("celeriac.db")).set(Settings.TASK_HISTORY, true).build();
        try (TaskHistory h = Backends.openTaskHistory(c)) {
            h.record(List.of(new TaskRecord("kept-1", "add", TaskState.SUCCESS, "worker@host", "celery", "[1, 2]", "{}", "3", null, null,
                    0, null, null, Instant.now(), 0.01, null, null, null, List.of(), List.of())));
        }
        CliRun start = CliRun.of("start", "--config", cfg.toString());
        assertThat(start.code()).as(start.err()).isZero();
        assertThat(start.out()).contains("worker, beat, dashboard").contains("dashboard on http://127.0.0.1:" + port + "/");
        String url = "http://127.0.0.1:" + port;
        await().atMost(WAIT).ignoreExceptions().until(() -> get(url + "/").contains("data-process=\"dashboard\" data-state=\"RUNNING\"")
                && get(url + "/").contains("class=\"worker\" data-node=\"worker@"));
        assertThat(get(url + "/tasks")).contains("data-task-id=\"kept-1\"");

        CliRun restart = CliRun.of("restart", "dashboard", "--config", cfg.toString());
        assertThat(restart.code()).as(restart.out() + restart.err()).isZero();
        await().atMost(WAIT).ignoreExceptions().until(() -> get(url + "/tasks").contains("data-task-id=\"kept-1\""));
        // The new dashboard answers before the manager counts it RUNNING (it must stay up for its start seconds first).
        await().atMost(WAIT).untilAsserted(() -> {
            JsonNode status = Json.read(CliRun.of("status", "--json", "--config", cfg.toString()).out());
            String state = "";
            for (JsonNode p : status.get("processes")) {
                if (p.get("process").asText().equals("dashboard")) {
                    state = p.get("state").asText();
                }
            }
            assertThat(state).as(status.toString()).isEqualTo("RUNNING");
        });
    }

    private String get(String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IllegalStateException(url + ": HTTP " + r.statusCode());
        }
        return r.body();
    }
}
