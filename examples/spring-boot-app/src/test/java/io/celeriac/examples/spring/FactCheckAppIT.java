package io.celeriac.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.testkit.PrometheusText;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The example app's jar, started with java -jar as a user would, in a folder of its own. */
class FactCheckAppIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    @TempDir
    Path dir;
    private Process app;

    @AfterEach
    void stop() throws InterruptedException {
        if (app != null && app.isAlive()) {
            app.destroy(); // SIGTERM: Spring closes the context, the worker shuts down warmly
            if (!app.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
                app.destroyForcibly();
            }
        }
    }

    @Test
    void aRequestEndsInAStoredResultAndActuatorAnswers() throws Exception {
        Path jar = Path.of(System.getProperty("celeriac.example.jar"));
        assertThat(jar).exists();
        int port = freePort();
        Path log = dir.resolve("app.log");
        app = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString(),
                "--server.port=" + port, "--server.address=127.0.0.1"))
                .directory(dir.toFile()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        String base = "http://127.0.0.1:" + port;
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).ignoreExceptions()
                .until(() -> get(base + "/actuator/health").statusCode() == 200);

        HttpResponse<String> sent = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/scrapes?failure_rate=0"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(sent.statusCode()).isEqualTo(202);
        Matcher m = Pattern.compile("\"task_id\":\"([^\"]+)\"").matcher(sent.body());
        assertThat(m.find()).as(sent.body()).isTrue();
        String id = m.group(1);
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(200))
                .until(() -> get(base + "/scrapes/" + id).body().contains("\"stored\""));
        String done = get(base + "/scrapes/" + id).body();
        assertThat(done).contains("\"state\":\"SUCCESS\"", "\"sources\":5", "\"attempts\":1");
        assertThat(dir.resolve("factcheck.db")).exists();

        HttpResponse<String> health = get(base + "/actuator/health");
        assertThat(health.body()).contains("\"celeriac\":{\"status\":\"UP\"", "\"db\":{\"status\":\"UP\"");
        HttpResponse<String> prometheus = get(base + "/actuator/prometheus");
        assertThat(prometheus.statusCode()).isEqualTo(200);
        PrometheusText metrics = PrometheusText.parse(prometheus.body());
        assertThat(prometheus.body()).containsPattern("celeriac_tasks_total\\{[^}]*outcome=\"success\"[^}]*task=\"scrape_all_sources\"");
        assertThat(prometheus.body()).contains("celeriac_queue_length{", "celeriac_task_runtime_seconds_bucket{");
        assertThat(metrics).isNotNull();

        app.destroy();
        assertThat(app.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(Files.readString(log)).contains("warm shutdown").doesNotContain("Exception");
    }

    private static HttpResponse<String> get(String url) throws IOException, InterruptedException {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
