package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskRevokedException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RedisServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
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
 * Wire compatibility with the real Celery 5.2 (Debian's python3-celery) on one Redis, both ways:
 * Python's client with a Celeriac worker, and Celeriac's client with Python's worker.
 */
@Tag("interop")
@Timeout(180)
class CeleryInteropTest {
    static final String PYTHON = PythonCelery.PYTHON;

    @TempDir
    static Path dir;
    static RedisServer redis;
    static PythonCelery fleet;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
        fleet = new PythonCelery(dir, "interop.py", "client.py", "progress_client.py");
    }

    @AfterAll
    static void stop() throws Exception {
        fleet.close();
        redis.close();
    }

    private static Process python(List<String> args, String url, Path log) throws IOException {
        return fleet.python(args, url, log);
    }

    @Test
    void aPythonCeleryClientsTasksRunOnACeleriacWorkerAndItReadsTheirResults() throws Exception {
        String url = redis.url(1);
        try (ChildJvm worker = ChildJvm.start(Main.class.getName(), List.of("worker", "--broker", url, "-P", "threads", "-c", "2",
                "-n", "celeriac-interop", "--loglevel", "INFO"), Map.of(), dir.resolve("celeriac-worker.log"))) {
            Path log = dir.resolve("python-client.log");
            Process client = python(List.of(PYTHON, "client.py"), url, log);
            assertThat(client.waitFor(120, TimeUnit.SECONDS)).isTrue();
            String output = Files.readString(log);
            assertThat(client.exitValue()).as(output + "\n--- worker:\n" + worker.output()).isZero();
            JsonNode out = Json.read(output.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
            assertThat(out.get("add").asInt()).isEqualTo(5);
            assertThat(out.get("kwargs").asInt()).isEqualTo(42);
            assertThat(out.get("echo").toString()).isEqualTo(
                    "{\"args\":[\"ünïcödé 🥬\",{\"nested\":[1,2.5,null,true,{\"deep\":[\"中文\"]}]}],\"kwargs\":{\"k\":\"v\",\"n\":null}}");
            assertThat(out.get("countdown").asInt()).isEqualTo(3);
            assertThat(out.get("countdown_elapsed").asDouble()).isGreaterThanOrEqualTo(1.9);
            assertThat(out.get("expired").asText()).isEqualTo("expired");
            assertThat(out.get("fail").get("type").asText()).isEqualTo("FactCheckError");
            assertThat(out.get("fail").get("message").asText()).contains("boom");
            assertThat(out.get("priority").asInt()).isEqualTo(10);
            assertThat(out.get("state").asText()).isEqualTo("SUCCESS");

            // Python's own inspect tool sees the Celeriac worker (Celery's pidbox on Redis)
            String node = "celeriac-interop@" + io.celeriac.protocol.TaskMessage.hostName();
            for (String method : List.of("ping", "stats", "registered", "active")) {
                Path inspectLog = dir.resolve("python-inspect-" + method + ".log");
                Process inspect = python(List.of(PYTHON, "-m", "celery", "-A", "interop", "inspect", method, "--timeout", "3"),
                        url, inspectLog);
                assertThat(inspect.waitFor(60, TimeUnit.SECONDS)).isTrue();
                String said = Files.readString(inspectLog);
                assertThat(inspect.exitValue()).as(said).isZero();
                assertThat(said).as(method).contains("->  " + node + ": OK");
                switch (method) {
                    case "ping" -> assertThat(said).contains("pong");
                    case "stats" -> assertThat(said).contains("\"pid\"", "\"prefetch_count\"", "\"total\"");
                    case "registered" -> assertThat(said).contains("* add", "* echo");
                    default -> assertThat(said).contains("- empty -");
                }
            }
        }
    }

    @Test
    void celeriacsTasksRunOnAPythonCeleryWorkerAndCeleriacReadsTheirResults() throws Exception {
        String url = redis.url(2);
        Path log = dir.resolve("python-worker.log");
        Process worker = python(List.of(PYTHON, "-m", "celery", "-A", "interop", "worker", "-P", "solo", "-c", "1",
                "-n", "python-interop@%h", "--loglevel", "INFO"), url, log);
        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url).build(), new TaskRegistry())) {
            Duration wait = Duration.ofSeconds(60);
            PythonCelery.javaClientBasics(client, wait, log); // result, kwargs, unicode, countdown
            AsyncResult expired = client.send("add", List.of(1, 2), Map.of(), SendOptions.options().withExpires(Instant.now().minusSeconds(5)));
            assertThatThrownBy(() -> expired.get(wait))
                    .isInstanceOfSatisfying(TaskRevokedException.class, e -> assertThat(e.reason()).isEqualTo("expired"));
            assertThatThrownBy(() -> client.send("fail", "boom").get(wait))
                    .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                        assertThat(e.excType()).isEqualTo("ValueError");
                        assertThat(e.excModule()).isEqualTo("builtins");
                        assertThat(e.excMessage()).isEqualTo("boom");
                        assertThat(e.remoteTraceback()).contains("raise ValueError(message)");
                    });
            assertThat(client.send("add", List.of(5, 5), Map.of(), SendOptions.options().withPriority(9)).get(wait).asInt()).isEqualTo(10);

            // and Celeriac's inspect sees the Python worker
            String node = "python-interop@" + io.celeriac.protocol.TaskMessage.hostName();
            CliRun ping = CliRun.of("inspect", "ping", "--broker", url, "--timeout", "2");
            assertThat(ping.code()).as(ping.err()).isZero();
            assertThat(ping.out()).contains("-> " + node + ": OK", "pong");
            CliRun registered = CliRun.of("inspect", "registered", "--broker", url, "-d", node, "--json");
            assertThat(registered.code()).as(registered.err()).isZero();
            assertThat(Json.read(registered.out()).get(node).toString()).contains("add", "echo", "fail");
        } finally {
            worker.destroy();
            worker.waitFor(20, TimeUnit.SECONDS);
            worker.destroyForcibly();
        }
    }

    @Test
    void eventsAndControlCrossBetweenPythonAndCeleriac() throws Exception {
        String url = redis.url(3);
        String host = io.celeriac.protocol.TaskMessage.hostName();
        Path pyEvents = dir.resolve("python-events.log");
        Process dump = python(List.of(PYTHON, "-m", "celery", "-A", "interop", "events", "--dump"), url, pyEvents);
        Path pyWorkerLog = dir.resolve("python-worker-events.log");
        Process pyWorker = null;
        try (ChildJvm worker = ChildJvm.start(Main.class.getName(), List.of("worker", "-E", "--broker", url, "-P", "threads", "-c", "2",
                "-n", "celeriac-ev", "-Q", "celery", "--loglevel", "WARNING"), Map.of(), dir.resolve("celeriac-ev.log"))) {
            String node = "celeriac-ev@" + host;
            // celery events --dump is up when it shows the Celeriac worker's heartbeats
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                    .until(() -> Files.readString(pyEvents).contains(node + " ["));
            try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url).build(), new TaskRegistry())) {
                // Python's celery events sees a Celeriac worker's task events
                AsyncResult r = client.send("add", 2, 3);
                assertThat(r.get(Duration.ofSeconds(60)).asInt()).isEqualTo(5);
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                        .until(() -> Files.readString(pyEvents).contains("task succeeded: add(" + r.id() + ")"));
                assertThat(Files.readString(pyEvents)).contains(node + " [", "task received: add(" + r.id() + ") args=(2, 3)",
                        "task started:");

                // Python's celery control steers a Celeriac worker
                Path ctl = dir.resolve("python-control.log");
                Process control = python(List.of(PYTHON, "-m", "celery", "-A", "interop", "control", "rate_limit", "add", "100/s",
                        "--destination", node, "--timeout", "3"), url, ctl);
                assertThat(control.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(Files.readString(ctl)).contains(node + ": OK", "new rate limit set successfully");

                // and celeriac events sees a Python worker's events
                Path ours = dir.resolve("celeriac-events.log");
                try (ChildJvm listener = ChildJvm.start(Main.class.getName(), List.of("events", "--dump", "--broker", url,
                        "--duration", "60"), Map.of(), ours)) {
                    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                            .until(() -> listener.output().contains("listening for events on "));
                    pyWorker = python(List.of(PYTHON, "-m", "celery", "-A", "interop", "worker", "-E", "-P", "solo", "-c", "1",
                            "-Q", "py", "-n", "python-ev@%h", "--loglevel", "WARNING"), url, pyWorkerLog);
                    AsyncResult py = client.send("add", List.of(20, 22), Map.of(), SendOptions.options().withQueue("py"));
                    assertThat(py.get(Duration.ofSeconds(60)).asInt()).isEqualTo(42);
                    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> listener.output().contains(
                            "\"task-succeeded\"") && listener.output().contains(py.id()));
                    assertThat(listener.output()).contains("\"hostname\":\"python-ev@" + host + "\"");
                }
            }
        } finally {
            dump.destroy();
            dump.waitFor(20, TimeUnit.SECONDS);
            dump.destroyForcibly();
            if (pyWorker != null) {
                pyWorker.destroy();
                pyWorker.waitFor(20, TimeUnit.SECONDS);
                pyWorker.destroyForcibly();
            }
        }
    }

    /** What a Python client sending with pickle reads: kombu's ContentDisallowed, raised by get(), not a wait for ever. */
    @Test
    void aPythonClientSendingPickleGetsContentDisallowedFromACeleriacWorker() throws Exception {
        String url = redis.url(6);
        try (ChildJvm worker = ChildJvm.start(Main.class.getName(), List.of("worker", "--broker", url, "-P", "threads", "-c", "1",
                "-n", "celeriac-pickle", "--loglevel", "INFO"), Map.of(), dir.resolve("celeriac-pickle-worker.log"))) {
            String script = String.join("\n",
                    "import json, os",
                    "from celery import Celery",
                    "app = Celery('pickler', broker=os.environ['BROKER'], backend=os.environ['BROKER'])",
                    "r = app.send_task('add', args=(1, 2), serializer='pickle')",
                    "try:",
                    "    print(json.dumps({'value': r.get(timeout=90)}))",
                    "except Exception as e:",
                    "    print(json.dumps({'type': type(e).__name__, 'module': type(e).__module__, 'message': str(e), 'state': r.state}))");
            Path log = dir.resolve("python-pickle.log");
            Process client = python(List.of(PYTHON, "-c", script), url, log);
            assertThat(client.waitFor(120, TimeUnit.SECONDS)).isTrue();
            String output = Files.readString(log);
            assertThat(client.exitValue()).as(output + "\n--- worker:\n" + worker.output()).isZero();
            JsonNode out = Json.read(output.lines().filter(l -> l.startsWith("{")).reduce((a, b) -> b).orElseThrow());
            assertThat(out.path("type").asText()).as(output).isEqualTo("ContentDisallowed");
            assertThat(out.path("module").asText()).isEqualTo("kombu.exceptions");
            assertThat(out.path("message").asText()).contains("application/x-python-serialize");
            assertThat(out.path("state").asText()).isEqualTo("FAILURE");
        }
    }

    /**
     * A Celeriac task's own states (track_started, updateState) read by Python's
     * {@code AsyncResult(id).state} and {@code .info} while it runs: STARTED with the pid and
     * hostname, PROGRESS with each meta in order, then SUCCESS; the worker is a process-pool one,
     * so the states come from a child JVM through its parent.
     */
    @Test
    void aPythonClientReadsTheStartedAndProgressStatesOfACeleriacTask() throws Exception {
        String url = redis.url(7);
        ChildJvm worker = fleet.celeriacWorker(url, "progress", "celeriac-progress", "-P", "process", "-c", "1",
                "--set", "task_track_started=true");
        Path log = dir.resolve("python-progress.log");
        Process client = python(List.of(PYTHON, "progress_client.py", "progress"), url, log);
        assertThat(client.waitFor(150, TimeUnit.SECONDS)).isTrue();
        String output = Files.readString(log);
        assertThat(client.exitValue()).as(output + "\n--- worker:\n" + worker.output()).isZero();
        JsonNode out = PythonCelery.lastJsonLine(log);
        JsonNode started = out.get("started").get("info");
        assertThat(started.get("hostname").asText()).startsWith("celeriac-progress@");
        assertThat(started.get("pid").asLong()).isPositive().isNotEqualTo(worker.pid()); // the child JVM that runs it
        for (int i = 0; i < 3; i++) {
            JsonNode p = out.get("progress").get(i);
            assertThat(p.get("state").asText()).isEqualTo("PROGRESS");
            assertThat(p.get("info")).isEqualTo(Json.read("{\"current\":" + (i + 1) + ",\"total\":3}")); // a Map.of: any key order
        }
        assertThat(out.get("result").asText()).isEqualTo("done 3");
        assertThat(out.get("final").get("state").asText()).isEqualTo("SUCCESS");
        assertThat(out.get("final").get("info").asText()).isEqualTo("done 3");
    }

    static String read(Path p) throws IOException {
        return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
    }
}
