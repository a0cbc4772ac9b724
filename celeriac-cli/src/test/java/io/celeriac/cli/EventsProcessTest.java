package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code celeriac events} showing the whole life of tasks from live workers, on SQLite and on Redis. */
@Tag("chaos")
@Timeout(180)
class EventsProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();
    private RedisServer redis;

    @AfterEach
    void stop() throws InterruptedException {
        if (redis != null) {
            redis.close();
        }
    }

    @Test
    void onTheEmbeddedBroker() throws Exception {
        lifeOfTasks("sqlite:" + dir.resolve("events.db"));
    }

    @Test
    void onRedis() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
        lifeOfTasks(redis.url());
    }

    private List<JsonNode> events(Path log) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(log)) {
            if (l.startsWith("{")) {
                out.add(Json.read(l));
            }
        }
        return out;
    }

    private void lifeOfTasks(String url) throws Exception {
        Path log = dir.resolve("events.log");
        processes.start(log, List.of("events", "--dump", "--broker", url, "--duration", "120"));
        // the listener is up (and, on the embedded broker, announced) before the worker starts
        await().atMost(WAIT).until(() -> Files.readString(log).contains("listening for events on "));
        processes.worker(dir, url, "ev", "-E", "-P", "threads", "-c", "2", "--loglevel", "WARNING");
        Config config = Config.builder().set(Settings.BROKER_URL, url).set(Settings.TASK_SEND_SENT_EVENT, true).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            AsyncResult ok = client.send("add", 2, 3);
            assertThat(ok.get(WAIT).asInt()).isEqualTo(5);
            AsyncResult bad = client.send("fail", "boom");
            assertThatThrownBy(() -> bad.get(WAIT)).isInstanceOf(TaskFailedException.class);
            await().atMost(WAIT).until(() -> events(log).stream().anyMatch(e -> "task-failed".equals(e.path("type").asText())));

            List<JsonNode> all = events(log);
            List<String> okLife = all.stream().filter(e -> ok.id().equals(e.path("uuid").asText()))
                    .map(e -> e.path("type").asText()).toList();
            // the worker's events in order; the client's task-sent races with them across processes
            assertThat(okLife.stream().filter(t -> !t.equals("task-sent")).toList()).as(all.toString())
                    .containsExactly("task-received", "task-started", "task-succeeded");
            assertThat(okLife).contains("task-sent");
            JsonNode succeeded = all.stream().filter(e -> "task-succeeded".equals(e.path("type").asText())).findFirst().orElseThrow();
            assertThat(succeeded.path("result").asText()).isEqualTo("5");
            assertThat(succeeded.path("hostname").asText()).startsWith("ev@");
            assertThat(succeeded.path("runtime").asDouble()).isGreaterThanOrEqualTo(0);
            JsonNode received = all.stream().filter(e -> "task-received".equals(e.path("type").asText())).findFirst().orElseThrow();
            assertThat(received.path("name").asText()).isEqualTo("add");
            assertThat(received.path("args").asText()).isEqualTo("(2, 3)");
            JsonNode failed = all.stream().filter(e -> bad.id().equals(e.path("uuid").asText())
                    && "task-failed".equals(e.path("type").asText())).findFirst().orElseThrow();
            assertThat(failed.path("exception").asText()).contains("boom");
            assertThat(all).anyMatch(e -> "worker-online".equals(e.path("type").asText()));
            await().atMost(WAIT).until(() -> events(log).stream().anyMatch(e -> "worker-heartbeat".equals(e.path("type").asText())));
            // a listening `celeriac events` is not taken for a worker
            CliRun ping = CliRun.of("inspect", "ping", "--broker", url);
            assertThat(ping.out()).contains("1 node online.").doesNotContain("No answer from");
        }
    }
}
