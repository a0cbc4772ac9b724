package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.PostgresServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code log_format: json} in real worker and beat processes: every line of their output is a
 * JSON object; a task's lines (its own, and the worker's about it, on whatever thread or child runs
 * it) carry its task_id, task_name and worker; a password is masked; a forged line stays inside
 * its message field.
 */
@Tag("integration")
@Timeout(240)
class JsonLogProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String FORGED = "\n{\"level\":\"ERROR\",\"logger\":\"x\",\"message\":\"FORGED\"}\n";

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    @ParameterizedTest
    @ValueSource(strings = {"threads", "process"})
    void everyLineIsJsonAndATasksLinesCarryItsIdNameAndWorker(String pool) throws Exception {
        String url = "sqlite:" + dir.resolve("json.db");
        List<String> extra = new ArrayList<>(List.of("--app", JsonLogApp.class.getName(), "--pool", pool, "--concurrency", "1",
                "--set", "log_format=json"));
        if (pool.equals("threads")) {
            extra.addAll(List.of("--set", "task_time_limit=60")); // the body runs on a thread of its own
        }
        ChildJvm worker = processes.worker(dir, url, "jsonw", extra.toArray(String[]::new));
        Config config = Config.builder().set(Settings.BROKER_URL, url).build();
        String chattyId;
        String boomId;
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            AsyncResult chatty = client.send("chatty", "hello" + FORGED + " redis://user:Secr3tPw@db:6379/0");
            AsyncResult boom = client.send("boom");
            chattyId = chatty.id();
            boomId = boom.id();
            assertThat(chatty.get(Duration.ofSeconds(120))).as(worker.output()).isNotNull();
            assertThatThrownBy(() -> boom.get(Duration.ofSeconds(60))).isInstanceOf(TaskFailedException.class);
        }
        CliProcesses.until(Awaitility.await().atMost(Duration.ofSeconds(30)), List.of(worker), () -> worker.output().contains("raised unexpected"));
        String node = "jsonw@" + io.celeriac.protocol.TaskMessage.hostName();
        List<JsonNode> lines = new ArrayList<>();
        for (String l : worker.output().split("\n", -1)) {
            if (l.isEmpty()) {
                continue;
            }
            JsonNode n = JSON.readTree(l);
            assertThat(n.isObject()).as(l).isTrue();
            lines.add(n);
        }
        assertThat(worker.output()).doesNotContain("Secr3tPw").doesNotContain("\nFORGED").doesNotContain("{\"level\":\"ERROR\",\"logger\":\"x\"");
        assertThat(lines).allSatisfy(n -> {
            assertThat(n.path("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)");
            assertThat(n.path("level").asText()).isIn("TRACE", "DEBUG", "INFO", "WARN", "ERROR");
            assertThat(n.has("logger") && n.has("thread") && n.has("message")).as(n.toString()).isTrue();
        });
        // the task's own lines, at INFO and WARN, with its MDC; the forged line inside the message
        List<JsonNode> own = lines.stream().filter(n -> n.path("message").asText().startsWith("chatty ")).toList();
        assertThat(own).extracting(n -> n.path("level").asText()).contains("INFO", "WARN");
        assertThat(own).allSatisfy(n -> {
            assertThat(n.path("task_id").asText()).isEqualTo(chattyId);
            assertThat(n.path("task_name").asText()).isEqualTo("chatty");
            assertThat(n.path("worker").asText()).isEqualTo(node);
        });
        assertThat(own).anyMatch(n -> n.path("message").asText().equals("chatty says hello" + FORGED + " redis://user:***@db:6379/0"));
        // the worker's lines about each task
        assertThat(lines).anyMatch(n -> n.path("message").asText().contains("succeeded") && chattyId.equals(n.path("task_id").asText())
                && "chatty".equals(n.path("task_name").asText()) && node.equals(n.path("worker").asText()));
        assertThat(lines).anyMatch(n -> n.path("message").asText().contains("raised unexpected") && boomId.equals(n.path("task_id").asText())
                && "boom".equals(n.path("task_name").asText()) && n.path("level").asText().equals("ERROR"));
        // lines outside any task: the worker's name, no task_id
        List<JsonNode> outside = lines.stream().filter(n -> !n.has("task_id")).toList();
        assertThat(outside).isNotEmpty().allSatisfy(n -> assertThat(n.path("worker").asText()).as(n.toString()).isEqualTo(node));
        worker.close();
    }

    @Test
    void aPasswordInTheBrokerUrlIsMaskedInTheJsonLines() throws Exception {
        try (PostgresServer pg = PostgresServer.launch()) { // trust authentication: the password is taken and not needed
            String url = pg.url().replace("postgres@", "postgres:Secr3tPw@");
            ChildJvm worker = processes.worker(dir, url, "pgjson", "--pool", "threads", "--set", "log_format=json");
            CliProcesses.until(Awaitility.await().atMost(Duration.ofSeconds(60)), List.of(worker), () -> worker.output().contains(" ready"));
            worker.close();
            String out = worker.output();
            assertThat(out).doesNotContain("Secr3tPw").contains("postgres:***@127.0.0.1");
            for (String l : out.split("\n")) {
                if (!l.isEmpty()) {
                    assertThat(JSON.readTree(l).path("worker").asText()).as(l).startsWith("pgjson@");
                }
            }
        }
    }

    @Test
    void beatWritesJsonLines() throws Exception {
        String url = "sqlite:" + dir.resolve("beat.db");
        Path cfg = Files.writeString(dir.resolve("celeriac.yaml"), String.join("\n",
                "broker_url: " + url, "log_format: json", "beat_schedule:", "  every-1s:", "    task: noop", "    schedule: 1s", ""));
        Path log = dir.resolve("beat.log");
        ChildJvm beat = processes.start(log, List.of("beat", "--config", cfg.toString(), "--loglevel", "DEBUG"));
        Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> beat.output().contains("sending due task"));
        beat.close();
        for (String l : Files.readAllLines(log)) {
            if (!l.isEmpty()) {
                assertThat(JSON.readTree(l).isObject()).as(l).isTrue();
            }
        }
    }

    @Test
    void theManagerAndTheProgramsItRunsWriteJsonLines() throws Exception {
        Path cfg = Files.writeString(dir.resolve("celeriac.yaml"), String.join("\n",
                "broker_url: sqlite:" + dir.resolve("m.db"), "run_dir: " + dir.resolve("run"), "log_dir: " + dir.resolve("logs"),
                "log_format: json", "worker_concurrency: 1", "worker_heartbeat_interval: 0.5", "health_check_interval: 0",
                "dashboard_enabled: false", ""));
        CliRun start = CliRun.of("start", "--config", cfg.toString());
        try {
            assertThat(start.code()).as(start.err()).isZero();
            try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, "sqlite:" + dir.resolve("m.db")).build(),
                    new TaskRegistry())) {
                Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> client.send("noop").get(Duration.ofSeconds(60)) != null);
            }
        } finally {
            CliRun stop = CliRun.of("stop", "--config", cfg.toString());
            assertThat(stop.code()).as(stop.err()).isZero();
        }
        List<Path> logs;
        try (var files = Files.list(dir.resolve("logs"))) {
            logs = files.filter(f -> f.toString().endsWith(".log")).toList();
        }
        assertThat(logs).extracting(f -> f.getFileName().toString()).contains("manager.log");
        for (Path f : logs) {
            List<String> lines = Files.readAllLines(f).stream().filter(l -> !l.isEmpty()).toList();
            if (!f.getFileName().toString().endsWith("_error.log")) { // standard error of a program: empty when nothing went wrong
                assertThat(lines).as(f.toString()).isNotEmpty();
            }
            for (String l : lines) {
                assertThat(JSON.readTree(l).isObject()).as(f + ": " + l).isTrue();
            }
        }
    }

    @Test
    void anUnknownLogFormatIsOneLineAndExitTwo() {
        CliRun r = CliRun.of("worker", "--broker", "sqlite:" + dir.resolve("x.db"), "--set", "log_format=xml");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err().strip().lines()).hasSize(1).first().asString().contains("log_format");
    }
}
