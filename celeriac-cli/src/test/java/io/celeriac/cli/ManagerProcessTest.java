package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.spi.NodeBeat;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.ProcessId;
import java.nio.file.DirectoryStream;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The manager driven through the real CLI, supervising real worker and beat processes. */
@Tag("chaos")
@Timeout(240)
class ManagerProcessTest {
    @TempDir
    Path dir;

    private Path cfg;

    @AfterEach
    void stopManager() {
        if (cfg != null) {
            CliRun.of("stop", "--config", cfg.toString());
        }
    }

    private Path config(String... extraLines) throws Exception {
        List<String> lines = new ArrayList<>(List.of(
                "broker_url: sqlite:" + dir.resolve("celeriac.db"),
                "run_dir: " + dir.resolve("run"),
                "log_dir: " + dir.resolve("logs"),
                "worker_concurrency: 2",
                "worker_heartbeat_interval: 0.5",
                "broker_recovery_timeout: 5",
                "stopwaitsecs: 30",
                "health_check_interval: 0",
                "dashboard_enabled: false")); // the dashboard under the manager: DashboardProcessTest
        lines.addAll(List.of(extraLines));
        cfg = Files.writeString(dir.resolve("celeriac.yaml"), String.join("\n", lines) + "\n");
        return cfg;
    }

    private Celeriac client() {
        return Celeriac.open(Config.builder().set(Settings.BROKER_URL, "sqlite:" + dir.resolve("celeriac.db")).build(), new TaskRegistry());
    }

    private JsonNode status() throws Exception {
        return Json.read(CliRun.of("status", "--json", "--config", cfg.toString()).out());
    }

    private JsonNode process(String name) throws Exception {
        for (JsonNode p : status().path("processes")) {
            if (p.get("process").asText().equals(name)) {
                return p;
            }
        }
        return Json.NODES.objectNode();
    }

    private void awaitState(String process, String state, Duration within) {
        await().atMost(within).pollInterval(Duration.ofMillis(200))
                .until(() -> process(process).path("state").asText().equals(state));
    }

    private void awaitWorkerConsuming(Celeriac client) {
        await().atMost(Duration.ofSeconds(90)).until(() -> client.send("noop").get(Duration.ofSeconds(60)) != null);
    }

