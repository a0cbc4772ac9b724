package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real worker processes on one SQLite file, killed and signalled for real. These are the
 * guarantees of the embedded broker: nothing lost when a worker dies, warm shutdown on SIGTERM.
 */
@Tag("chaos")
@Timeout(300)
class WorkerProcessTest {
    @TempDir
    Path dir;

    private final List<ChildJvm> children = new ArrayList<>();

    @AfterEach
    void killLeftovers(org.junit.jupiter.api.TestInfo info) throws InterruptedException {
        for (ChildJvm c : children) {
            c.close();
        }
    }

    /** Waits for a condition; on time-out the failure shows what the worker processes printed. */
    private void waitFor(Duration atMost, java.util.concurrent.Callable<Boolean> condition) {
        try {
            await().atMost(atMost).pollInterval(Duration.ofMillis(200)).until(condition);
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            StringBuilder sb = new StringBuilder(e.getMessage());
            for (ChildJvm c : children) {
                sb.append("\n--- worker ").append(c.pid()).append(" output:\n").append(c.output());
            }
            throw new AssertionError(sb.toString(), e);
        }
    }

    private String url() {
        return "sqlite:" + dir.resolve("shared.db");
    }

    private Config config() {
        return Config.builder().set(Settings.BROKER_URL, url()).build();
    }

