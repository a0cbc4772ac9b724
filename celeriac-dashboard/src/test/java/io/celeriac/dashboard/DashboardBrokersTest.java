package io.celeriac.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.testkit.PostgresServer;
import io.celeriac.testkit.RedisServer;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard on the other brokers, each a real server: every page renders with a live worker,
 * the dead-letter queue is listed without being consumed and a dead letter replays to its queue.
 */
class DashboardBrokersTest {
    @TempDir
    Path dir;

    @Test
    void onRedis() throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"), false)) {
            everyPageAndTheDeadLetterQueue(redis.url());
        }
    }

    @Test
    void onPostgres() throws Exception {
        try (PostgresServer pg = PostgresServer.launch()) {
            everyPageAndTheDeadLetterQueue(pg.url());
        }
    }

    private void everyPageAndTheDeadLetterQueue(String url) throws Exception {
        Config c = Config.builder().set(Settings.BROKER_URL, url).set(Settings.TASK_HISTORY, true)
                .set(Settings.WORKER_HOSTNAME, "b@host").set(Settings.WORKER_POOL, "threads").set(Settings.WORKER_CONCURRENCY, 1)
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(300)).set(Settings.DASHBOARD_PORT, 0)
                .set(Settings.RUN_DIR, dir.resolve("run").toString()).build();
        try (Served s = new Served(c, dir.resolve("run"), true)) {
            await().atMost(Served.WAIT).until(() -> s.get("/workers").body().contains("data-progressing=\"true\""));
            assertThat(s.app.send("add", 2, 3).get(Served.WAIT).asInt()).isEqualTo(5);
            for (String page : List.of("/", "/workers", "/tasks", "/queues", "/beat", "/api/rates", "/api/overview")) {
                HttpResponse<String> r = s.get(page);
                assertThat(r.statusCode()).as(page + ": " + r.body()).isEqualTo(200);
            }
            assertThat(s.get("/").body()).contains("class=\"worker\" data-node=\"b@host\" data-online=\"true\"")
                    .contains("data-queue=\"celery\"");
            String tasks = s.get("/tasks").body();
            assertThat(tasks.contains("id=\"tasks\"") || tasks.contains("id=\"history-off\"")).as(tasks).isTrue();

            String letter = Json.write(Map.of("reason", "malformed message: x", "queue", "parked", "task", "add", "id", "dl-9",
                    "payload", "{\"headers\": {\"id\": \"dl-9\"}}"));
            s.app.broker().publish("celeriac.dead_letter", new BrokerMessage("dl-9", letter, 0, null));
            await().atMost(Served.WAIT).until(() -> s.get("/queues").body().contains("data-task-id=\"dl-9\""));
            assertThat(s.app.broker().size("celeriac.dead_letter")).isEqualTo(1);
            Matcher m = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"").matcher(s.get("/queues").body());
            assertThat(m.find()).isTrue();
            HttpResponse<String> replay = s.post("/control/deadletters", Map.of("action", "replay", "id", "dl-9", "csrf", m.group(1)));
            assertThat(replay.statusCode()).as(replay.body()).isEqualTo(303);
            assertThat(s.app.broker().size("parked")).isEqualTo(1);
            assertThat(s.app.broker().size("celeriac.dead_letter")).isZero();
        }
    }
}
