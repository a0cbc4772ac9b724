package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.CanvasConformanceTest;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RedisServer;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import redis.clients.jedis.JedisPooled;

/**
 * Celery's canvas across Python Celery 5.2 (Debian's python3-celery) and Celeriac on one Redis: a
 * Python client's chains, groups, chords, links, chunks and starmaps on a Celeriac worker; the
 * Java-built canvas suite on a Python worker and on a Celeriac process-pool worker; a chord whose
 * header runs on both kinds of worker at once.
 */
@Tag("interop")
@Timeout(300)
class CanvasInteropTest {
    static RedisServer redis;
    static PythonCelery fleet;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("celeriac-canvas-interop");
        redis = RedisServer.start(dir.resolve("redis"), false);
        fleet = new PythonCelery(dir, "interop.py", "canvas_client.py", "mixed_chord.py");
    }

    @AfterAll
    static void stop() throws Exception {
        fleet.close();
        redis.close();
    }

    /** Reads the counts the tasks keep in Redis, whichever language ran them. */
    abstract static class SharedCounts extends CanvasConformanceTest {
        abstract int db();

        JedisPooled counts() {
            return new JedisPooled(java.net.URI.create(redis.url(db())));
        }

        @Override
        protected String url() {
            return redis.url(db());
        }

        @Override
        protected int runs(String task, String key) {
            try (JedisPooled r = counts()) {
                String v = r.hget("test.runs", task + ":" + key);
                return v == null ? 0 : Integer.parseInt(v);
            }
        }

        @Override
        protected boolean errbackCalled(String failedTaskId) {
            try (JedisPooled r = counts()) {
                return r.hexists("test.errbacks", failedTaskId);
            }
        }
    }

    /** The Java-built canvas suite, applied by Celeriac's client, run by a Python Celery worker. */
    @Nested
    class JavaCanvasesOnAPythonWorker extends SharedCounts {
        private static boolean started;

        @Override
        int db() {
            return 4;
        }

        @Override
        protected String queue() {
            return "celery"; // where the worker sends the steps it applies (its default queue), as Celery does
        }

        @Override
        protected AutoCloseable startWorker(Config config, TaskRegistry tasks) throws Exception {
            synchronized (CanvasInteropTest.class) {
                if (!started) {
                    fleet.pythonWorker(url(), queue(), "python-canvas", "-P", "threads", "-c", "4");
                    started = true;
                }
            }
            return () -> { };
        }
    }

    /** The same suite on a Celeriac worker process with its default process pool (child JVMs). */
    @Nested
    class JavaCanvasesOnACeleriacProcessPoolWorker extends SharedCounts {
        private static boolean started;

        @Override
        int db() {
            return 5;
        }

        @Override
        protected String queue() {
            return "celery";
        }

        @Override
        protected AutoCloseable startWorker(Config config, TaskRegistry tasks) throws Exception {
            synchronized (CanvasInteropTest.class) {
                if (!started) {
                    fleet.celeriacWorker(url(), queue(), "celeriac-process", "-c", "2");
                    started = true;
                }
            }
            return () -> { };
        }
    }

    @Test
    void pythonCeleryCanvasesRunOnACeleriacWorker() throws Exception {
        String url = redis.url(6);
        ChildJvm worker = fleet.celeriacWorker(url, "celery", "celeriac-canvas", "-P", "threads", "-c", "4");
        Path log = fleet.dir.resolve("canvas-client.log");
        Process client = fleet.python(List.of(PythonCelery.PYTHON, "canvas_client.py"), url, log);
        assertThat(client.waitFor(240, TimeUnit.SECONDS)).as(Files.readString(log)).isTrue();
        assertThat(client.exitValue()).as(Files.readString(log) + "\n--- worker:\n" + worker.output()).isZero();
        JsonNode out = PythonCelery.lastJsonLine(log);
        assertThat(out.get("chain2").asInt()).isEqualTo(6);
        assertThat(out.get("chain5").asInt()).isEqualTo(1005);
        assertThat(out.get("chain5_parents")).hasSize(5);
        assertThat(out.get("chain5_steps_ran").toString()).isEqualTo("[1,1,1,1]");
        assertThat(out.get("immutable").asInt()).isEqualTo(21);
        assertThat(out.get("group10").toString()).isEqualTo("[0,2,4,6,8,10,12,14,16,18]");
        assertThat(out.get("chord10").asInt()).isEqualTo(90);
        assertThat(out.get("chord10_body_runs").asInt()).isEqualTo(1);
        assertThat(out.get("link").asInt()).isEqualTo(4);
        assertThat(out.get("link_child").asInt()).isEqualTo(40);
        assertThat(out.get("link_error").asText()).isEqualTo("IllegalStateException");
        assertThat(out.get("link_error_called").asBoolean()).isTrue();
        assertThat(out.get("middle").asText()).isEqualTo("IllegalStateException: boom");
        assertThat(out.get("middle_state").asText()).isEqualTo("FAILURE");
        assertThat(out.get("middle_first_runs").asInt()).isEqualTo(1);
        assertThat(out.get("middle_later_runs").asInt()).isZero();
        assertThat(out.get("chunks").toString()).isEqualTo("[[0,2,4],[6,8,10],[12,14,16],[18]]");
        assertThat(out.get("starmap").toString()).isEqualTo("[0,2,4]");
        assertThat(out.get("map").toString()).isEqualTo("[3,7]");
        assertThat(out.get("group_in_chain").asInt()).isEqualTo(7);
        assertThat(out.get("chord_in_chain").asInt()).isEqualTo(107);
        assertThat(out.get("chord_error").asText()).startsWith("ChordError: Dependency ").endsWith("raised IllegalStateException('boom')");
        assertThat(out.get("chord_error_errback").asBoolean()).isTrue();
        assertThat(out.get("floats").toString()).isEqualTo("[\"float:1.0\",\"float:-0.0\",\"float:2.5\",\"int:3\"]");
    }

    @Test
    void aChordWhoseHeaderRunsOnPythonAndCeleriacWorkersAtOnceCompletes() throws Exception {
        String url = redis.url(7);
        fleet.celeriacWorker(url, "celery", "celeriac-mixed", "-P", "threads", "-c", "2");
        fleet.pythonWorker(url, "celery", "python-mixed", "-P", "threads", "-c", "2");
        // both consuming before the chord is sent: both answer a ping (Python's through the same pidbox)
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            String pong = CliRun.of("inspect", "ping", "--timeout", "2", "--broker", url).out();
            return pong.contains("celeriac-mixed@") && pong.contains("python-mixed@");
        });
        Path log = fleet.dir.resolve("mixed-chord.log");
        Process client = fleet.python(List.of(PythonCelery.PYTHON, "mixed_chord.py"), url, log);
        assertThat(client.waitFor(200, TimeUnit.SECONDS)).isTrue();
        assertThat(client.exitValue()).as(Files.readString(log)).isZero();
        JsonNode out = PythonCelery.lastJsonLine(log);
        long expected = 0;
        for (int i = 0; i < 40; i++) {
            expected += i + 1000;
        }
        assertThat(out.get("total").asLong()).isEqualTo(expected);
        List<String> workersSeen = new ArrayList<>();
        out.get("workers").forEach(w -> workersSeen.add(w.asText()));
        assertThat(workersSeen).anyMatch(w -> w.startsWith("celeriac-mixed@")).anyMatch(w -> w.startsWith("python-mixed@"));
    }
}
