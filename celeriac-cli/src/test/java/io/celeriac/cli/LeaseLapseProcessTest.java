package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.JedisPooled;

/**
 * A worker paused longer than its lease (SIGSTOP, as a GC pause or a frozen VM would) while another
 * worker drains the queue, its buffer included: on SIGCONT it runs none of what it had reserved
 * ahead (the runs of each task are counted), and says so in one line. And a broker server frozen
 * with SIGSTOP: the worker logs an outage within a few socket timeouts, and carries on after SIGCONT.
 */
@Tag("chaos")
@Timeout(400)
class LeaseLapseProcessTest {
    @TempDir
    Path dir;

    private final List<ChildJvm> children = new ArrayList<>();
    private final List<Long> stopped = new ArrayList<>();
    private RedisServer redis;
    private io.celeriac.testkit.PostgresServer pg;

    @AfterEach
    void stop() throws Exception {
        for (long pid : stopped) {
            signal("CONT", pid); // never leave a stopped process behind
        }
        for (ChildJvm c : children) {
            c.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (pg != null) {
            pg.close();
        }
    }

    private void stopProcess(long pid) throws Exception {
        stopped.add(pid);
        signal("STOP", pid);
    }

    private void resume(long pid) throws Exception {
        signal("CONT", pid);
        stopped.remove(pid);
    }

    private static void signal(String sig, long pid) throws Exception {
        Process p = new ProcessBuilder("kill", "-" + sig, Long.toString(pid)).inheritIO().start();
        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }

    private void waitFor(Duration atMost, Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(atMost).pollInterval(Duration.ofMillis(200)), children, condition);
    }

    private ChildJvm worker(String broker, String name, int concurrency, int prefetch) throws Exception {
        List<String> args = List.of("worker", "--broker", broker, "-n", name, "-P", "threads", "-c", Integer.toString(concurrency),
                "--prefetch-multiplier", Integer.toString(prefetch), "--app", RunCountingApp.class.getName(),
                "--set", "broker_recovery_timeout=3", "--set", "worker_heartbeat_interval=0.5");
        ChildJvm c = ChildJvm.start(Main.class.getName(), args, Map.of("RUNS_REDIS_PORT", Integer.toString(redis.port())),
                dir.resolve(name + "-" + children.size() + ".log"));
        children.add(c);
        return c;
    }

    /** How many messages the worker with this pid has taken, from its last heartbeat. */
    private static long receivedBy(Celeriac client, long pid) throws Exception {
        for (var b : client.coordination().nodes().values()) {
            var beat = io.celeriac.protocol.Json.read(b.json());
            if (beat.path("pid").asLong() == pid) {
                return beat.path("processed").asLong();
            }
        }
        return 0;
    }

    private static long gapLines(ChildJvm w) {
        return w.output().lines().filter(l -> l.contains("whose lease lapsed")).count();
    }