    /** A local HTTP server standing in for the alert webhook: it keeps every body POSTed to /hook. */
    private static HttpServer webhook(List<String> posts) throws java.io.IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", ex -> {
            posts.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        server.start();
        return server;
    }

    @Test
    void startRunsAWorkerAndABeatAndASecondStartSaysItIsAlreadyRunning() throws Exception {
        CliRun start = CliRun.of("start", "--config", config().toString());
        assertThat(start.code()).as(start.err()).isZero();
        assertThat(start.out()).contains("started (manager pid").contains("worker, beat");
        awaitState("worker", "RUNNING", Duration.ofSeconds(30));
        awaitState("beat", "RUNNING", Duration.ofSeconds(30));
        CliRun again = CliRun.of("start", "--config", cfg.toString());
        assertThat(again.code()).isEqualTo(4);
        assertThat(again.err()).contains("already running (manager pid");
        CliRun table = CliRun.of("status", "--config", cfg.toString());
        assertThat(table.code()).isZero();
        assertThat(table.out()).containsPattern("worker\\s+RUNNING\\s+\\d+").containsPattern("beat\\s+RUNNING\\s+\\d+");
    }

    @Test
    void aWorkerKilledWithSigkillIsRestartedAndTasksSentMeanwhileComplete() throws Exception {
        CliRun.of("start", "--config", config().toString());
        awaitState("worker", "RUNNING", Duration.ofSeconds(30));
        try (Celeriac client = client()) {
            awaitWorkerConsuming(client);
            long pid = process("worker").get("pid").asLong();
            ProcessHandle.of(pid).orElseThrow().destroyForcibly();
            List<AsyncResult> sent = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                sent.add(client.send("add", i, i));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> process("worker").path("restarts").asInt() == 1
                    && process("worker").path("state").asText().equals("RUNNING"));
            assertThat(process("worker").get("pid").asLong()).isNotEqualTo(pid);
            assertThat(process("worker").get("last_exit").asText()).isEqualTo("signal 9 (SIGKILL)");
            for (int i = 0; i < 10; i++) {
                assertThat(sent.get(i).get(Duration.ofSeconds(60)).asInt()).isEqualTo(2 * i);
            }
        }
    }

    @Test
    void stopDuringRunningTasksLosesNone() throws Exception {
        CliRun.of("start", "--config", config().toString());
        try (Celeriac client = client()) {
            awaitWorkerConsuming(client);
            // Both children up (a run waiting for a child still starting is given back by a warm stop, not run)
            await().atMost(Duration.ofSeconds(60)).until(() -> client.coordination().nodes().values().stream()
                    .filter(NodeBeat::isWorker)
                    .anyMatch(b -> b.json().matches("(?s).*\"processes\":\\[\\d+,\\d+\\].*")));
            List<AsyncResult> slow = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                slow.add(client.send("sleep", 2));
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> client.broker().size("celery") <= 2);
            Thread.sleep(300);
            CliRun stop = CliRun.of("stop", "--config", cfg.toString());
            assertThat(stop.code()).as(stop.err()).isZero();
            long done = slow.stream().filter(r -> r.state() == TaskState.SUCCESS).count();
            long waiting = client.broker().size("celery");
            assertThat(done + waiting).as("every task finished or is back on the queue").isEqualTo(4);
            assertThat(done).isGreaterThanOrEqualTo(2);
            CliRun notRunning = CliRun.of("stop", "--config", cfg.toString());
            assertThat(notRunning.code()).isEqualTo(7);
            assertThat(notRunning.err()).contains("not running");
        }
    }

    @Test
    void healthIsZeroWhenAllIsWellAndOneNamingTheBrokerWhenItIsDown() throws Exception {
        CliRun.of("start", "--config", config().toString());
        try (Celeriac client = client()) {
            awaitWorkerConsuming(client);
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> CliRun.of("health", "--config", cfg.toString()).code() == 0);
        CliRun ok = CliRun.of("health", "--config", cfg.toString());
        assertThat(ok.out()).contains("ok    manager").contains("ok    broker").contains("ok    result_backend")
                .containsPattern("ok    worker worker@\\S+: answered a ping").contains("ok    beat");
        Path broken = Files.writeString(dir.resolve("broken.db"), "this is not a SQLite database, it is a broken disk\n".repeat(100));
        CliRun down = CliRun.of("health", "--config", cfg.toString(), "--broker", "sqlite:" + broken);
        assertThat(down.code()).as(down.out() + down.err()).isEqualTo(1);
        assertThat(down.out()).contains("FAIL  broker: sqlite:" + broken);
    }

    @Test
    void aWorkerProcessThatExistsButNoLongerConsumesIsUnhealthyAndTheWebhookHearsOfIt() throws Exception {
        List<String> posts = new CopyOnWriteArrayList<>();
        HttpServer server = webhook(posts);
        try {
            CliRun.of("start", "--config", config("alert_webhook_url: http://127.0.0.1:" + server.getAddress().getPort() + "/hook").toString());
            try (Celeriac client = client()) {
                awaitWorkerConsuming(client);
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> CliRun.of("health", "--config", cfg.toString()).code() == 0);
            long pid = process("worker").get("pid").asLong();
            Process stop = new ProcessBuilder("kill", "-STOP", Long.toString(pid)).start();
            assertThat(stop.waitFor()).isZero();
            try {
                CliRun frozen = CliRun.of("health", "--config", cfg.toString());
                assertThat(frozen.code()).as(frozen.out()).isEqualTo(1);
                assertThat(frozen.out()).containsPattern("FAIL  worker worker@\\S+: no answer to a ping through the broker within 2 s")
                        .contains("ok    manager"); // its process is there, and RUNNING as far as the manager can tell
                await().atMost(Duration.ofSeconds(15)).until(() -> posts.stream().anyMatch(p -> p.contains("\"unhealthy\"")));
            } finally {
                new ProcessBuilder("kill", "-CONT", Long.toString(pid)).start().waitFor();
            }
        } finally {
            server.stop(0);
        }
    }

    @Test
    void aProgramWhoseCommandFailsGoesBackoffThenFatalAndTheWebhookHearsOfIt() throws Exception {
        List<String> posts = new CopyOnWriteArrayList<>();
        HttpServer server = webhook(posts);
        try {
            config("alert_webhook_url: http://127.0.0.1:" + server.getAddress().getPort() + "/hook",
                    "programs:",
                    "  broken:",
                    "    command: [/bin/sh, -c, 'echo cannot reach the database >&2; exit 3']",
                    "    startretries: 2");
            assertThat(CliRun.of("start", "--config", cfg.toString()).code()).isZero();
            await().atMost(Duration.ofSeconds(30)).until(() -> process("broken").path("state").asText().equals("BACKOFF"));
            awaitState("broken", "FATAL", Duration.ofSeconds(30));
            assertThat(process("broken").get("last_exit").asText()).isEqualTo("exit code 3");
            await().atMost(Duration.ofSeconds(15)).until(() -> !posts.isEmpty());
            JsonNode alert = Json.read(posts.get(0));
            assertThat(alert.get("event").asText()).isEqualTo("fatal");
            assertThat(alert.get("process").asText()).isEqualTo("broken");
            assertThat(alert.get("message").asText()).contains("exited too quickly 3 times");
            assertThat(Files.readString(dir.resolve("logs/broken_error.log"))).contains("cannot reach the database");
        } finally {
            server.stop(0);
        }
    }

    @Test
    void logFilesRotateAtTheConfiguredSizeAndKeepTheConfiguredBackups() throws Exception {
        CliRun.of("start", "--config", config("logfile_maxbytes: 4096", "logfile_backups: 2").toString());
        try (Celeriac client = client()) {
            awaitWorkerConsuming(client);
            List<AsyncResult> sent = new ArrayList<>();
            for (int i = 0; i < 150; i++) {
                sent.add(client.send("add", i, 1));
            }
            for (AsyncResult r : sent) {
                r.get(Duration.ofSeconds(60));
            }
        }
        Path logs = dir.resolve("logs");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(logs.resolve("worker.log.2")));
        assertThat(Files.size(logs.resolve("worker.log"))).isLessThanOrEqualTo(4096);
        assertThat(Files.size(logs.resolve("worker.log.1"))).isLessThanOrEqualTo(4096).isGreaterThan(2048);
        assertThat(logs.resolve("worker.log.3")).doesNotExist();
        CliRun tail = CliRun.of("logs", "worker", "-n", "5", "--config", cfg.toString());
        assertThat(tail.code()).isZero();
        assertThat(tail.out().strip().lines().count()).isEqualTo(5);
    }

    /** This test's processes as the OS sees them (from /proc, zombies left out): role (manager, worker, beat, sidecar) → pids. */
    private Map<String, List<Long>> osProcesses(String sidecarArg) throws Exception {
        Map<String, List<Long>> out = new TreeMap<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path proc : procs) {
                long pid = Long.parseLong(proc.getFileName().toString());
                List<String> args;
                try {
                    args = List.of(new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.UTF_8).split("\0"));
                } catch (java.io.IOException e) {
                    continue; // gone meanwhile
                }
                if (ProcessId.of(pid).isEmpty()) {
                    continue;
                }
                String role = null;
                int main = args.indexOf(Main.class.getName());
                if (args.contains(cfg.toString()) && main >= 0 && main + 1 < args.size()) {
                    role = args.get(main + 1).equals("start") ? "manager" : args.get(main + 1);
                } else if (sidecarArg != null && args.size() == 2 && args.get(0).endsWith("sleep") && args.get(1).equals(sidecarArg)) {
                    role = "sidecar";
                }
                if (role != null) {
                    out.computeIfAbsent(role, r -> new ArrayList<>()).add(pid);
                }
            }
        }
        return out;
    }

    private static void kill9(long pid) throws Exception {
        assertThat(new ProcessBuilder("kill", "-9", Long.toString(pid)).start().waitFor()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> ProcessId.of(pid).isEmpty());
    }

    private static boolean alive(long pid) {
        return ProcessId.of(pid).isPresent();
    }

    /** Sends a task that sleeps {@code seconds} and waits until the worker runs it. */
    private AsyncResult busy(Celeriac client, int seconds) {
        AsyncResult slow = client.send("sleep", seconds);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                .until(() -> client.broker().size("celery") == 0
                        && java.util.stream.StreamSupport.stream(status().path("workers").spliterator(), false)
                        .anyMatch(w -> w.path("active").asInt() >= 1));
        return slow;
    }

    @Test
    void aKilledManagersProgramsAreOrphansThatStatusHealthAndStopSeeAndTheNextStartRunsOneOfEach() throws Exception {
        String sidecarArg = Integer.toString(100_000 + new java.util.Random().nextInt(800_000));
        config("programs:",
                "  worker: {kind: worker}",
                "  beat: {kind: beat}",
                "  sidecar: {command: [/bin/sleep, '" + sidecarArg + "']}");
        CliRun start = CliRun.of("start", "--config", cfg.toString());
        assertThat(start.code()).as(start.err()).isZero();
        awaitState("beat", "RUNNING", Duration.ofSeconds(30));
        awaitState("sidecar", "RUNNING", Duration.ofSeconds(30));
        try (Celeriac client = client()) {
            awaitWorkerConsuming(client);
            AsyncResult slow = busy(client, 25);
            long manager = status().get("manager_pid").asLong();
            long worker = process("worker").get("pid").asLong();
            long beat = process("beat").get("pid").asLong();
            long sidecar = process("sidecar").get("pid").asLong();
            assertThat(osProcesses(sidecarArg)).containsEntry("manager", List.of(manager)).containsEntry("worker", List.of(worker))
                    .containsEntry("beat", List.of(beat)).containsEntry("sidecar", List.of(sidecar));

            kill9(manager);
            // a killed JVM's leader thread shows as a zombie while its other threads still close its files: wait for its lock to go
            await().atMost(Duration.ofSeconds(30)).until(() -> Daemon.running(dir.resolve("run")).isEmpty());

            // status: the manager is gone, and what it left running is named — not a plain "not running"
            CliRun table = CliRun.of("status", "--config", cfg.toString());
            assertThat(table.code()).as(table.out() + table.err()).isEqualTo(7);
            assertThat(table.out()).contains("manager: not running — the last one (pid " + manager + ") was killed or died and left")
                    .containsPattern("worker\\s+ORPHANED\\s+" + worker).containsPattern("sidecar\\s+ORPHANED\\s+" + sidecar);
            JsonNode doc = status();
            assertThat(doc.get("manager_pid").isNull()).isTrue();
            assertThat(doc.get("killed_manager_pid").asLong()).isEqualTo(manager);
            assertThat(doc.get("orphans").findValuesAsText("process")).contains("worker", "sidecar");

            // health names them too
            CliRun health = CliRun.of("health", "--config", cfg.toString());
            assertThat(health.code()).isEqualTo(1);
            assertThat(health.out()).contains("FAIL  manager: not running on " + dir.resolve("run") + "; the last one (pid " + manager
                    + ") was killed or died and left").contains("sidecar (pid " + sidecar + ")").contains("running unsupervised");

            // beat, idle, noticed its manager is gone and stopped itself; its log says why
            await().atMost(Duration.ofSeconds(30)).until(() -> !alive(beat));
            assertThat(Files.readString(dir.resolve("logs/beat.log"))).contains("the manager (pid " + manager + ") that started this beat")
                    .contains("is gone (killed?): warm shutdown");
            await().atMost(Duration.ofSeconds(10)).until(() -> Files.readString(dir.resolve("logs/worker.log"))
                    .contains("the manager (pid " + manager + ") that started this worker"));
            assertThat(alive(worker)).as("the worker finishes its task before it exits").isTrue();

            // stop ends what is left (warmly: the running task finishes), instead of exit 7
            CliRun stop = CliRun.of("stop", "--config", cfg.toString());
            assertThat(stop.code()).as(stop.out() + stop.err()).isZero();
            assertThat(stop.out()).contains("no manager is running").contains("sidecar (pid " + sidecar + ")").contains("celeriac: stopped");
            assertThat(alive(worker)).isFalse();
            assertThat(alive(sidecar)).isFalse();
            assertThat(osProcesses(sidecarArg)).isEmpty();
            assertThat(slow.get(Duration.ofSeconds(60)).asDouble()).isEqualTo(25.0);
            assertThat(CliRun.of("stop", "--config", cfg.toString()).code()).isEqualTo(7);

            // and a new start runs exactly one of each
            assertThat(CliRun.of("start", "--config", cfg.toString()).code()).isZero();
            awaitState("worker", "RUNNING", Duration.ofSeconds(30));
            awaitState("beat", "RUNNING", Duration.ofSeconds(30));
            awaitState("sidecar", "RUNNING", Duration.ofSeconds(30));
            Map<String, List<Long>> os = osProcesses(sidecarArg);
            assertThat(os.get("manager")).hasSize(1);
            assertThat(os.get("worker")).containsExactly(process("worker").get("pid").asLong());
            assertThat(os.get("beat")).containsExactly(process("beat").get("pid").asLong());
            assertThat(os.get("sidecar")).containsExactly(process("sidecar").get("pid").asLong());
        }
    }

    @Test
    void startAfterAKilledManagerStopsWhatItLeftFirstSoThereAreNeverTwoWorkers() throws Exception {
        assertThat(CliRun.of("start", "--config", config().toString()).code()).isZero();
        awaitState("beat", "RUNNING", Duration.ofSeconds(30));
        try (Celeriac client = client()) {
            awaitWorkerConsuming(client);
            AsyncResult slow = busy(client, 20);
            long manager = status().get("manager_pid").asLong();
            long worker = process("worker").get("pid").asLong();
            kill9(manager);

            CliRun start = CliRun.of("start", "--config", cfg.toString());
            assertThat(start.code()).as(start.out() + start.err()).isZero();
            assertThat(start.out()).contains("left running by a manager that is gone").contains("worker (pid " + worker + ")")
                    .contains("started (manager pid");
            assertThat(alive(worker)).isFalse();
            awaitState("worker", "RUNNING", Duration.ofSeconds(30));
            awaitState("beat", "RUNNING", Duration.ofSeconds(30));
            Map<String, List<Long>> os = osProcesses(null);
            assertThat(os.get("manager")).containsExactly(status().get("manager_pid").asLong());
            assertThat(os.get("worker")).containsExactly(process("worker").get("pid").asLong());
            assertThat(os.get("beat")).containsExactly(process("beat").get("pid").asLong());
            assertThat(status().get("orphans")).isNull();
            assertThat(slow.get(Duration.ofSeconds(90)).asDouble()).isEqualTo(20.0);
        }
    }

    @Test
    void deletingTheControlSocketUnderALiveManagerDoesNotLetASecondOneStart() throws Exception {
        assertThat(CliRun.of("start", "--config", config().toString()).code()).isZero();
        awaitState("worker", "RUNNING", Duration.ofSeconds(30));
        awaitState("beat", "RUNNING", Duration.ofSeconds(30));
        long manager = status().get("manager_pid").asLong();
        Path socket = dir.resolve("run/celeriac.sock");
        Files.delete(socket);

        CliRun again = CliRun.of("start", "--config", cfg.toString());
        assertThat(again.code()).isEqualTo(4);
        assertThat(again.err().strip()).startsWith("celeriac: already running (manager pid " + manager + ")").doesNotContain("\n");
        Map<String, List<Long>> os = osProcesses(null);
        assertThat(os.get("manager")).containsExactly(manager);
        assertThat(os.get("worker")).hasSize(1);
        assertThat(os.get("beat")).hasSize(1);

        // status and health still find it (it binds its socket again), and stop stops it
        CliRun table = CliRun.of("status", "--config", cfg.toString());
        assertThat(table.code()).as(table.out()).isZero();
        assertThat(table.out()).contains("manager: pid " + manager).containsPattern("worker\\s+RUNNING");
        assertThat(socket).exists();
        assertThat(CliRun.of("health", "--config", cfg.toString()).out()).contains("ok    manager: pid " + manager);

        // a tidy-up of the whole run directory: the manager puts back its lock, pid file, records and socket
        try (var files = Files.walk(dir.resolve("run"))) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
        await().atMost(Duration.ofSeconds(15)).until(() -> Files.exists(dir.resolve("run/manager.lock"))
                && Files.exists(socket) && Files.exists(dir.resolve("run/programs/worker.json")));
        CliRun third = CliRun.of("start", "--config", cfg.toString());
        assertThat(third.code()).isEqualTo(4);
        assertThat(third.err()).startsWith("celeriac: already running (manager pid " + manager + ")");
        assertThat(osProcesses(null).get("manager")).containsExactly(manager);
        assertThat(CliRun.of("status", "--config", cfg.toString()).out()).contains("manager: pid " + manager);
        CliRun stop = CliRun.of("stop", "--config", cfg.toString());
        assertThat(stop.code()).as(stop.err()).isZero();
        assertThat(osProcesses(null)).isEmpty();
    }

    @Test
    void badInputIsOneLineAndExitCodeTwo() throws Exception {
        config();
        CliRun unknown = CliRun.of("restart", "wroker", "--config", cfg.toString());
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err().strip()).isEqualTo("celeriac: no program named 'wroker' (programs: worker, beat)");

        Path noCommand = Files.writeString(dir.resolve("nocmd.yaml"), "programs:\n  scraper:\n    count: 2\n");
        CliRun missing = CliRun.of("start", "--config", noCommand.toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err().strip()).startsWith("celeriac: program 'scraper': has no command").doesNotContain("\n");

        Path file = Files.writeString(dir.resolve("a-file"), "x");
        CliRun unwritable = CliRun.of("start", "--config", cfg.toString(), "--set", "run_dir=" + file.resolve("run"));
        assertThat(unwritable.code()).isEqualTo(2);
        assertThat(unwritable.err().strip()).startsWith("celeriac: run_dir '" + file.resolve("run") + "' cannot be created");
    }
}
