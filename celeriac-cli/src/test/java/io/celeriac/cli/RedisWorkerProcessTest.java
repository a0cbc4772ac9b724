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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.JedisPooled;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

/**
 * Real worker processes on a real Redis (started by the test, on a free port, with AOF), killed
 * with SIGKILL and cut off from Redis for real: nothing is lost, duplicates stay bounded.
 */
@Tag("chaos")
@Timeout(400)
class RedisWorkerProcessTest {
    @TempDir
    Path dir;

    private final List<ChildJvm> children = new ArrayList<>();
    private RedisServer redis;

    @AfterEach
    void stop() throws InterruptedException {
        for (ChildJvm c : children) {
            c.close();
        }
        if (redis != null) {
            redis.close();
        }
    }

    private void waitFor(Duration atMost, Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(atMost).pollInterval(Duration.ofMillis(200)), children, condition);
    }

    private ChildJvm worker(String name, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("worker", "--broker", redis.url(), "-n", name, "-P", "threads", "-c", "8",
                "--loglevel", "WARNING", "--set", "broker_recovery_timeout=3", "--set", "worker_heartbeat_interval=0.5"));
        args.addAll(List.of(extra));
        ChildJvm c = ChildJvm.start(Main.class.getName(), args, Map.of("RUNS_REDIS_PORT", Integer.toString(redis.port())),
                dir.resolve(name + "-" + children.size() + ".log"));
        children.add(c);
        return c;
    }

    private static long resultCount(JedisPooled j) {
        long n = 0;
        String cursor = ScanParams.SCAN_POINTER_START;
        ScanParams p = new ScanParams().match("celery-task-meta-*").count(1000);
        do {
            ScanResult<String> r = j.scan(cursor, p);
            n += r.getResult().size();
            cursor = r.getCursor();
        } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        return n;
    }

    /** How many messages the worker with this pid has taken, from its last heartbeat. */
    private static long processedBy(JedisPooled j, long pid) throws Exception {
        for (String v : j.hvals("celeriac.nodes")) {
            var beat = io.celeriac.protocol.Json.read(v.substring(v.indexOf('\n') + 1));
            if (beat.path("pid").asLong() == pid) {
                return beat.path("processed").asLong();
            }
        }
        return 0;
    }

    private static void assertAllSucceeded(JedisPooled j, List<String> ids) throws Exception {
        for (int from = 0; from < ids.size(); from += 1000) {
            List<String> keys = ids.subList(from, Math.min(ids.size(), from + 1000)).stream().map(id -> "celery-task-meta-" + id).toList();
            List<String> values = j.mget(keys.toArray(String[]::new));
            for (int k = 0; k < values.size(); k++) {
                int i = from + k;
                assertThat(values.get(k)).as("result of task %d", i).isNotNull();
                var r = io.celeriac.protocol.Json.read(values.get(k));
                assertThat(r.path("status").asText()).as("state of task %d", i).isEqualTo("SUCCESS");
                assertThat(r.path("result").asLong()).as("result of task %d", i).isEqualTo(2L * i);
            }
        }
    }

    @Test
    void twentyThousandTasksTwoWorkersOneKilledNineThreeTimesLosesNoneAndDuplicatesStayBounded() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), true);
        int n = 20_000;
        List<String> ids = new ArrayList<>(n);
        Config config = Config.builder().set(Settings.BROKER_URL, redis.url()).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry());
             JedisPooled j = new JedisPooled("127.0.0.1", redis.port())) {
            for (int i = 0; i < n; i++) {
                ids.add(client.send("counted", i, 4).id()); // 4 ms each: the run lasts long enough for three kills
            }
            ChildJvm doomed = worker("doomed", "--app", RunCountingApp.class.getName());
            ChildJvm survivor = worker("survivor", "--app", RunCountingApp.class.getName());
            long inFlightAtKills = 0;
            for (int kill = 1; kill <= 3; kill++) {
                ChildJvm current = doomed;
                // kill each incarnation well into its share, once it has taken 1,000 messages itself
                waitFor(Duration.ofSeconds(120), () -> processedBy(j, current.pid()) >= 1000);
                assertThat(doomed.process().isAlive()).as(doomed.output()).isTrue();
                long inFlight = j.hlen("unacked");
                doomed.kill9();
                inFlightAtKills += inFlight;
                System.out.printf("kill -9 #%d at %d results, %d messages in flight%n", kill, resultCount(j), inFlight);
                doomed = worker("doomed", "--app", RunCountingApp.class.getName());
            }
            waitFor(Duration.ofSeconds(180), () -> resultCount(j) >= n);
            assertAllSucceeded(j, ids);
            Map<String, String> runs = new HashMap<>(j.hgetAll("test.runs"));
            assertThat(runs).hasSize(n);
            long duplicates = runs.values().stream().mapToLong(v -> Long.parseLong(v) - 1).sum();
            System.out.printf("20,000 tasks, 3 kills: %d duplicate runs (in flight at the kills: %d)%n", duplicates, inFlightAtKills);
            assertThat(duplicates).isLessThanOrEqualTo(inFlightAtKills);
            waitFor(Duration.ofSeconds(30), () -> j.hlen("unacked") == 0 && j.llen("celery") == 0);
            assertThat(survivor.process().isAlive()).as(survivor.output()).isTrue();
        }
    }

    @Test
    void redisDownForTenSecondsMidRunLosesNothingAndTheWorkersCarryOn() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), true);
        int n = 10_000;
        List<String> ids = new ArrayList<>(n);
        Config config = Config.builder().set(Settings.BROKER_URL, redis.url()).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            for (int i = 0; i < n; i++) {
                ids.add(client.send("add", i, i).id());
            }
            ChildJvm a = worker("a");
            ChildJvm b = worker("b");
            try (JedisPooled j = new JedisPooled("127.0.0.1", redis.port())) {
                waitFor(Duration.ofSeconds(120), () -> resultCount(j) >= n / 4);
            }
            redis.stop();
            // a client sending during the outage waits (retrying with back-off) and sends when Redis is back
            List<String> late = java.util.Collections.synchronizedList(new ArrayList<>());
            Thread sender = new Thread(() -> {
                for (int i = n; i < n + 100; i++) {
                    late.add(client.send("add", i, i).id());
                }
            });
            sender.start();
            Thread.sleep(10_000);
            assertThat(late).as("nothing is sent while Redis is down").isEmpty();
            redis.start();
            sender.join(30_000);
            assertThat(late).hasSize(100);
            ids.addAll(late);
            try (JedisPooled j = new JedisPooled("127.0.0.1", redis.port())) {
                waitFor(Duration.ofSeconds(180), () -> resultCount(j) >= n + 100);
                assertAllSucceeded(j, ids);
                waitFor(Duration.ofSeconds(30), () -> j.hlen("unacked") == 0 && j.llen("celery") == 0);
            }
            for (ChildJvm w : List.of(a, b)) {
                assertThat(w.process().isAlive()).as(w.output()).isTrue();
                System.out.println("--- worker " + w.pid() + " during the outage:\n" + w.output().lines()
                        .filter(l -> l.contains("WARN") || l.contains("ERROR")).collect(java.util.stream.Collectors.joining("\n")));
                assertThat(w.output()).as("the outage is logged once, clearly").containsIgnoringCase("unreachable")
                        .doesNotContain("\tat ");
            }
        }
    }
}
