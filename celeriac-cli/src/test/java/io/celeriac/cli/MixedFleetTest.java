package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.JedisPooled;

/**
 * A fleet of Python Celery 5.2 and Celeriac workers on one Redis: what a Celeriac worker parks or
 * holds is never stranded where only Celeriac looks, revocations reach Python workers, and Python
 * reads a Celeriac worker's inspect replies with every key and JSON type its own worker gives.
 */
@Tag("interop")
@Timeout(300)
class MixedFleetTest {
    static RedisServer redis;
    static Path dir;
    private static int nextDb = 8;
    private PythonCelery fleet;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("celeriac-mixed-fleet");
        redis = RedisServer.start(dir.resolve("redis"), false);
    }

    @AfterAll
    static void stop() throws Exception {
        redis.close();
    }

    @org.junit.jupiter.api.BeforeEach
    void fleet() throws Exception {
        fleet = new PythonCelery(dir, "interop.py", "inspect_shapes.py");
    }

    @AfterEach
    void stopProcesses() throws Exception {
        fleet.close();
    }

    private static synchronized String freshDb() {
        return redis.url(nextDb++);
    }

    private Process pythonWorker(String url, String queue, String name, String... extra) throws Exception {
        return fleet.pythonWorker(url, queue, name, extra);
    }

    private ChildJvm celeriacWorker(String url, String queue, String name, String... extra) throws Exception {
        return fleet.celeriacWorker(url, queue, name, extra);
    }

    private static Celeriac client(String url) {
        return Celeriac.open(Config.builder().set(Settings.BROKER_URL, url).build(), new TaskRegistry());
    }

    private static long parked(JedisPooled r) {
        return r.zcard("celeriac.delayed.celery");
    }

    @Test
    void countdownsAndRetriesParkedByACeleriacWorkerRunOnAPythonWorkerOnceItStopsWarmly() throws Exception {
        String url = freshDb();
        ChildJvm celeriac = celeriacWorker(url, "celery", "celeriac-parking", "-P", "threads", "-c", "2");
        try (Celeriac app = client(url); JedisPooled r = new JedisPooled(java.net.URI.create(url))) {
            List<AsyncResult> sent = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                sent.add(app.send("add", List.of(i, 100), java.util.Map.of(), SendOptions.options().withCountdown(Duration.ofSeconds(8))));
            }
            for (int i = 0; i < 5; i++) {
                sent.add(app.send("retry_once", i));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> parked(r) == 15); // countdowns and retries wait in the broker
            celeriac.sigterm();
            assertThat(celeriac.waitFor(60)).isTrue();
            assertThat(celeriac.exitCode()).isZero();
            assertThat(parked(r)).isZero();
            assertThat(r.llen("celery")).isEqualTo(15); // handed back to the queue, where Python looks
            assertThat(celeriac.output()).contains("15 parked message(s) handed back");
            pythonWorker(url, "celery", "python-after", "-P", "threads", "-c", "4");
            for (int i = 0; i < 15; i++) {
                JsonNode v = sent.get(i).get(Duration.ofSeconds(90));
                assertThat(v.asLong()).isEqualTo(i < 10 ? i + 100 : 2L * (i - 10));
                assertThat(sent.get(i).meta().orElseThrow().extra().path("worker").asText()).startsWith("python-after@");
            }
        }
    }

    @Test
    void whatAKilledCeleriacWorkerHeldRunsOnAPythonWorkerWithNoCeleriacLeft() throws Exception {
        String url = freshDb();
        ChildJvm celeriac = celeriacWorker(url, "celery", "celeriac-killed", "-P", "threads", "-c", "2",
                "--set", "broker_recovery_timeout=3");
        try (Celeriac app = client(url); JedisPooled r = new JedisPooled(java.net.URI.create(url))) {
            AsyncResult running = app.send("slow", 20.0);
            List<AsyncResult> later = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                later.add(app.send("add", List.of(i, 1), java.util.Map.of(), SendOptions.options().withCountdown(Duration.ofSeconds(4))));
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> parked(r) == 5 && r.hlen("unacked") == 6);
            celeriac.kill9();
            Thread.sleep(5000); // the countdowns come due and the killed worker's lease runs out
            pythonWorker(url, "celery", "python-rescue", "-P", "threads", "-c", "4");
            for (int i = 0; i < 5; i++) {
                assertThat(later.get(i).get(Duration.ofSeconds(120)).asLong()).isEqualTo(i + 1);
            }
            assertThat(running.get(Duration.ofSeconds(120)).asDouble()).isEqualTo(20.0);
        }
    }

    @Test
    void revokeWithTerminateFromCeleriacStopsATaskRunningOnAPythonWorker() throws Exception {
        String url = freshDb();
        pythonWorker(url, "celery", "python-revoke", "-P", "prefork", "-c", "1");
        try (Celeriac app = client(url)) {
            AsyncResult r = app.send("slow", 60.0);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
                CliRun active = CliRun.of("inspect", "active", "--broker", url, "--json", "--timeout", "1");
                return active.code() == 0 && active.out().contains(r.id());
            });
            CliRun revoke = CliRun.of("revoke", r.id(), "--terminate", "--broker", url);
            assertThat(revoke.code()).as(revoke.err()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> r.state() == TaskState.REVOKED);
        }
    }

    @Test
    void pythonsInspectGetsCelerysKeysAndTypesFromACeleriacWorker() throws Exception {
        String url = freshDb();
        pythonWorker(url, "py", "python-shapes", "-P", "prefork", "-c", "1");
        celeriacWorker(url, "jv", "celeriac-shapes", "-c", "1");
        String host = io.celeriac.protocol.TaskMessage.hostName();
        try (Celeriac app = client(url)) {
            Thread.sleep(5000);
            for (String q : List.of("py", "jv")) {
                SendOptions on = SendOptions.options().withQueue(q);
                app.send("slow", List.of(30.0), java.util.Map.of(), on);                    // active
                app.send("slow", List.of(1.0), java.util.Map.of(), on);                     // reserved
                app.send("slow", List.of(1.0), java.util.Map.of(), on.withCountdown(Duration.ofMinutes(2))); // scheduled
            }
            Thread.sleep(4000);
            Path log = dir.resolve("inspect-shapes.log");
            Process p = fleet.python(List.of(PythonCelery.PYTHON, "inspect_shapes.py", "python-shapes@" + host,
                    "celeriac-shapes@" + host), url, log);
            assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(Files.readString(log)).isZero();
            JsonNode out = PythonCelery.lastJsonLine(log);
            assertThat(out.get("mismatches")).as(out.toString()).isEmpty();
            JsonNode stats = out.get("replies").get("stats").get("celeriac");
            assertThat(stats.get("pool").get("max-concurrency").asInt()).isEqualTo(1);
            assertThat(stats.get("clock").isTextual()).isTrue();
        }
    }

    @Test
    void aPythonTasksCustomStateReadsAsPythonStoredIt() throws Exception {
        String url = freshDb();
        pythonWorker(url, "celery", "python-progress", "-P", "threads", "-c", "1");
        try (Celeriac app = client(url)) {
            AsyncResult r = app.send("progress", 3);
            await().atMost(Duration.ofSeconds(60)).until(() -> "PROGRESS".equals(r.status()) && r.info().path("done").asInt() == 3);
            assertThat(r.state().custom()).isTrue();
            assertThat(r.ready()).isFalse();
            CliRun shown = CliRun.of("result", r.id(), "--broker", url);
            assertThat(shown.out()).contains("PROGRESS", "\"done\":3", "\"total\":3");
            assertThat(Json.read(CliRun.of("result", r.id(), "--broker", url, "--json").out()).get("status").asText()).isEqualTo("PROGRESS");
        }
    }
}
