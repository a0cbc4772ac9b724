package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.Apps;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.config.SettingsReference;
import io.celeriac.worker.Worker;
import io.celeriac.worker.WorkerOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("integration")
class CliCommandsTest {
    @TempDir
    Path dir;

    private CliRun run(String... args) {
        return CliRun.of(args);
    }

    private String broker() {
        return "sqlite:" + dir.resolve("cli.db");
    }

    @Test
    void callPrintsTheTaskIdAndResultShowsTheValueOnceAWorkerRanIt() throws Exception {
        CliRun sent = run("call", "add", "2", "3", "--broker", broker());
        assertThat(sent.code()).isZero();
        String id = sent.out().strip();
        assertThat(id).matches("[0-9a-f-]{36}");

        CliRun pending = run("result", id, "--broker", broker());
        assertThat(pending.code()).isEqualTo(1);
        assertThat(pending.err()).contains("PENDING");

        Config c = Config.builder().set(Settings.BROKER_URL, broker()).set(Settings.WORKER_CONCURRENCY, 1).build();
        TaskRegistry registry = Apps.load(c);
        try (Celeriac app = Celeriac.open(c, registry)) {
            Worker w = new Worker(WorkerOptions.from(c), registry, app.broker(), app.results(), Clock.systemUTC());
            w.start();
            try {
                CliRun done = run("result", id, "--wait", "10", "--broker", broker());
                assertThat(done.code()).isZero();
                assertThat(done.out().lines().findFirst().orElse("")).isEqualTo("5");
                assertThat(done.out()).contains("SUCCESS · worker ", " · retries 0 · runtime ", " · done ");

                CliRun waited = run("call", "fail", "no source", "--wait", "10", "--broker", broker());
                assertThat(waited.code()).isEqualTo(1);
                assertThat(waited.out()).startsWith("FAILURE: io.celeriac.examples.FactCheckError: no source")
                        .contains("\tat io.celeriac.examples.FactCheckApp.fail");

                CliRun kw = run("call", "add", "--kwargs", "{\"x\": 40, \"y\": 2}", "--wait", "10", "--broker", broker());
                assertThat(kw.out().strip()).isEqualTo("42");

                CliRun json = run("result", id, "--json", "--broker", broker());
                assertThat(json.out()).contains("\"status\":\"SUCCESS\"").contains("\"task_id\":\"" + id + "\"");
            } finally {
                w.shutdown();
                w.awaitTermination(Duration.ofSeconds(10));
            }
        }
    }

    @Test
    void purgeEmptiesTheQueueAndSaysHowMany() {
        for (int i = 0; i < 3; i++) {
            assertThat(run("call", "noop", "--broker", broker()).code()).isZero();
        }
        CliRun purged = run("purge", "-f", "--broker", broker());
        assertThat(purged.code()).isZero();
        assertThat(purged.out()).contains("Purged 3 messages from queue celery.");
        assertThat(run("purge", "-f", "--broker", broker()).out()).contains("Purged 0 messages");
    }

    @Test
    void settingsShowsEachValueWithItsSource() {
        CliRun r = run("settings", "--broker", broker(), "--set", "worker_concurrency=7");
        assertThat(r.out()).contains("broker_url").contains(broker() + "  (command line)")
                .contains("worker_concurrency").contains("= 7  (command line)")
                .contains("result_expires").contains("= 1d  (default)");
        assertThat(run("settings", "--markdown").out()).isEqualTo(SettingsReference.markdown());
    }

    @Test
    void theSeedsExampleConfigurationIsValid() {
        CliRun r = run("settings", "--config", "../examples/celeriac.yaml");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("worker_max_tasks_per_child      = 50").contains("task_time_limit                 = 5m");
    }

    @Test
    void theDemoRunsTheExampleTasksAndPrintsTheirResults() {
        CliRun r = run("demo", "--broker", broker(), "--set", "worker_concurrency=2", "--set", "dashboard_port=0",
                "--set", "run_dir=" + dir.resolve("run"), "--set", "log_dir=" + dir.resolve("logs"));
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("the manager starts worker, beat and dashboard as supervised processes")
                .contains("dashboard on a free port")
                .contains("beat sent scrape_all_sources for").containsPattern("worker\\s+RUNNING").containsPattern("beat\\s+RUNNING");
        assertThat(dir.resolve("logs/worker.log")).exists();
        assertThat(r.out()).contains("add(2, 3)").contains("SUCCESS  5")
                .contains("fail('source unreachable')").contains("FAILURE  io.celeriac.examples.FactCheckError: source unreachable")
                .contains("REVOKED  celery.exceptions.TaskRevokedError: expired")
                .contains("Every task ended as expected.");
    }
}