    private ChildJvm worker(String name, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("worker", "--broker", url(), "-n", name, "--concurrency", "4",
                "--loglevel", "WARNING", "--set", "broker_recovery_timeout=3", "--set", "worker_heartbeat_interval=0.5"));
        args.addAll(List.of(extra));
        ChildJvm c = ChildJvm.start(Main.class.getName(), args, Map.of(), dir.resolve(name + ".log"));
        children.add(c);
        return c;
    }

    private long count(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:" + url());
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void twoWorkersDrainTenThousandTasksAndAKillNineLosesNone() throws Exception {
        int n = 10_000;
        List<String> ids = new ArrayList<>(n);
        try (Celeriac client = Celeriac.open(config(), new TaskRegistry())) {
            for (int i = 0; i < n; i++) {
                ids.add(client.send("add", i, i).id());
            }
            ChildJvm doomed = worker("doomed");
            ChildJvm survivor = worker("survivor");
            // kill -9 the first worker once it is well into its share, holding leased messages
            waitFor(Duration.ofSeconds(120), () -> count("SELECT COUNT(*) FROM celeriac_results") >= n / 4);
            assertThat(doomed.process().isAlive()).as(doomed.output()).isTrue();
            long inFlightAtKill = count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL");
            doomed.kill9();

            waitFor(Duration.ofSeconds(180), () -> count("SELECT COUNT(*) FROM celeriac_results") >= n);
            for (int i = 0; i < n; i++) {
                TaskResult r = client.results().get(ids.get(i)).orElseThrow(() -> new AssertionError("no result"));
                assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
                assertThat(r.result().asLong()).isEqualTo(2L * i);
            }
            assertThat(count("SELECT COUNT(*) FROM celeriac_results")).isEqualTo(n); // each recorded once
            waitFor(Duration.ofSeconds(30), () -> count("SELECT COUNT(*) FROM celeriac_messages WHERE queue = 'celery'") == 0);
            assertThat(survivor.process().isAlive()).as(survivor.output()).isTrue();
            System.out.printf("kill -9 with %d messages in flight; all %d results present%n", inFlightAtKill, n);
        }
    }

    @Test
    void sigtermIsAWarmShutdownThatFinishesTheRunningTaskAndExitsZero() throws Exception {
        try (Celeriac client = Celeriac.open(config(), new TaskRegistry())) {
            ChildJvm w = worker("warm", "--concurrency", "1", "--prefetch-multiplier", "1");
            waitFor(Duration.ofSeconds(60), () -> client.coordination().nodes().containsKey("warm@" + io.celeriac.protocol.TaskMessage.hostName()));
            AsyncResult slow = client.send("sleep", 2);
            AsyncResult queued = client.send("add", 1, 2);
            waitFor(Duration.ofSeconds(30), () -> count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL") >= 1);
            Thread.sleep(300); // the sleep task is now running
            w.sigterm();
            assertThat(w.waitFor(60)).isTrue();
            assertThat(w.exitCode()).as(w.output()).isZero();
            assertThat(slow.state()).isEqualTo(TaskState.SUCCESS);
            assertThat(queued.state()).isEqualTo(TaskState.PENDING); // given back, not lost
            assertThat(client.broker().size("celery")).isEqualTo(1);
            assertThat(w.output()).contains("SIGTERM received").contains("warm shutdown");
        }
    }

    @Test
    void aSecondSigtermIsAColdShutdownThatGivesTheRunningTaskBack() throws Exception {
        try (Celeriac client = Celeriac.open(config(), new TaskRegistry())) {
            ChildJvm w = worker("cold", "--concurrency", "1", "--prefetch-multiplier", "1");
            AsyncResult slow = client.send("sleep", 60);
            waitFor(Duration.ofSeconds(60), () -> count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL") == 1);
            Thread.sleep(300); // the sleep task is running
            w.sigterm();
            waitFor(Duration.ofSeconds(10), () -> w.output().contains("warm shutdown"));
            w.sigterm();
            assertThat(w.waitFor(30)).as(w.output()).isTrue();
            assertThat(w.exitCode()).isEqualTo(1);
            assertThat(slow.state()).isEqualTo(TaskState.PENDING); // not recorded as failed: it was given back
            assertThat(count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NULL AND deliveries = 1")).isEqualTo(1);
        }
    }

    @Test
    void warmShutdownDuringTwentyRunningTwoSecondTasksLosesNone() throws Exception {
        try (Celeriac client = Celeriac.open(config(), new TaskRegistry())) {
            ChildJvm w = worker("twenty", "--concurrency", "20", "--prefetch-multiplier", "1", "-P", "process");
            String node = "twenty@" + io.celeriac.protocol.TaskMessage.hostName();
            // all twenty children up (they start in the background)
            waitFor(Duration.ofSeconds(120), () -> {
                var beat = client.coordination().nodes().get(node);
                return beat != null && io.celeriac.protocol.Json.read(beat.json()).path("pool_stats").path("processes").size() == 20;
            });
            List<AsyncResult> tasks = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                tasks.add(client.send("sleep", 2));
            }
            waitFor(Duration.ofSeconds(30), () -> count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL") == 20);
            Thread.sleep(500); // all twenty are running in their children
            w.sigterm();
            assertThat(w.waitFor(60)).as(w.output()).isTrue();
            assertThat(w.exitCode()).as(w.output()).isZero();
            for (AsyncResult t : tasks) {
                assertThat(t.state()).isEqualTo(TaskState.SUCCESS);
            }
            assertThat(count("SELECT COUNT(*) FROM celeriac_messages WHERE queue = 'celery'")).isZero();
        }
    }

    @Test
    void afterWorkerShutdownTimeoutAWarmShutdownTurnsColdAndGivesTheTaskBack() throws Exception {
        try (Celeriac client = Celeriac.open(config(), new TaskRegistry())) {
            ChildJvm w = worker("impatient", "--concurrency", "1", "--set", "worker_shutdown_timeout=1");
            AsyncResult slow = client.send("sleep", 60);
            waitFor(Duration.ofSeconds(60), () -> count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL") == 1);
            Thread.sleep(1000);
            long t0 = System.nanoTime();
            w.sigterm();
            assertThat(w.waitFor(30)).as(w.output()).isTrue();
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(20));
            assertThat(w.output()).contains("worker_shutdown_timeout");
            assertThat(slow.state()).isEqualTo(TaskState.PENDING);
            assertThat(client.broker().size("celery")).isEqualTo(1); // back on the queue, not lost
        }
    }

    @Test
    void revokeFromTheCommandLineStopsARunningTaskAndKeepsAQueuedOneFromRunning() throws Exception {
        try (Celeriac client = Celeriac.open(config(), new TaskRegistry())) {
            worker("revoker", "--concurrency", "1", "--prefetch-multiplier", "1");
            AsyncResult running = client.send("sleep", 60);
            waitFor(Duration.ofSeconds(60), () -> count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL") == 1);
            AsyncResult queued = client.send("add", 1, 2);
            CliRun q = CliRun.of("revoke", queued.id(), "--broker", url());
            assertThat(q.code()).isZero();
            assertThat(q.out()).contains("revoked " + queued.id());
            assertThat(CliRun.of("revoke", running.id(), "--terminate", "--broker", url()).code()).isZero();
            waitFor(Duration.ofSeconds(30), () -> running.state() == TaskState.REVOKED && queued.state() == TaskState.REVOKED);
            assertThat(running.meta().orElseThrow().exception().message()).isEqualTo("terminated");
            assertThat(queued.meta().orElseThrow().exception().message()).isEqualTo("revoked");
        }
    }

    @Test
    void aMalformedMessageGoesToTheDeadLetterQueueAndTheWorkerProcessesTheNext() throws Exception {
        try (Celeriac client = Celeriac.open(config(), new TaskRegistry())) {
            client.broker().publish("celery", new BrokerMessage(null, "{not json", 0, null));
            AsyncResult next = client.send("add", 20, 22);
            worker("dlq", "--concurrency", "1");
            waitFor(Duration.ofSeconds(60), () -> next.state() == TaskState.SUCCESS);
            assertThat(next.get(Duration.ofSeconds(1)).asInt()).isEqualTo(42);
            assertThat(client.broker().size(Settings.TASK_DEAD_LETTER_QUEUE.defaultValue())).isEqualTo(1);
        }
    }
}
