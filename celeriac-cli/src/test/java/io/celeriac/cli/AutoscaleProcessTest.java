package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.JedisPooled;

/**
 * {@code worker --autoscale 6,1} as a real process: the pool grows to six under a backlog and back
 * to one when idle, as {@code inspect stats} shows (Celery's {@code pool} and {@code autoscaler});
 * in the process pool the child JVMs follow, and no task is lost or run twice across a shrink.
 */
@Tag("chaos")
@Timeout(300)
class AutoscaleProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(90);

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private final List<ChildJvm> workers = new ArrayList<>();

    private void waitFor(Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(WAIT).pollInterval(Duration.ofMillis(200)), workers, condition);
    }

    private static CliRun cli(String broker, String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--broker", broker));
        if (a.contains("-d")) {
            a.addAll(List.of("--timeout", "10")); // a named worker's reply ends the wait: the time-out only matters on a loaded machine
        }
        return CliRun.of(a.toArray(String[]::new));
    }

    private static JsonNode stats(String broker, String node) throws Exception {
        CliRun r = cli(broker, "inspect", "stats", "-d", node, "--json");
        assertThat(r.code()).as(r.err()).isZero();
        return Json.read(r.out()).get(node);
    }

    private static Celeriac client(String broker) {
        return Celeriac.open(Config.builder().set(Settings.BROKER_URL, broker).build(), new TaskRegistry());
    }

    /** The worker's child JVMs (its process pool), as the OS lists them. */
    private static long childJvms(ChildJvm worker) {
        return ProcessHandle.of(worker.pid()).orElseThrow().children()
                .filter(p -> ChildJvm.commandLine(p).contains("io.celeriac.worker.ChildMain")).count();
    }

    @Test
    void threadPoolGrowsToTheBacklogAndShrinksWhenIdleAndTheRangeChangesRemotely() throws Exception {
        String broker = "sqlite:" + dir.resolve("autoscale.db");
        String node = "as@" + TaskMessage.hostName();
        // -c is ignored with --autoscale, as in Celery: the pool starts at MIN
        workers.add(processes.worker(dir, broker, "as", "-P", "threads", "-c", "3", "--autoscale", "6,1",
                "--set", "worker_autoscale_keepalive=1", "--app", "io.celeriac.examples.FactCheckApp", "--loglevel", "INFO"));
        waitFor(() -> cli(broker, "inspect", "ping").out().contains(node));
        JsonNode idle = stats(broker, node);
        assertThat(idle.path("autoscaler").toString()).isEqualTo("{\"max\":6,\"min\":1,\"current\":1,\"qty\":0}");
        assertThat(idle.path("pool").path("max-concurrency").asInt()).isEqualTo(1);
        assertThat(idle.path("prefetch_count").asInt()).as("MAX × worker_prefetch_multiplier, as Celery").isEqualTo(24);

        try (Celeriac client = client(broker)) {
            List<AsyncResult> backlog = new ArrayList<>();
            for (int i = 0; i < 24; i++) {
                backlog.add(client.send("sleep", 0.6));
            }
            waitFor(() -> stats(broker, node).path("autoscaler").path("current").asInt() == 6);
            JsonNode busy = stats(broker, node);
            assertThat(busy.path("pool").path("max-concurrency").asInt()).isEqualTo(6);
            assertThat(busy.path("pool").path("threads").asInt()).isEqualTo(6);
            assertThat(busy.path("concurrency").asInt()).isEqualTo(6);
            for (AsyncResult r : backlog) {
                assertThat(r.get(WAIT).asDouble()).isEqualTo(0.6);
            }
        }
        waitFor(() -> stats(broker, node).path("autoscaler").path("current").asInt() == 1);
        assertThat(stats(broker, node).path("pool").path("max-concurrency").asInt()).isEqualTo(1);
        assertThat(stats(broker, node).path("total").path("sleep").asInt()).isEqualTo(24);

        // Celery's autoscale command: a new range, applied at once; pool-grow is refused meanwhile, as Celery 5.2
        CliRun range = cli(broker, "control", "autoscale", "3", "2", "-d", node);
        assertThat(range.code()).as(range.err()).isZero();
        assertThat(range.out()).contains("-> " + node + ": OK autoscale now max=3 min=2");
        waitFor(() -> stats(broker, node).path("autoscaler").path("current").asInt() == 2);
        JsonNode after = stats(broker, node);
        assertThat(after.path("autoscaler").path("max").asInt()).isEqualTo(3);
        assertThat(after.path("prefetch_count").asInt()).isEqualTo(12);
        assertThat(cli(broker, "control", "autoscale", "5", "-d", node).out()).contains("OK autoscale now max=5 min=2");
        CliRun grow = cli(broker, "control", "pool-grow", "-d", node);
        assertThat(grow.code()).isEqualTo(1);
        assertThat(grow.out()).contains("ERROR pool_grow is not supported with autoscale. Adjust autoscale range instead.");

        // bad ranges: one line, exit 2, from the flag, the setting and the control command alike
        for (String bad : List.of("3,6", "six", "0", "6,-1", "6,1,2")) {
            CliRun r = cli(broker, "worker", "--autoscale", bad, "--app", "io.celeriac.examples.FactCheckApp");
            assertThat(r.code()).as(bad).isEqualTo(2);
            assertThat(r.err().strip()).as(bad).startsWith("celeriac: setting 'worker_autoscale': ").doesNotContain("\n");
        }
        CliRun yaml = cli(broker, "worker", "--set", "worker_autoscale=4,5", "--app", "io.celeriac.examples.FactCheckApp");
        assertThat(yaml.code()).isEqualTo(2);
        assertThat(yaml.err()).contains("MIN (5) must not exceed MAX (4)");
        CliRun badControl = cli(broker, "control", "autoscale", "2", "5");
        assertThat(badControl.code()).isEqualTo(2);
        assertThat(badControl.err()).contains("MIN (5) must not exceed MAX (2)");
    }

    @Test
    void processPoolStartsAndRetiresChildJvmsAndNoTaskIsLostOrRunTwiceAcrossAShrink() throws Exception {
        RedisServer redis = RedisServer.start(dir.resolve("redis"), false);
        try (redis; JedisPooled runs = new JedisPooled("127.0.0.1", redis.port()); Celeriac client = client(redis.url())) {
            String broker = redis.url();
            String node = "asp@" + TaskMessage.hostName();
            List<String> args = new ArrayList<>(List.of("worker", "--broker", broker, "-n", "asp", "-P", "process",
                    "--autoscale", "6,1", "--set", "worker_autoscale_keepalive=2", "--set", "worker_heartbeat_interval=0.5",
                    "--app", RunCountingApp.class.getName(), "--loglevel", "INFO"));
            ChildJvm w = ChildJvm.start(Main.class.getName(), args, Map.of("RUNS_REDIS_PORT", Integer.toString(redis.port())),
                    dir.resolve("asp.log"));
            workers.add(w);
            waitFor(() -> cli(broker, "inspect", "ping").out().contains(node));
            waitFor(() -> childJvms(w) == 1);

            List<AsyncResult> sent = new ArrayList<>();
            for (int i = 0; i < 30; i++) {
                sent.add(client.send("counted", i, 1500));
            }
            waitFor(() -> stats(broker, node).path("autoscaler").path("current").asInt() == 6);
            waitFor(() -> stats(broker, node).path("pool").path("processes").size() == 6);
            waitFor(() -> childJvms(w) == 6);
            awaitAll(sent, 0);

            // two long tasks: the pool has four idle children for longer than the keepalive and
            // shrinks to two while those two run, which finish on their (busy, kept) children
            List<AsyncResult> longOnes = List.of(client.send("counted", 100, 6000), client.send("counted", 101, 6000));
            waitFor(() -> stats(broker, node).path("autoscaler").path("current").asInt() == 2);
            assertThat(longOnes.get(0).ready()).as("shrunk while the long tasks ran").isFalse();
            waitFor(() -> childJvms(w) == 2);
            // and a new backlog meanwhile grows it again
            List<AsyncResult> more = new ArrayList<>();
            for (int i = 200; i < 212; i++) {
                more.add(client.send("counted", i, 1000));
            }
            waitFor(() -> stats(broker, node).path("autoscaler").path("current").asInt() == 6);
            assertThat(longOnes.get(0).get(WAIT).asInt()).isEqualTo(200);
            assertThat(longOnes.get(1).get(WAIT).asInt()).isEqualTo(202);
            awaitAll(more, 200);

            // idle: back to one child JVM
            waitFor(() -> stats(broker, node).path("autoscaler").path("current").asInt() == 1);
            waitFor(() -> childJvms(w) == 1);
            assertThat(stats(broker, node).path("pool").path("processes").size()).isEqualTo(1);

            // every task ran exactly once
            Map<String, String> counts = runs.hgetAll("test.runs");
            assertThat(counts).hasSize(44);
            assertThat(counts.values()).containsOnly("1");

            // Python's celery control and inspect steer and read the autoscaler
            PythonCelery py = new PythonCelery(dir, "interop.py");
            try (py) {
                Path ctl = dir.resolve("python-autoscale.log");
                Process control = py.python(List.of(PythonCelery.PYTHON, "-m", "celery", "-A", "interop", "control", "autoscale",
                        "4", "1", "--destination", node, "--timeout", "5"), broker, ctl);
                assertThat(control.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(Files.readString(ctl)).contains(node + ": OK", "autoscale now max=4 min=1");
                Path ins = dir.resolve("python-stats.log");
                Process inspect = py.python(List.of(PythonCelery.PYTHON, "-m", "celery", "-A", "interop", "inspect", "stats",
                        "--destination", node, "--timeout", "5", "--json"), broker, ins);
                assertThat(inspect.waitFor(60, TimeUnit.SECONDS)).isTrue();
                String said = Files.readString(ins);
                JsonNode autoscaler = Json.read(said.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow(
                        () -> new AssertionError(said))).path(node).path("autoscaler");
                assertThat(autoscaler.path("max").asInt()).as(said).isEqualTo(4);
                assertThat(autoscaler.path("min").asInt()).isEqualTo(1);
                assertThat(stats(broker, node).path("prefetch_count").asInt()).isEqualTo(16);
            }
        }
    }

    /** Each {@code counted(i, …)} returns 2 × i, i counting from {@code first}. */
    private static void awaitAll(List<AsyncResult> sent, int first) {
        for (int i = 0; i < sent.size(); i++) {
            assertThat(sent.get(i).get(WAIT).asInt()).isEqualTo(2 * (first + i));
        }
    }
}
