package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RabbitNode;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.JedisPooled;

/**
 * Real worker processes on a private RabbitMQ node, results and coordination in Redis: one killed
 * with SIGKILL mid-run (its messages redelivered at once), countdown tasks parked in Redis among
 * them, and the node stopped for a few seconds: nothing is lost, duplicates stay bounded; a task that
 * brings its worker down each time is dead-lettered after task_worker_lost_limit deliveries; and
 * 20,000 tasks on two workers with one killed three times and the node stopped for 10 s, all in one
 * run, duplicates within what was in flight.
 */
@Tag("chaos")
@Timeout(400)
class RabbitWorkerProcessTest {
    @TempDir
    Path dir;

    /** The workers' prefetch multiplier (Celery's default, 4, set explicitly: the duplicate bound depends on it). */
    private static final int PREFETCH_MULTIPLIER = 4;

    private final List<ChildJvm> children = new ArrayList<>();
    private RabbitNode node;
    private RedisServer redis;

    @BeforeEach
    void start() throws Exception {
        node = RabbitNode.launch();
        redis = RedisServer.start(dir.resolve("redis"), false);
    }

    @AfterEach
    void stop() throws Exception {
        for (ChildJvm c : children) {
            c.close();
        }
        redis.close();
        node.close();
    }

    private void waitFor(Duration atMost, Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(atMost).pollInterval(Duration.ofMillis(200)), children, condition);
    }

    private ChildJvm worker(String name) throws Exception {
        return worker(name, 8);
    }

    private ChildJvm worker(String name, int concurrency) throws Exception {
        List<String> args = List.of("worker", "--broker", node.url(), "--result-backend", redis.url(), "-n", name, "-P", "threads",
                "-c", Integer.toString(concurrency), "--prefetch-multiplier", Integer.toString(PREFETCH_MULTIPLIER), "--app", RunCountingApp.class.getName(), "--loglevel", "INFO", "--set", "worker_heartbeat_interval=0.5", "--set", "broker_recovery_timeout=60");
        ChildJvm c = ChildJvm.start(Main.class.getName(), args, Map.of("RUNS_REDIS_PORT", Integer.toString(redis.port())),
                dir.resolve(name + "-" + children.size() + ".log"));
        children.add(c);
        return c;
    }

    private Celeriac client() {
        return Celeriac.open(Config.builder().set(Settings.BROKER_URL, node.url()).set(Settings.RESULT_BACKEND, redis.url()).build(),
                new TaskRegistry());
    }

    private static void assertAllRight(List<AsyncResult> sent, Map<String, Long> expected) {
        for (AsyncResult r : sent) {
            assertThat(r.get(Duration.ofSeconds(120)).asLong()).isEqualTo(expected.get(r.id()));
        }
    }

    @Test
    void aWorkerKilledNineMidRunLosesNothingItsMessagesComeBackAtOnceAndCountdownsRunOnce() throws Exception {
        try (Celeriac client = client(); JedisPooled j = new JedisPooled("127.0.0.1", redis.port())) {
            List<AsyncResult> sent = new ArrayList<>();
            Map<String, Long> expected = new java.util.HashMap<>();
            List<String> delayed = new ArrayList<>();
            for (int i = 0; i < 3000; i++) {
                SendOptions o = i % 20 == 0 ? SendOptions.options().withCountdown(Duration.ofSeconds(2)) : SendOptions.NONE;
                AsyncResult r = client.send("counted", List.of(i, 20), Map.of(), o);
                sent.add(r);
                expected.put(r.id(), 2L * i);
                if (i % 20 == 0) {
                    delayed.add(r.id());
                }
            }
            ChildJvm doomed = worker("doomed");
            waitFor(Duration.ofSeconds(90), () -> doomed.output().contains(" ready"));
            worker("survivor");
            waitFor(Duration.ofSeconds(90), () -> j.hlen("test.runs") >= 1200);
            doomed.kill9();
            long killed = System.nanoTime();
            long atKill = j.hlen("test.runs");
            assertAllRight(sent, expected);
            // what the dead worker held came back at once (its connection closed), not after the 60 s lease
            assertThat(Duration.ofNanos(System.nanoTime() - killed)).isLessThan(Duration.ofSeconds(40));
            long runs = j.hvals("test.runs").stream().mapToLong(Long::parseLong).sum();
            long duplicates = runs - 3000;
            System.out.printf("3,000 tasks, one kill -9 at %d runs: %d duplicate runs%n", atKill, duplicates);
            // at most what the killed worker held: 8 running (8 × 4 buffered had not started)
            assertThat(duplicates).isBetween(0L, 40L);
            // parked countdowns are moved once: none of them ran twice (none was in flight at the kill long enough to count)
            long twice = delayed.stream().filter(id -> Long.parseLong(j.hget("test.runs", id)) > 1).count();
            assertThat(twice).isLessThanOrEqualTo(duplicates);
            assertThat(j.keys("celeriac.eta.*").stream().filter(k -> j.type(k).equals("list") && j.llen(k) > 0)).isEmpty();
        }
    }

    @Test
    void twentyThousandTasksOnTwoWorkersOneKilledNineThreeTimesAndTheNodeStoppedTenSecondsLoseNothing() throws Exception {
        int concurrency = 4;
        try (Celeriac client = client(); JedisPooled j = new JedisPooled("127.0.0.1", redis.port())) {
            List<AsyncResult> sent = new ArrayList<>();
            Map<String, Long> expected = new java.util.HashMap<>();
            for (int i = 0; i < 20_000; i++) {
                AsyncResult r = client.send("counted", List.of(i, 5), Map.of(), SendOptions.NONE); // a 5 ms task
                sent.add(r);
                expected.put(r.id(), 2L * i);
            }
            ChildJvm survivor = worker("survivor", concurrency);
            ChildJvm first = worker("doomed", concurrency);
            waitFor(Duration.ofSeconds(90), () -> first.output().contains(" ready") && survivor.output().contains(" ready"));
            ChildJvm doomed = first;
            List<Long> runsAtEvent = new ArrayList<>();
            long next = 2000;
            for (int kill = 0; kill < 3; kill++) {
                long at = next;
                waitFor(Duration.ofSeconds(90), () -> j.hlen("test.runs") >= at);
                runsAtEvent.add(j.hlen("test.runs"));
                doomed.kill9();
                // as a manager would: the killed worker is started again at once
                ChildJvm again = worker("doomed", concurrency);
                waitFor(Duration.ofSeconds(90), () -> again.output().contains(" ready"));
                doomed = again;
                next = j.hlen("test.runs") + 1500; // the new one at work a while before the next kill
            }
            long at = next;
            waitFor(Duration.ofSeconds(90), () -> j.hlen("test.runs") >= at);
            runsAtEvent.add(j.hlen("test.runs"));
            node.stop();
            Thread.sleep(10_000);
            node.start();
            assertAllRight(sent, expected);
            // every event fell while tasks were still waiting
            assertThat(runsAtEvent).as("runs at the kills and the stop").hasSize(4).allMatch(r -> r < 19_000);
            long runs = j.hvals("test.runs").stream().mapToLong(Long::parseLong).sum();
            long duplicates = runs - 20_000;
            long twice = j.hvals("test.runs").stream().filter(v -> Long.parseLong(v) > 1).count();
            System.out.printf("20,000 tasks, kill -9 at %s runs and the node stopped 10 s at %d: %d duplicate runs (%d tasks run more than"
                    + " once)%n", runsAtEvent.subList(0, 3), runsAtEvent.get(3), duplicates, twice);
            assertThat(j.hlen("test.runs")).isEqualTo(20_000);
            // what was in flight: at each kill what the killed worker held unacknowledged (concurrency × prefetch multiplier),
            // at the node stop what both held (their channels went with the node; results stored, acks lost)
            long inFlight = (long) concurrency * PREFETCH_MULTIPLIER;
            assertThat(duplicates).isBetween(0L, 3 * inFlight + 2 * inFlight);
            assertThat(survivor.process().isAlive()).isTrue();
            assertThat(doomed.process().isAlive()).isTrue();
            assertThat(survivor.output()).containsOnlyOnce("lost the connection to RabbitMQ");
        }
    }

    @Test
    void theNodeStoppedMidRunLosesNothingAndAClientsSendWaitsForIt() throws Exception {
        try (Celeriac client = client(); JedisPooled j = new JedisPooled("127.0.0.1", redis.port())) {
            ChildJvm w = worker("w1");
            List<AsyncResult> sent = new ArrayList<>();
            Map<String, Long> expected = new java.util.HashMap<>();
            for (int i = 0; i < 1000; i++) {
                AsyncResult r = client.send("counted", List.of(i, 5), Map.of(), SendOptions.NONE);
                sent.add(r);
                expected.put(r.id(), 2L * i);
            }
            waitFor(Duration.ofSeconds(60), () -> j.hlen("test.runs") >= 100);
            node.stop();
            // a send while the node is down waits for it (broker_publish_retry_timeout, 30 s)
            CompletableFuture<AsyncResult> during = CompletableFuture.supplyAsync(() -> client.send("counted", List.of(5000, 0),
                    Map.of(), SendOptions.NONE));
            Thread.sleep(3000);
            assertThat(during).isNotDone();
            node.start();
            AsyncResult late = during.get();
            sent.add(late);
            expected.put(late.id(), 10000L);
            assertAllRight(sent, expected);
            assertThat(w.process().isAlive()).isTrue();
            assertThat(w.output()).containsOnlyOnce("lost the connection to RabbitMQ");
        }
    }

    @Test
    void aTaskThatBringsItsWorkerDownIsDeadLetteredAfterTaskWorkerLostLimitRedeliveries() throws Exception {
        Path attempts = dir.resolve("hog.attempts");
        try (Celeriac client = client()) {
            AsyncResult hog = client.send("hog", attempts.toString());
            List<Integer> exits = new ArrayList<>();
            // as a supervisor would: start the worker again each time it exits, until the task is settled
            for (int run = 1; run <= 5 && hog.state() != TaskState.FAILURE; run++) {
                List<String> args = List.of("worker", "--broker", node.url(), "--result-backend", redis.url(), "-n", "hungry",
                        "--app", PoolFaultsApp.class.getName(), "-P", "threads", "--concurrency", "2");
                ChildJvm w = ChildJvm.start(List.of("-Xmx64m"), Main.class.getName(), args, Map.of(), dir.resolve("hungry-" + run + ".log"));
                children.add(w);
                waitFor(Duration.ofSeconds(120), () -> !w.process().isAlive());
                exits.add(w.exitCode());
            }
            // every death came back at once and was counted: three runs, then WorkerLostError and the dead-letter queue
            assertThat(exits).containsExactly(1, 1, 1);
            assertThat(Files.readAllLines(attempts)).hasSize(3).doesNotHaveDuplicates();
            ExceptionInfo exc = hog.meta().orElseThrow().exception();
            assertThat(exc.type()).isEqualTo("WorkerLostError");
            assertThat(exc.message()).contains("brought the worker down 3 times (task_worker_lost_limit)");
            assertThat(client.broker().size(Settings.TASK_DEAD_LETTER_QUEUE.defaultValue())).isEqualTo(1);
            assertThat(client.broker().size("celery")).isZero();
        }
    }
}
