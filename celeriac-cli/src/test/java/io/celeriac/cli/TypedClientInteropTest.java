package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Canvas;
import io.celeriac.Celeriac;
import io.celeriac.Kwarg;
import io.celeriac.Task;
import io.celeriac.TaskClient;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRef;
import io.celeriac.TaskRegistry;
import io.celeriac.TypedResult;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
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
 * The typed client with the real Celery 5.2 on one Redis: names stay strings on the wire, so a
 * typed Java client calls a Python worker's tasks, and a Python client calls by name the tasks a
 * Celeriac worker registers from an interface.
 */
@Tag("interop")
@Timeout(180)
class TypedClientInteropTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    static RedisServer redis;
    static PythonCelery fleet;

    @BeforeAll
    static void start() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
        fleet = new PythonCelery(dir, "interop.py");
    }

    @AfterAll
    static void stop() throws Exception {
        fleet.close();
        redis.close();
    }

    /** What {@code echo} (interop.py) returns: its args and kwargs as they came. */
    public record Echo(List<Object> args, Map<String, Object> kwargs) {
    }

    /** The Python worker's tasks (interop.py), typed on the Java side only. */
    @TaskClient(resultTimeout = 60)
    public interface PythonTasks {
        @Task(name = "add")
        long add(long x, long y);

        @Task(name = "add")
        long addByKeyword(@Kwarg("x") long x, @Kwarg("y") long y);

        @Task(name = "echo")
        Echo echo(String text, @Kwarg("k") String k);

        @Task(name = "tsum")
        TypedResult<Integer> tsum(List<Integer> numbers);

        @Task(name = "fail")
        String fail(String message);
    }

    @Test
    void aTypedJavaClientCallsAPythonWorkersTasks() throws Exception {
        String url = redis.url(1);
        fleet.pythonWorker(url, "celery", "python-typed", "-P", "solo", "-c", "1"); // stopped with the fleet
        try (Celeriac app = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url).build(), new TaskRegistry())) {
            PythonTasks py = app.client(PythonTasks.class);
            assertThat(py.add(2, 3)).as(Files.readString(dir.resolve("python-typed.log"))).isEqualTo(5L);
            assertThat(py.addByKeyword(40, 2)).isEqualTo(42L);
            assertThat(py.echo("ünïcödé", "v")).isEqualTo(new Echo(List.of("ünïcödé"), Map.of("k", "v")));
            assertThat(py.echo("x", null)).isEqualTo(new Echo(List.of("x"), Map.of())); // a null kwarg is left out
            assertThat(py.tsum(List.of(1, 2, 3)).get(WAIT)).isEqualTo(6);
            assertThatThrownBy(() -> py.fail("no source")).isInstanceOfSatisfying(TaskFailedException.class,
                    e -> assertThat(e.excType()).isEqualTo("ValueError"));
            TaskRef<Long> add = TaskRef.of("add", Long.class);
            TaskRef<Long> mul = TaskRef.of("mul", Long.class);
            AsyncResult chain = app.apply(Canvas.chain(add.s(1, 2), mul.s(10)));
            assertThat(mul.result(app, chain).get(WAIT)).isEqualTo(30L);
        }
    }

    @Test
    void aPythonClientCallsByNameTheTasksACeleriacWorkerRegistersFromAnInterface() throws Exception {
        String url = redis.url(2);
        try (ChildJvm worker = ChildJvm.start(Main.class.getName(), List.of("worker", "--broker", url, "--app",
                TypedInteropApp.class.getName(), "-P", "threads", "-c", "2", "-n", "celeriac-typed", "--loglevel", "INFO"),
                Map.of(), dir.resolve("celeriac-worker.log"))) {
            Path log = dir.resolve("python-client.log");
            String script = String.join("\n",
                    "import json",
                    "from interop import app",
                    "s = app.send_task('typed.scrape', args=['wire'], kwargs={'claims': 9}).get(timeout=60)",
                    "d = app.send_task('typed.scrape', args=['fact-db']).get(timeout=60)",
                    "a = app.send_task('typed.add', kwargs={'x': 2, 'y': 3}).get(timeout=60)",
                    "print(json.dumps({'scrape': s, 'default': d, 'add': a}))");
            Process client = fleet.python(List.of(PythonCelery.PYTHON, "-c", script), url, log);
            assertThat(client.waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(client.exitValue()).as(Files.readString(log) + "\n--- worker:\n" + worker.output()).isZero();
            JsonNode out = PythonCelery.lastJsonLine(log);
            assertThat(out.get("scrape").toString()).isEqualTo("{\"source\":\"wire\",\"claims\":9}");
            assertThat(out.get("default").toString()).isEqualTo("{\"source\":\"fact-db\",\"claims\":7}");
            assertThat(out.get("add").asLong()).isEqualTo(5L);

            // and the same tasks through the interface, from Java
            try (Celeriac app = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url).build(), new TaskRegistry())) {
                TypedInteropApp.Facts facts = app.client(TypedInteropApp.Facts.class);
                assertThat(facts.scrape("wire", 4)).isEqualTo(new TypedInteropApp.Report("wire", 4));
                assertThat(facts.add(1, 1)).isEqualTo(2L);
            }
        }
    }
}
