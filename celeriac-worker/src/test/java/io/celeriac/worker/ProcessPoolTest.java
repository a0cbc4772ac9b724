package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Apps;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Delivery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The process pool with real child JVMs: retries with back-off, time limits, recycling, children
 * that die. The worker runs in this JVM; its children are real processes loading
 * {@link ExecutionTestApp}.
 */
@Tag("chaos")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ProcessPoolTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Celeriac client;
    private Worker worker;

    private String url() {
        return "sqlite:" + dir.resolve("pool.db");
    }

    private Worker start(UnaryOperator<Config.Builder> extra) {
        Config c = extra.apply(Config.builder()
                .set(Settings.BROKER_URL, url())
                .set(Settings.APP, ExecutionTestApp.class.getName())
                .set(Settings.WORKER_POOL, "process")
                .set(Settings.WORKER_CONCURRENCY, 2)
                .set(Settings.WORKER_PREFETCH_MULTIPLIER, 1)
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(200))
                .set(Settings.WORKER_CHILD_KILL_GRACE, Duration.ofMillis(500))).build();
        TaskRegistry registry = Apps.load(c);
        client = Celeriac.open(c, registry);
        worker = new Worker(WorkerOptions.from(c), registry, client.broker(), client.results(), Clock.systemUTC());
        worker.start();
        return worker;
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (worker != null) {
            worker.shutdownNow();
            worker.awaitTermination(WAIT);
        }
        if (client != null) {
            client.close();
        }
    }

    private static List<long[]> attempts(Path file) throws Exception {
        List<long[]> out = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            String[] p = line.split(" ");
            out.add(new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])});
        }
        return out;
    }

    @Test
    void aTaskFailingTwiceThenSucceedingEndsSuccessAfterBackoffDelays() throws Exception {
        start(b -> b);
        Path log = dir.resolve("flaky.log");
        AsyncResult r = client.send("flaky", log.toString(), 2);
        JsonNode value = r.get(WAIT);
        assertThat(value.get("retries").asInt()).isEqualTo(2);
        List<long[]> a = attempts(log);
        assertThat(a).hasSize(3);
        long first = a.get(1)[1] - a.get(0)[1];
        long second = a.get(2)[1] - a.get(1)[1];
        // back-off base 0.2 s without jitter: 0.2 s, then 0.4 s (plus scheduling, never less)
        assertThat(first).isBetween(200L, 200L + 1500);
        assertThat(second).isBetween(400L, 400L + 1500);
    }

    @Test
    void aTaskAlwaysFailingEndsFailureAfterExactlyMaxRetries() throws Exception {
        start(b -> b);
        Path log = dir.resolve("always.log");
        AsyncResult r = client.send("always_fails", log.toString());
        assertThatThrownBy(() -> r.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo("IOException");
            assertThat(e.excMessage()).isEqualTo("source down");
            assertThat(e.remoteTraceback()).contains("java.io.IOException: source down")
                    .contains("ExecutionTestApp.alwaysFails");
        });
        assertThat(attempts(log)).hasSize(4); // the first run and maxRetries = 3 retries
    }

    @Test
    void jitterSpreadsTwoHundredRetriesOfTasksThatFailedTogether() throws Exception {
        start(b -> b);
        List<AsyncResult> sent = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            sent.add(client.send("fail_once_jittered"));
        }
        List<Long> etas = new ArrayList<>(); // when each retry actually ran
        for (AsyncResult r : sent) {
            etas.add(r.get(WAIT).asLong());
        }
        assertThat(worker.stats().retried()).isEqualTo(200);
        long min = etas.stream().mapToLong(Long::longValue).min().orElseThrow();
        long max = etas.stream().mapToLong(Long::longValue).max().orElseThrow();
        double mean = etas.stream().mapToLong(Long::longValue).average().orElseThrow();
        double sd = Math.sqrt(etas.stream().mapToDouble(e -> (e - mean) * (e - mean)).sum() / etas.size());
        // uniform over [0, 10 s]: wide range, standard deviation near 2.9 s, hardly any two alike
        assertThat(max - min).isGreaterThan(7_000);
        assertThat(sd).isGreaterThan(2_000);
        assertThat(new HashSet<>(etas)).hasSizeGreaterThan(150);
        int[] perSecond = new int[12];
        etas.forEach(e -> perSecond[(int) Math.min(11, (e - min) / 1000)]++);
        assertThat(java.util.Arrays.stream(perSecond).max().orElseThrow()).isLessThan(60); // no thundering herd
    }

    @Test
    void aTaskPastItsSoftLimitCatchesItAndReturnsItsCleanUpValue() {
        start(b -> b);
        assertThat(client.send("soft_sleeper", 10).get(WAIT).asText())
                .startsWith("cleaned up after: task soft_sleeper[").contains("soft time limit of 500ms");
        assertThat(client.send("soft_sleeper", 0.05).get(WAIT).asText()).isEqualTo("slept");
        assertThatThrownBy(() -> client.send("soft_ignorer").get(WAIT))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.excType()).isEqualTo("SoftTimeLimitExceeded"));
    }

    @Test
    void aSpinningTaskPastItsHardLimitFailsAndTheNextTaskRunsInAFreshChild() {
        start(b -> b.set(Settings.WORKER_CONCURRENCY, 1));
        long before = client.send("pid").get(WAIT).asLong();
        AsyncResult spin = client.send("spin");
        assertThatThrownBy(() -> spin.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo("TimeLimitExceeded");
            assertThat(e.excMessage()).contains("hard time limit of 1s");
        });
        long after = client.send("pid").get(WAIT).asLong();
        assertThat(after).isNotEqualTo(before);
        assertThat(ProcessHandle.of(before)).isEmpty(); // the spinning child was killed
        assertThat(worker.poolStats().get("time_limit_kills")).isEqualTo(1L);
    }

    @Test
    void withMaxTasksPerChildFiftyFiveHundredTasksRunInTwoJvmsThatReloadTheAppEveryFifty() {
        start(b -> b.set(Settings.WORKER_MAX_TASKS_PER_CHILD, 50));
        bothChildrenUp();
        List<AsyncResult> rs = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            rs.add(client.send("count"));
        }
        Set<Long> pids = new HashSet<>();
        Set<String> loaders = new HashSet<>();
        for (AsyncResult r : rs) {
            JsonNode v = r.get(Duration.ofSeconds(120));
            assertThat(v.get("runs").asInt()).isBetween(1, 50);
            pids.add(v.get("pid").asLong());
            loaders.add(v.get("pid").asLong() + " " + v.get("loader").asText());
        }
        assertThat(pids).hasSize(2); // no JVM was replaced
        assertThat(loaders).hasSizeGreaterThanOrEqualTo(10); // every 50 tasks a child loaded the app afresh
        assertThat(worker.poolStats()).containsEntry("recycle", "class loader").containsEntry("children_retired", 0L);
        assertThat((Long) worker.poolStats().get("children_recycled")).isGreaterThanOrEqualTo(8L);
    }

    @Test
    void childrenMapTheJdksClassDataArchiveInPlaceSoThatTheyShareItsPages() {
        start(b -> b);
        // at the archive's own base (SharedBaseAddress, 0x800000000), not at a random address it would be rewritten for
        assertThat(client.send("jdk_archive_address").get(WAIT).asText()).matches("0*8000[0-9a-f]{5}");
        assertThat(ProcessPool.SHARED_JDK_ARCHIVE).containsExactly("-XX:+UnlockDiagnosticVMOptions", "-XX:ArchiveRelocationMode=0");
    }

    /**
     * Waits until both children run tasks (two naps at once on two pids): the worker is ready once its first child
     * is, and on a busy machine that child alone can run a whole backlog of short tasks before the second is up.
     */
    private void bothChildrenUp() {
        await().atMost(Duration.ofSeconds(60)).until(() -> {
            AsyncResult a = client.send("nap", 0.3);
            AsyncResult b = client.send("nap", 0.3);
            return a.get(WAIT).asLong() != b.get(WAIT).asLong();
        });
    }

    @Test
    void aRecycleStartsTheAppsStaticsFromZeroInTheSameJvm() {
        start(b -> b.set(Settings.WORKER_CONCURRENCY, 1).set(Settings.WORKER_MAX_TASKS_PER_CHILD, 5));
        List<Integer> runs = new ArrayList<>();
        Set<Long> pids = new HashSet<>();
        for (int i = 0; i < 12; i++) {
            JsonNode v = client.send("count").get(WAIT);
            runs.add(v.get("runs").asInt());
            pids.add(v.get("pid").asLong());
        }
        assertThat(runs).containsExactly(1, 2, 3, 4, 5, 1, 2, 3, 4, 5, 1, 2);
        assertThat(pids).hasSize(1);
        assertThat(worker.poolStats()).containsEntry("children_recycled", 2L).containsEntry("children_retired", 0L)
                .containsEntry("children_started", 1L);
    }

    @Test
    void aRecycleDropsTheTaskThreadWithItsThreadLocalsAndFreesTheOldApp() {
        start(b -> b.set(Settings.WORKER_CONCURRENCY, 1).set(Settings.WORKER_MAX_TASKS_PER_CHILD, 2));
        assertThat(client.send("first_load_collected").get(WAIT).asBoolean()).isFalse(); // remembers the first load
        JsonNode first = client.send("thread_local", "set before the recycle").get(WAIT);
        assertThat(first.get("before").asText()).isEmpty();
        // the child has run 2 tasks: it reloads the app, on a new task thread
        JsonNode after = client.send("thread_local", "again").get(WAIT);
        assertThat(after.get("before").asText()).isEmpty(); // the same ThreadLocal, read on a new thread
        assertThat(after.get("pid").asLong()).isEqualTo(first.get("pid").asLong());
        JsonNode same = client.send("thread_local", "third").get(WAIT); // no recycle in between: the same thread
        assertThat(same.get("before").asText()).isEqualTo("again");
        // the first load of the app (its classes, their statics) has been collected
        assertThat(client.send("first_load_collected").get(WAIT).asBoolean()).isTrue();
    }

    @Test
    void aThreadTheAppLeftRunningIsReportedAndKeepsTheOldAppInMemoryUntilTheJvmIsReplaced() {
        start(b -> b.set(Settings.WORKER_CONCURRENCY, 1).set(Settings.WORKER_MAX_TASKS_PER_CHILD, 2));
        assertThat(client.send("first_load_collected").get(WAIT).asBoolean()).isFalse(); // remembers the first load
        long pid = client.send("leak_thread").get(WAIT).asLong();
        // reloaded after those two: the leaked thread still runs, with the first load as its context
        assertThat(client.send("first_load_collected").get(WAIT).asBoolean()).isFalse();
        assertThat(client.send("pid").get(WAIT).asLong()).isEqualTo(pid);
        assertThat(worker.poolStats()).containsEntry("stray_app_threads", 1L).containsEntry("children_retired", 0L);
    }

    @Test
    void residentMemoryAboveTheLimitReplacesTheJvmEvenWhenTasksRecycleByClassLoader() {
        start(b -> b.set(Settings.WORKER_CONCURRENCY, 1).set(Settings.WORKER_MAX_TASKS_PER_CHILD, 100)
                .set(Settings.WORKER_MAX_MEMORY_PER_CHILD, 300 * 1024)); // far above a fresh child (in CI one passed 160 MiB); under -Xmx512m
        // with a memory limit the pool keeps a spare child warm, so tasks may run on either child: follow the one that hogs
        for (int i = 0; i < 4; i++) {
            client.send("pid").get(WAIT);
        }
        assertThat(worker.poolStats()).containsEntry("children_retired", 0L); // well under the limit: kept
        long hog = client.send("hog", 350).get(WAIT).asLong();
        await().atMost(WAIT).until(() -> ProcessHandle.of(hog).isEmpty()); // above it after its task: that JVM exited
        assertThat(worker.poolStats()).containsEntry("children_retired", 1L);
        for (int i = 0; i < 4; i++) {
            assertThat(client.send("pid").get(WAIT).asLong()).isNotEqualTo(hog);
        }
    }

    @Test
    void withRejectOnWorkerLostOffATaskThatExitsItsChildIsAWorkerLostErrorAtOnce() throws Exception {
        start(b -> b.set(Settings.TASK_REJECT_ON_WORKER_LOST, false)); // Celery's default: never run again
        Path log = dir.resolve("exit-once.log");
        assertThatThrownBy(() -> client.send("exit", 1, log.toString()).get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo("WorkerLostError");
            assertThat(e.excMessage()).contains("Worker exited prematurely: exit code 1");
        });
        assertThat(attempts(log)).hasSize(1); // never run again
        assertThat(client.send("pid").get(WAIT).asLong()).isPositive(); // the pool replaced the child
    }

    @Test
    void byDefaultATaskThatAlwaysKillsItsChildIsPutBackAndDeadLetteredAfterThreeTries() throws Exception {
        start(b -> b); // task_reject_on_worker_lost is on by default, task_worker_lost_limit 3 the guard
        Path log = dir.resolve("exit.log");
        AsyncResult r = client.send("exit", 3, log.toString());
        assertThatThrownBy(() -> r.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo("WorkerLostError");
            assertThat(e.excMessage()).contains("killed the worker's child 3 times");
        });
        assertThat(attempts(log)).hasSize(3);
        List<Delivery> dead = client.broker().reserve(List.of("celeriac.dead_letter"), 10, Duration.ofSeconds(5));
        assertThat(dead).hasSize(1);
        assertThat(Json.read(dead.get(0).payload()).get("reason").asText()).contains("killed the worker's child 3 times");
        assertThat(client.send("pid").get(WAIT).asLong()).isPositive();
    }

    @Test
    void aRevokedTaskNeverRunsAndTerminateKillsARunningOne() {
        start(b -> b.set(Settings.WORKER_CONCURRENCY, 1));
        AsyncResult blocker = client.send("nap", 30);
        await().atMost(WAIT).until(() -> worker.stats().active() == 1);
        AsyncResult queued = client.send("pid");
        client.coordination().revoke(queued.id(), false, java.time.Instant.now().plusSeconds(3600));
        client.coordination().revoke(blocker.id(), true, java.time.Instant.now().plusSeconds(3600));
        await().atMost(WAIT).until(() -> blocker.state() == TaskState.REVOKED);
        assertThat(blocker.meta().orElseThrow().exception().message()).isEqualTo("terminated");
        await().atMost(WAIT).until(() -> queued.state() == TaskState.REVOKED);
        assertThat(queued.meta().orElseThrow().exception().message()).isEqualTo("revoked");
        assertThat(worker.stats().succeeded()).isZero();
    }
}