    @Test
    void sqliteWorkerStoppedLongerThanItsLeaseRunsNoneOfItsBufferAgain() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false); // counts the runs
        stoppedWorkerRunsNothingTwice("sqlite:" + dir.resolve("broker.db"));
    }

    @Test
    void redisWorkerStoppedLongerThanItsLeaseRunsNoneOfItsBufferAgain() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
        stoppedWorkerRunsNothingTwice(redis.url(1)); // the broker in db 1, the counts in db 0
    }

    @Test
    void postgresWorkerStoppedLongerThanItsLeaseRunsNoneOfItsBufferAgain() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
        pg = io.celeriac.testkit.PostgresServer.launch();
        stoppedWorkerRunsNothingTwice(pg.url());
    }

    private void stoppedWorkerRunsNothingTwice(String broker) throws Exception {
        int n = 300;
        Config config = Config.builder().set(Settings.BROKER_URL, broker).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry());
             JedisPooled runs = new JedisPooled("127.0.0.1", redis.port())) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add(client.send("counted", i, 40).id());
            }
            // A: one slot, 40 reserved ahead; stopped once its buffer is full
            ChildJvm a = worker(broker, "a", 1, 40);
            waitFor(Duration.ofSeconds(120), () -> receivedBy(client, a.pid()) >= 45);
            stopProcess(a.pid());
            long stoppedAt = System.nanoTime();
            ChildJvm b = worker(broker, "b", 4, 4);
            // B runs everything, A's buffer too once A's leases lapsed
            waitFor(Duration.ofSeconds(240), () -> ids.stream().allMatch(id -> client.results().get(id).isPresent()));
            while (System.nanoTime() - stoppedAt < TimeUnit.SECONDS.toNanos(5)) {
                Thread.sleep(100); // stopped well past its 3 s lease in any case
            }
            resume(a.pid());
            waitFor(Duration.ofSeconds(60), () -> gapLines(a) >= 1);
            // whatever A would run from its buffer, it would run now: give it the time to
            Thread.sleep(3000);
            assertThat(a.process().isAlive()).as(a.output()).isTrue();
            assertThat(b.process().isAlive()).as(b.output()).isTrue();
            Map<String, String> counts = runs.hgetAll("test.runs");
            assertThat(counts).hasSize(n);
            List<String> twice = counts.entrySet().stream().filter(e -> Long.parseLong(e.getValue()) > 1).map(Map.Entry::getKey).toList();
            System.out.println("ran twice: " + twice + "\n--- a:\n" + a.output().lines()
                    .filter(l -> l.contains("WARN") || l.contains("ERROR")).collect(java.util.stream.Collectors.joining("\n")));
            // at most what A had in hand when it stopped runs twice — the task it was running, and one it had just finished whose
            // ack was still in the finisher's batch — and none of its 40 buffered ones
            assertThat(twice).hasSizeLessThanOrEqualTo(2);
            assertThat(gapLines(a)).as(a.output()).isEqualTo(1);
            String line = a.output().lines().filter(l -> l.contains("whose lease lapsed")).findFirst().orElseThrow();
            assertThat(line).contains("WARN").containsPattern("for \\d+\\.\\d s").containsPattern("dropped (\\d\\d) reserved");
            for (String id : ids) {
                assertThat(client.results().get(id).orElseThrow().state().name()).isEqualTo("SUCCESS");
            }
        }
    }

    @Test
    void frozenRedisServerIsAnOutageLineWithinSecondsAndTheWorkerRecovers() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
        Config config = Config.builder().set(Settings.BROKER_URL, redis.url(1)).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            ChildJvm w = worker(redis.url(1), "w", 2, 4);
            String first = client.send("counted", 1, 0).id();
            waitFor(Duration.ofSeconds(120), () -> client.results().get(first).isPresent());
            stopProcess(redis.pid());
            long frozenAt = System.nanoTime();
            waitFor(Duration.ofSeconds(60), () -> w.output().contains("unreachable"));
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - frozenAt);
            System.out.println("outage line after " + seconds + " s");
            resume(redis.pid());
            waitFor(Duration.ofSeconds(60), () -> w.output().contains("reachable again"));
            String after = client.send("counted", 2, 0).id();
            waitFor(Duration.ofSeconds(60), () -> client.results().get(after).isPresent());
            assertThat(w.output()).doesNotContain("\tat ");
            assertThat(w.process().isAlive()).isTrue();
        }
    }

    @Test
    void frozenPostgresServerIsAnOutageLineWithinSecondsAndTheWorkerRecovers() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
        pg = io.celeriac.testkit.PostgresServer.launch();
        Config config = Config.builder().set(Settings.BROKER_URL, pg.url()).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            ChildJvm w = worker(pg.url(), "w", 2, 4);
            String first = client.send("counted", 1, 0).id();
            waitFor(Duration.ofSeconds(120), () -> client.results().get(first).isPresent());
            List<Long> server = pg.pids();
            for (long pid : server) {
                stopProcess(pid);
            }
            long frozenAt = System.nanoTime();
            waitFor(Duration.ofSeconds(60), () -> w.output().contains("unreachable"));
            System.out.println("outage line after " + TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - frozenAt) + " s");
            for (long pid : server) {
                resume(pid);
            }
            waitFor(Duration.ofSeconds(60), () -> w.output().contains("reachable again"));
            String after = client.send("counted", 2, 0).id();
            waitFor(Duration.ofSeconds(60), () -> client.results().get(after).isPresent());
            assertThat(w.output()).doesNotContain("\tat ");
            assertThat(w.process().isAlive()).isTrue();
        }
    }
}
