package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.AsyncResult;
import io.celeriac.Canvas;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.Signature;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Backends;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real worker process with {@code task_history} on SQLite: every task it handles is in the stored
 * history, read by another process, with its arguments, result or exception and traceback, worker,
 * queue, runtime, its retries as a timeline, and its canvas parents and children.
 */
@Tag("integration")
@Timeout(180)
class TaskHistoryProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private ChildJvm worker;

    private void waitFor(Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).ignoreExceptions(),
                List.of(worker), condition);
    }

    private static List<TaskState> states(TaskRecord r) {
        return r.timeline().stream().map(TaskRecord.Step::state).toList();
    }

    @Test
    void theTasksAWorkerRanAreInTheHistoryWithTheirTimelineAndChildren() throws Exception {
        String url = "sqlite:" + dir.resolve("history.db");
        Config config = Config.builder().set(Settings.BROKER_URL, url).build();
        worker = processes.worker(dir, url, "historian", "-P", "threads", "-c", "4", "--set", "task_history=true");
        waitFor(() -> worker.output().contains("task history on"));
        try (Celeriac client = Celeriac.open(config, new TaskRegistry());
             TaskHistory history = Backends.openTaskHistory(config)) {
            AsyncResult added = client.send("add", 2, 3);
            AsyncResult failed = client.send("fail", "the source is gone");
            // always times out: three retries (1 s, 2 s, 4 s apart), then FAILURE
            AsyncResult retried = client.send("scrape_all_sources", List.of(), Map.of("failure_rate", 1.0), SendOptions.NONE);
            AsyncResult chainEnd = client.apply(Canvas.chain(Signature.of("add", 1, 2), Signature.of("add", 10)));
            String chainStart = chainEnd.parent().orElseThrow().id();

            waitFor(() -> history.get(added.id()).map(r -> r.state() == TaskState.SUCCESS).orElse(false));
            TaskRecord a = history.get(added.id()).orElseThrow();
            assertThat(a.name()).isEqualTo("add");
            assertThat(a.args()).isEqualTo("[2,3]");
            assertThat(a.kwargs()).isEqualTo("{}");
            assertThat(a.result()).isEqualTo("5");
            assertThat(a.worker()).startsWith("historian@");
            assertThat(a.queue()).isEqualTo("celery");
            assertThat(a.received()).isNotNull();
            assertThat(a.started()).isNotNull();
            assertThat(a.runtime()).isNotNull().isGreaterThanOrEqualTo(0.0);
            assertThat(states(a)).containsExactly(TaskState.RECEIVED, TaskState.STARTED, TaskState.SUCCESS);

            waitFor(() -> history.get(failed.id()).map(r -> r.state() == TaskState.FAILURE).orElse(false));
            TaskRecord f = history.get(failed.id()).orElseThrow();
            assertThat(f.exception()).contains("the source is gone");
            assertThat(f.traceback()).isNotBlank();
            assertThat(f.result()).isNull();
            assertThat(states(f)).containsExactly(TaskState.RECEIVED, TaskState.STARTED, TaskState.FAILURE);

            waitFor(() -> history.get(chainEnd.id()).map(r -> r.state() == TaskState.SUCCESS).orElse(false));
            waitFor(() -> history.get(chainStart).map(r -> r.children().contains(chainEnd.id())).orElse(false));
            TaskRecord first = history.get(chainStart).orElseThrow();
            TaskRecord second = history.get(chainEnd.id()).orElseThrow();
            assertThat(first.children()).containsExactly(chainEnd.id());
            assertThat(second.parentId()).isEqualTo(chainStart);
            assertThat(second.rootId()).isEqualTo(chainStart);
            assertThat(second.args()).isEqualTo("[3,10]"); // the first step's result prepended
            assertThat(second.result()).isEqualTo("13");

            waitFor(() -> history.get(retried.id()).map(r -> r.state() == TaskState.FAILURE).orElse(false));
            TaskRecord r = history.get(retried.id()).orElseThrow();
            assertThat(r.retries()).isEqualTo(3);
            assertThat(states(r)).containsExactly(
                    TaskState.RECEIVED, TaskState.STARTED, TaskState.RETRY,
                    TaskState.RECEIVED, TaskState.STARTED, TaskState.RETRY,
                    TaskState.RECEIVED, TaskState.STARTED, TaskState.RETRY,
                    TaskState.RECEIVED, TaskState.STARTED, TaskState.FAILURE);
            assertThat(r.timeline()).extracting(TaskRecord.Step::retries).containsExactly(0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3);
            assertThat(r.timeline().get(2).detail()).contains("SourceTimeout");
            assertThat(r.exception()).contains("SourceTimeout");

            TaskHistory.Page page = history.find(TaskHistory.Query.latest(100));
            assertThat(page.records()).extracting(TaskRecord::id)
                    .contains(added.id(), failed.id(), retried.id(), chainStart, chainEnd.id());
            TaskHistory.Page failures = history.find(new TaskHistory.Query(null, null, TaskState.FAILURE, null, null, null, 100, null));
            assertThat(failures.records()).extracting(TaskRecord::id).containsExactlyInAnyOrder(failed.id(), retried.id());
        }
    }
}
