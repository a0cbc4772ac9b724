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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code TaskContext.updateState} and track_started with a real worker on a real SQLite file, in
 * both pools (the process pool with real child JVMs): the states a running task reports are read
 * by {@link AsyncResult} while it waits on a latch (files the test creates), in order, and the
 * final result replaces them.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TaskStateTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Celeriac client;
    private Worker worker;

    private void start(String pool, boolean trackStarted) {
        Config c = Config.builder()
                .set(Settings.BROKER_URL, "sqlite:" + dir.resolve("states.db"))
                .set(Settings.APP, ExecutionTestApp.class.getName())
                .set(Settings.WORKER_POOL, pool)
                .set(Settings.WORKER_CONCURRENCY, 1)
                .set(Settings.WORKER_HOSTNAME, "states@host")
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(200))
                .set(Settings.TASK_TRACK_STARTED, trackStarted)
                .build();
        TaskRegistry registry = Apps.load(c);
        client = Celeriac.open(c, registry);
        worker = new Worker(WorkerOptions.from(c), registry, client.broker(), client.results(), Clock.systemUTC());
        worker.start();
    }

    @AfterEach
    void stop() throws Exception {
        for (int i = 0; i <= 3; i++) { // let a task still waiting finish
            Files.writeString(dir.resolve("go-" + i), "");
        }
        if (worker != null) {
            worker.shutdownNow();
            worker.awaitTermination(WAIT);
        }
        if (client != null) {
            client.close();
        }
    }

    private void open(int step) throws Exception {
        Files.writeString(dir.resolve("go-" + step), "");
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads", "process"})
    void progressReportedThreeTimesIsReadInOrderThenTheResultReplacesIt(String pool) throws Exception {
        start(pool, false);
        AsyncResult r = client.send("progress", dir.toString(), 3);
        // task_track_started is off: nothing is stored before the task reports
        Thread.sleep(300);
        assertThat(r.state()).isEqualTo(TaskState.PENDING);
        open(0);
        List<Integer> seen = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            int step = i;
            await().atMost(WAIT).until(() -> r.info() != null && r.info().path("current").asInt() == step);
            assertThat(r.state().name()).isEqualTo("PROGRESS");
            assertThat(r.state().custom()).isTrue();
            assertThat(r.ready()).isFalse();
            JsonNode meta = r.info();
            assertThat(meta.get("total").asInt()).isEqualTo(3);
            assertThat(r.meta().orElseThrow().extra().path("worker").asText()).isEqualTo("states@host");
            seen.add(meta.get("current").asInt());
            open(step); // the task goes on only now: the state read above was stored while it ran
        }
        assertThat(seen).containsExactly(1, 2, 3);
        assertThat(r.get(WAIT).asText()).isEqualTo("done 3");
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(r.info().asText()).isEqualTo("done 3");
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads", "process"})
    void trackStartedStoresStartedWithThePidAndHostnameOfTheRun(String pool) throws Exception {
        start(pool, true);
        AsyncResult r = client.send("progress", dir.toString(), 0);
        await().atMost(WAIT).until(() -> r.state() == TaskState.STARTED);
        JsonNode meta = r.info();
        assertThat(meta.get("hostname").asText()).isEqualTo("states@host");
        long pid = meta.get("pid").asLong();
        if (pool.equals("threads")) {
            assertThat(pid).isEqualTo(ProcessHandle.current().pid());
        } else { // the child JVM that runs the body, as Celery's prefork child
            assertThat(pid).isNotEqualTo(ProcessHandle.current().pid());
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).contains(true);
        }
        open(0);
        assertThat(r.get(WAIT).asText()).isEqualTo("done 0");
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads", "process"})
    void aTasksOwnTrackStartedWinsOverTheSetting(String pool) throws Exception {
        start(pool, false);
        AsyncResult tracked = client.send("tracked_progress", dir.toString(), 0);
        await().atMost(WAIT).until(() -> tracked.state() == TaskState.STARTED);
        assertThat(tracked.info().get("hostname").asText()).isEqualTo("states@host");
        open(0);
        assertThat(tracked.get(WAIT).asText()).isEqualTo("done 0");
    }

    @ParameterizedTest
    @ValueSource(strings = {"SUCCESS", "FAILURE", "PENDING", ""})
    void aTaskCannotReportAFinalStateItself(String state) {
        start("threads", false);
        AsyncResult r = client.send("report_state", state);
        assertThatThrownBy(() -> r.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo("IllegalArgumentException");
            assertThat(e.excMessage()).contains("updateState");
        });
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads", "process"})
    void aStateReportedAndTheResultBothLandInOrder(String pool) throws Exception {
        start(pool, false);
        AsyncResult r = client.send("report_state", "CHECKING");
        assertThat(r.get(WAIT).asText()).isEqualTo("reported"); // the report came first; the result replaced it
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
    }
}
