package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Worker processes whose pool cannot run tasks, for real: process-pool children that cannot start
 * (a bad JVM option) or never get ready, children orphaned by a kill -9 of their worker, and a
 * thread-pool worker that runs out of memory. A worker that cannot run anything says so, gives back
 * what it holds and exits non-zero (so that its supervisor's back-off and FATAL apply); nothing it
 * held is lost, and its children never outlive it.
 */
@Tag("chaos")
@Timeout(600)
class PoolFaultsProcessTest {
    private static final String APP = PoolFaultsApp.class.getName();

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private final List<ChildJvm> started = new ArrayList<>();

    private String url() {
        return "sqlite:" + dir.resolve("pool.db");
    }

    private Celeriac client() {
        return Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry());
    }

    private ChildJvm worker(String name, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("--app", APP, "--set", "broker_recovery_timeout=5"));
        args.addAll(List.of(extra));
        ChildJvm w = processes.worker(dir, url(), name, args.toArray(String[]::new));
        started.add(w);
        return w;
    }

    private static String node(String name) {
        return name + "@" + TaskMessage.hostName();
    }

    /** Waits for a condition; on time-out the failure shows what the worker processes printed. */
    private void waitFor(Duration atMost, Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(atMost).pollInterval(Duration.ofMillis(200)), started, condition);
    }

    private long count(String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:" + url());
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The process-pool children (ChildMain JVMs) below {@code w}, alive now. */
    private static List<ProcessHandle> children(ChildJvm w) {
        return w.process().toHandle().descendants()
                .filter(h -> ChildJvm.commandLine(h).contains("io.celeriac.worker.ChildMain"))
                .toList();
    }

    /** The lines of {@code out} that start with "celeriac:" (the CLI's own error lines). */
    private static List<String> cliErrors(String out) {
        return out.lines().filter(l -> l.startsWith("celeriac:")).toList();
    }

    @Test
    void aWorkerWhoseChildrenCannotStartExitsNonZeroWithAReasonAndAHealthyWorkerRunsItsTasks() throws Exception {
        try (Celeriac client = client()) {
            List<AsyncResult> tasks = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                tasks.add(client.send("nap", 50));
            }
            ChildJvm bad = worker("bad", "--concurrency", "2", "--set", "worker_child_java_options=-XX:+NoSuchOption");
            waitFor(Duration.ofSeconds(180), () -> !bad.process().isAlive());
            String out = bad.output();
            assertThat(bad.exitCode()).as(out).isEqualTo(1);
            assertThat(cliErrors(out)).as(out).singleElement().asString()
                    .startsWith("celeriac: worker " + node("bad") + " cannot start: process pool: no child JVM could start")
                    .contains("worker_child_java_options");
            assertThat(out).doesNotContain("ready: pool").doesNotContain("\tat ");
            // it reserved nothing: no message was ever delivered, none is held
            assertThat(count("SELECT COUNT(*) FROM celeriac_messages WHERE deliveries > 0 OR owner IS NOT NULL")).isZero();
            assertThat(children(bad)).isEmpty();

            worker("good", "--concurrency", "2");
            waitFor(Duration.ofSeconds(180), () -> tasks.stream().allMatch(t -> t.state() == TaskState.SUCCESS));
            for (AsyncResult t : tasks) {
                assertThat(t.meta().orElseThrow().extra().path("worker").asText()).isEqualTo(node("good"));
            }
        }
    }

    @Test
    void whenReplacementChildrenCannotStartTheWorkerGivesBackWhatItHoldsAndExitsNonZero() throws Exception {
        Path opts = dir.resolve("child.opts"); // read by the java launcher at each child's start (@argfile)
        Files.writeString(opts, "-Xmx64m\n");
        try (Celeriac client = client()) {
            ChildJvm w = worker("breaking", "--concurrency", "1", "--prefetch-multiplier", "4",
                    "--set", "worker_child_java_options=-XX:+UseSerialGC @" + opts);
            waitFor(Duration.ofSeconds(120), () -> w.output().contains("ready: pool"));
            List<AsyncResult> tasks = new ArrayList<>();
            tasks.add(client.send("nap", 5_000));
            for (int i = 0; i < 3; i++) {
                tasks.add(client.send("nap", 50));
            }
            // the first one running in the child, and at least one more reserved ahead in the worker's buffer
            waitFor(Duration.ofSeconds(60), () -> count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL") >= 2);
            List<ProcessHandle> kids = children(w);
            assertThat(kids).hasSize(1);
            Files.writeString(opts, "-XX:+NoSuchOption\n"); // from now on no child can start
            kids.get(0).destroyForcibly(); // the child running the first task dies

            waitFor(Duration.ofSeconds(180), () -> !w.process().isAlive());
            String out = w.output();
            assertThat(w.exitCode()).as(out).isEqualTo(1);
            assertThat(cliErrors(out)).as(out).singleElement().asString()
                    .startsWith("celeriac: worker " + node("breaking") + " stopped: process pool: no child JVM could start");
            assertThat(out).doesNotContain("\tat ");
            assertThat(count("SELECT COUNT(*) FROM celeriac_messages WHERE owner IS NOT NULL")).isZero(); // all given back
            assertThat(client.broker().size("celery")).isEqualTo(4);

            worker("healthy", "--concurrency", "2");
            waitFor(Duration.ofSeconds(180), () -> tasks.stream().allMatch(t -> t.state() == TaskState.SUCCESS));
        }
    }

    @Test
    void sigtermEndsAWorkerWhoseChildrenNeverGetReadyAndLeavesNoChildBehind() throws Exception {
        try (Celeriac client = client()) {
            AsyncResult task = client.send("nap", 50);
            // each child JVM waits for a debugger before its main: it never says ready
            ChildJvm w = worker("stuck", "--concurrency", "1", "--set", "worker_proc_alive_timeout=600",
                    "--set", "worker_child_java_options=-agentlib:jdwp=transport=dt_socket,server=y,suspend=y,address=127.0.0.1:0");
            waitFor(Duration.ofSeconds(120), () -> !children(w).isEmpty());
            List<ProcessHandle> kids = children(w);
            w.sigterm(); // worker_shutdown_timeout is 0 (wait for running tasks): none is running
            waitFor(Duration.ofSeconds(60), () -> !w.process().isAlive());
            String out = w.output();
            assertThat(w.exitCode()).as(out).isZero();
            assertThat(out).contains("warm shutdown").contains("stopped while starting").doesNotContain("ready: pool");
            waitFor(Duration.ofSeconds(30), () -> kids.stream().noneMatch(ProcessHandle::isAlive)); // nothing orphaned
            assertThat(task.state()).isEqualTo(TaskState.PENDING);
            assertThat(count("SELECT COUNT(*) FROM celeriac_messages WHERE deliveries > 0 OR owner IS NOT NULL")).isZero();
        }
    }

    @Test
    void aThreadPoolWorkerOutOfMemoryExitsAndAfterTheCrashBudgetTheTaskFailsNamingOutOfMemoryError() throws Exception {
        Path attempts = dir.resolve("hog.attempts");
        try (Celeriac client = client()) {
            AsyncResult hog = client.send("hog", attempts.toString());
            List<Integer> exits = new ArrayList<>();
            // as a supervisor would: start the worker again each time it exits, until the task is settled
            for (int run = 1; run <= 5 && hog.state() != TaskState.FAILURE; run++) {
                List<String> args = List.of("worker", "--broker", url(), "-n", "hungry", "--app", APP, "-P", "threads",
                        "--concurrency", "2", "--set", "worker_heartbeat_interval=0.5", "--set", "broker_recovery_timeout=5");
                ChildJvm w = processes.start(List.of("-Xmx64m"), dir.resolve("hungry-" + run + ".log"), args);
                started.add(w);
                waitFor(Duration.ofSeconds(120), () -> !w.process().isAlive());
                String out = w.output();
                exits.add(w.exitCode());
                assertThat(cliErrors(out)).as(out).singleElement().asString()
                        .startsWith("celeriac: worker " + node("hungry") + " stopped: task hog[" + hog.id() + "]")
                        .contains("java.lang.OutOfMemoryError");
            }
            assertThat(exits).containsExactly(1, 1, 1); // task_worker_lost_limit 3: three runs, each ending its worker
            assertThat(Files.readAllLines(attempts)).hasSize(3).doesNotHaveDuplicates(); // three processes, once each
            ExceptionInfo exc = hog.meta().orElseThrow().exception();
            assertThat(exc.type()).isEqualTo("WorkerLostError");
            assertThat(exc.message()).contains("brought the worker down 3 times (task_worker_lost_limit)")
                    .contains("java.lang.OutOfMemoryError: Java heap space");
            assertThat(client.broker().size(Settings.TASK_DEAD_LETTER_QUEUE.defaultValue())).isEqualTo(1);
            assertThat(count("SELECT COUNT(*) FROM celeriac_messages WHERE queue = 'celery'")).isZero();
        }
    }

    @Test
    void childrenOrphanedByAKillNineOfTheirWorkerExitQuietly() throws Exception {
        try (Celeriac client = client()) {
            // warnings only: after the kill, the log holds nothing but what the orphaned children wrote
            ChildJvm w = worker("orphaning", "--concurrency", "4", "--prefetch-multiplier", "1", "--loglevel", "WARNING");
            waitFor(Duration.ofSeconds(120), () -> client.coordination().nodes().containsKey(node("orphaning")) && children(w).size() == 4);
            for (int i = 0; i < 200; i++) {
                client.send("nap", 100 + 50 * (i % 7)); // short tasks: children answer all the time
            }
            waitFor(Duration.ofSeconds(60), () -> count("SELECT COUNT(*) FROM celeriac_results") >= 12);
            List<ProcessHandle> kids = children(w);
            assertThat(kids).hasSize(4);
            long logBefore = w.output().length();
            w.kill9();
            waitFor(Duration.ofSeconds(30), () -> kids.stream().noneMatch(ProcessHandle::isAlive));
            String after = w.output().substring((int) logBefore);
            assertThat(after).doesNotContain("Broken pipe").doesNotContain("Exception").doesNotContain("\tat ");
            assertThat(after.lines().filter(l -> !l.isBlank()).count()).as(after).isLessThanOrEqualTo(kids.size());
        }
    }
}
