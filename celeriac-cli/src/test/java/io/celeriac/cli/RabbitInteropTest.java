package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RabbitNode;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Wire compatibility with the real Celery 5.2 on one RabbitMQ node (a private {@link RabbitNode}),
 * results in Redis, both ways: Python's client with a Celeriac worker (results, args/kwargs/unicode,
 * countdown, priority order on an {@code x-max-priority} queue, a failure read by Python's
 * {@code AsyncResult.get}, a chain Python builds, a task past its {@code expires} ending REVOKED), Python's
 * {@code celery inspect ping} and {@code celery events --dump} seeing it; Celeriac's client and
 * {@code celeriac inspect} with a Python worker.
 */
@Tag("interop")
@Timeout(300)
class RabbitInteropTest {
    static final String PYTHON = PythonCelery.PYTHON;

    @TempDir
    static Path dir;
    static RabbitNode node;
    static RedisServer redis;
    static PythonCelery fleet;

    @BeforeAll
    static void start() throws Exception {
        node = RabbitNode.launch();
        redis = RedisServer.start(dir.resolve("redis"), false);
        fleet = new PythonCelery(dir, "rabbit_interop.py", "rabbit_prio.py", "rabbit_client.py");
    }

    @AfterAll
    static void stop() throws Exception {
        fleet.close();
        redis.close();
        node.close();
    }

    private static Map<String, String> env(int db) {
        return Map.of("BROKER", node.url(), "RESULTS", redis.url(db));
    }

    private static JsonNode run(Path log, Map<String, String> env, String... args) throws Exception {
        Process p = fleet.python(List.of(args), env, log);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(log)).isZero();
        return PythonCelery.lastJsonLine(log);
    }

    @Test
    void aPythonCeleryClientsTasksRunOnACeleriacWorkerAndPythonsToolsSeeIt() throws Exception {
        Map<String, String> env = env(1);
        JsonNode prio = run(dir.resolve("prio.log"), env, PYTHON, "rabbit_prio.py");
        Path events = dir.resolve("python-events.log");
        Process dump = fleet.python(List.of(PYTHON, "-m", "celery", "-A", "rabbit_interop", "events", "--dump"), env, events);
        String nodeName = "celeriac-rabbit@" + TaskMessage.hostName();
        try (ChildJvm worker = ChildJvm.start(Main.class.getName(), List.of("worker", "-E", "--broker", node.url(), "--result-backend",
                redis.url(1), "-P", "threads", "-c", "1", "-Q", "celery,prio", "-n", "celeriac-rabbit", "--loglevel", "INFO"), Map.of(),
                dir.resolve("celeriac-worker.log"))) {
            JsonNode out;
            try {
                out = run(dir.resolve("client.log"), env, PYTHON, "rabbit_client.py", prio.toString());
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "\n--- worker:\n" + worker.output(), e);
            }
            assertThat(out.get("add").asInt()).isEqualTo(5);
            assertThat(out.get("kwargs").asInt()).isEqualTo(42);
            assertThat(out.get("echo").toString()).isEqualTo(
                    "{\"args\":[\"ünïcödé 🥬\",{\"nested\":[1,2.5,null,true,{\"deep\":[\"中文\"]}]}],\"kwargs\":{\"k\":\"v\",\"n\":null}}");
            assertThat(out.get("countdown").asInt()).isEqualTo(3);
            assertThat(out.get("countdown_elapsed").asDouble()).isGreaterThanOrEqualTo(1.9);
            assertThat(out.get("fail").get("type").asText()).isEqualTo("FactCheckError");
            assertThat(out.get("fail").get("message").asText()).contains("boom");
            assertThat(out.get("priority").asInt()).isEqualTo(10);
            assertThat(out.get("prio_high").asInt()).isEqualTo(18);
            assertThat(out.get("prio_low").toString()).isEqualTo("[0,2,4]");
            assertThat(out.get("prio_high_first").asBoolean()).as(out.toString()).isTrue();
            assertThat(out.get("chain").asInt()).as(out.toString()).isEqualTo(6);
            assertThat(out.get("chain_parent").asInt()).isEqualTo(3);
            assertThat(out.get("expired").get("type").asText()).as(out.toString()).isEqualTo("TaskRevokedError");
            assertThat(out.get("expired").get("state").asText()).isEqualTo("REVOKED");

            // celery inspect ping sees the Celeriac worker through Celery's pidbox
            Path ping = dir.resolve("python-ping.log");
            Process p = fleet.python(List.of(PYTHON, "-m", "celery", "-A", "rabbit_interop", "inspect", "ping", "--timeout", "3"), env, ping);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(Files.readString(ping)).contains("->  " + nodeName + ": OK", "pong");

            // celery events --dump shows its heartbeats and task events (celeryev topic exchange)
            await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(events).contains(nodeName + " [")
                    && Files.readString(events).contains("task succeeded: add("));
            assertThat(Files.readString(events)).contains("task received: add(", "task started:");
        } finally {
            dump.destroy();
            dump.waitFor(20, TimeUnit.SECONDS);
            dump.destroyForcibly();
        }
    }

    @Test
    void celeriacsTasksRunOnAPythonCeleryWorkerAndCeleriacInspectSeesIt() throws Exception {
        Path log = dir.resolve("python-worker.log");
        Process worker = fleet.python(List.of(PYTHON, "-m", "celery", "-A", "rabbit_interop", "worker", "-P", "solo", "-c", "1",
                "-Q", "pyq", "-n", "py-rabbit@%h", "--loglevel", "INFO"), env(2), log);
        Config config = Config.builder().set(Settings.BROKER_URL, node.url()).set(Settings.RESULT_BACKEND, redis.url(2))
                .set(Settings.TASK_DEFAULT_QUEUE, "pyq").build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            Duration wait = Duration.ofSeconds(60);
            PythonCelery.javaClientBasics(client, wait, log); // result, kwargs, unicode, countdown
            assertThatThrownBy(() -> client.send("fail", "boom").get(wait))
                    .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                        assertThat(e.excType()).isEqualTo("ValueError");
                        assertThat(e.excMessage()).isEqualTo("boom");
                    });
            assertThat(client.send("add", List.of(5, 5), Map.of(), SendOptions.options().withPriority(9)).get(wait).asInt()).isEqualTo(10);

            String py = "py-rabbit@" + TaskMessage.hostName();
            CliRun ping = CliRun.of("inspect", "ping", "--broker", node.url(), "--result-backend", redis.url(2), "--timeout", "3");
            assertThat(ping.code()).as(ping.err()).isZero();
            assertThat(ping.out()).contains("-> " + py + ": OK", "pong");
        } finally {
            worker.destroy();
            worker.waitFor(20, TimeUnit.SECONDS);
            worker.destroyForcibly();
        }
    }

    @Test
    void withoutAStoreForCoordinationAWorkerStopsWithOneLine() throws Exception {
        for (String command : List.of("worker", "beat")) {
            CliRun r = CliRun.of(command, "--broker", node.url());
            assertThat(r.code()).as(r.out() + r.err()).isEqualTo(2);
            assertThat(r.err().strip()).contains("is RabbitMQ, which keeps queues only: set result_backend or coordination_url")
                    .doesNotContain("\n\tat ").doesNotContain("guest:guest");
        }
    }
}
