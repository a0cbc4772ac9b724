package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Celery's worker habits as real processes: {@code worker -B}, and {@code --detach --pidfile --logfile}. */
@Tag("integration")
@Timeout(240)
class CeleryHabitsProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private final List<Long> detached = new ArrayList<>();

    @AfterEach
    void killDetached() {
        detached.forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    private String url() {
        return "sqlite:" + dir.resolve("habits.db");
    }

    @Test
    void workerDashBRunsTheScheduleInsideTheWorkerOnceEvenWithTwoOfThemAndStopsWarmly() throws Exception {
        Path cfg = Files.writeString(dir.resolve("celeriac.yaml"), String.join("\n",
                "health_check_interval: 0",
                "beat_lock_timeout: 3s",
                "beat_schedule:",
                "  add-every-1s:",
                "    task: add",
                "    schedule: 1s",
                "    args: [2, 3]",
                "  counted:", // left on a queue no worker consumes, to be counted by slot
                "    task: noop",
                "    schedule: 1s",
                "    options: {queue: beats}",
                ""));
        List<ChildJvm> workers = new ArrayList<>();
        for (String name : List.of("w1", "w2")) {
            workers.add(processes.start(dir.resolve(name + ".log"), List.of("-A", "io.celeriac.examples.FactCheckApp", "-b", url(),
                    "--config", cfg.toString(), "worker", "-l", "INFO", "-B", "-n", name, "--pool", "threads")));
        }
        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry())) {
            CliProcesses.until(await().atMost(Duration.ofSeconds(90)), workers,
                    () -> workers.stream().anyMatch(w -> w.output().contains("Task add[") && w.output().contains("succeeded in")));
            CliProcesses.until(await().atMost(Duration.ofSeconds(60)), workers, () -> BeatProcessTest.slotsOn(client, "beats").size() >= 4);
            List<Instant> slots = BeatProcessTest.slotsOn(client, "beats");
            assertThat(slots).as("two beats inside two workers, one leader").doesNotHaveDuplicates();
        }
        for (ChildJvm w : workers) {
            assertThat(w.output()).contains("-B: beat runs inside this worker; that is for development");
            w.sigterm();
        }
        for (ChildJvm w : workers) {
            assertThat(w.waitFor(60)).isTrue();
            assertThat(w.exitCode()).as(w.output()).isZero();
            assertThat(w.output()).contains("warm shutdown", "beat stopped");
        }
    }

    @Test
    void detachReturnsAtOnceAndLeavesAWorkerThatWritesItsPidLogsToTheFileAndStopsWarmlyOnSigterm() throws Exception {
        Path pidFile = dir.resolve("run/%n.pid");
        Path log = dir.resolve("logs/worker.log");
        List<String> args = List.of("-b", url(), "worker", "--detach", "--pidfile", pidFile.toString(), "--logfile", log.toString(),
                "-n", "d1", "--pool", "threads", "-l", "INFO");
        ChildJvm launcher = processes.start(dir.resolve("launcher.log"), args);
        assertThat(launcher.waitFor(60)).isTrue();
        assertThat(launcher.exitCode()).as(launcher.output()).isZero();
        assertThat(launcher.output()).contains("worker d1@", " detached (pid ", "logs in " + log);
        Path pid = dir.resolve("run/d1.pid");
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(pid) && !Files.readString(pid).isBlank());
        long worker = Long.parseLong(Files.readString(pid).strip());
        detached.add(worker);
        Optional<ProcessHandle> handle = ProcessHandle.of(worker);
        assertThat(handle).isPresent();
        assertThat(ChildJvm.commandLine(handle.get())).contains("worker", "--detach");
        assertThat(worker).isNotEqualTo(launcher.pid());
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(log) && Files.readString(log).contains("d1@") && Files.readString(log).contains(" ready"));

        CliRun called = CliRun.of("-b", url(), "call", "add", "20", "22", "--wait", "60");
        assertThat(called.out().lines().findFirst().orElse("")).as(called.err()).isEqualTo("42");
        assertThat(Files.readString(log)).contains("Task add[", "succeeded");

        ChildJvm second = processes.start(dir.resolve("second.log"), args);
        assertThat(second.waitFor(60)).isTrue();
        assertThat(second.exitCode()).isEqualTo(Main.ALREADY_RUNNING);
        assertThat(second.output().strip()).isEqualTo("celeriac: pid file " + pid + " names a live process (pid " + worker
                + "): already running? (remove the file if that process is not this worker)");

        handle.get().destroy(); // SIGTERM
        await().atMost(Duration.ofSeconds(60)).until(() -> !handle.get().isAlive());
        assertThat(pid).doesNotExist();
        assertThat(Files.readString(log)).contains("SIGTERM received (1): warm shutdown");
    }

    @Test
    void aStalePidFileIsReplacedAndBeatDetachesToo() throws Exception {
        Path pid = Files.writeString(dir.resolve("beat.pid"), "999999999\n"); // no such process
        Path log = dir.resolve("beat.log");
        Files.writeString(dir.resolve("celeriac.yaml"), "broker_url: " + url() + "\n");
        ChildJvm launcher = processes.start(dir.resolve("launcher.log"), List.of("--config", dir.resolve("celeriac.yaml").toString(),
                "beat", "-D", "--pidfile", pid.toString(), "-f", log.toString()));
        assertThat(launcher.waitFor(60)).isTrue();
        assertThat(launcher.exitCode()).as(launcher.output()).isZero();
        await().atMost(Duration.ofSeconds(60)).until(() -> !Files.readString(pid).strip().equals("999999999")
                && !Files.readString(pid).isBlank());
        long beat = Long.parseLong(Files.readString(pid).strip());
        detached.add(beat);
        await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(log) && Files.readString(log).contains("celeriac beat beat@"));
        ProcessHandle.of(beat).orElseThrow().destroy();
        await().atMost(Duration.ofSeconds(60)).until(() -> ProcessHandle.of(beat).isEmpty());
        assertThat(pid).doesNotExist();
        assertThat(Files.readString(log)).contains("beat stopped");
    }

    @Test
    void logfileWithoutDetachSendsTheWorkersAndItsChildrensLogLinesToTheFile() throws Exception {
        Path log = dir.resolve("fg.log");
        ChildJvm w = processes.start(dir.resolve("fg.out"), List.of("-b", url(), "worker", "--logfile", log.toString(), "-n", "fg",
                "-c", "1", "-l", "INFO"));
        CliProcesses.until(await().atMost(Duration.ofSeconds(90)), List.of(w),
                () -> Files.exists(log) && Files.readString(log).contains("fg@") && Files.readString(log).contains(" ready"));
        // a task that logs in the process pool's child: its line goes to the file too
        assertThat(CliRun.of("-b", url(), "call", "scrape_all_sources", "--kwargs", "{\"failure_rate\": 1}").code()).isZero();
        CliProcesses.until(await().atMost(Duration.ofSeconds(60)), List.of(w), () -> Files.readString(log).contains("Task failed: "));
        w.sigterm();
        assertThat(w.waitFor(60)).isTrue();
        assertThat(w.exitCode()).isZero();
        assertThat(Files.readString(log)).contains("warm shutdown");
        assertThat(w.output()).as("the banner stays on the terminal, the log lines do not").contains("[tasks]")
                .doesNotContain(" ready").doesNotContain("Task failed: ").doesNotContain("warm shutdown");
    }
}
