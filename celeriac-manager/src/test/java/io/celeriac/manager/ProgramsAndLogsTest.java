package io.celeriac.manager;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class ProgramsAndLogsTest {
    @TempDir
    Path dir;

    private static final List<String> CELERIAC = List.of("java", "-cp", "x.jar", "io.celeriac.cli.Main");

    private static List<ProgramSpec> parse(Map<String, Object> programs) {
        return Programs.parse(Config.builder().set(Settings.PROGRAMS, programs).build(), CELERIAC, List.of("--config", "/etc/c.yaml"));
    }

    @Test
    void withoutProgramsTheManagerRunsOneWorkerOneBeatAndTheDashboard() {
        List<ProgramSpec> p = Programs.parse(Config.defaults(), CELERIAC, List.of());
        assertThat(p).extracting(ProgramSpec::name).containsExactly("worker", "beat", "dashboard");
        assertThat(p.get(2).command()).endsWith("io.celeriac.cli.Main", "dashboard");
        assertThat(Programs.parse(Config.builder().set(Settings.DASHBOARD_ENABLED, false).build(), CELERIAC, List.of()))
                .extracting(ProgramSpec::name).containsExactly("worker", "beat");
        assertThatThrownBy(() -> parse(Map.of("d", Map.of("kind", "dashboard", "count", 2))))
                .hasMessageContaining("program 'd': a dashboard listens on one port: count must be 1");
        assertThat(p.get(0).command()).containsSubsequence("io.celeriac.cli.Main", "worker", "-n", "%(process_name)s");
        assertThat(p.get(0).stopwaitsecs()).isEqualTo(Duration.ofSeconds(60));
    }

    @Test
    void workerProgramsTakeQueuesConcurrencyPoolAndCountAndPassTheConfigurationOn() {
        ProgramSpec w = parse(Map.of("io", Map.of("kind", "worker", "queues", List.of("io", "mail"), "concurrency", 50,
                "pool", "threads", "count", 2, "stopwaitsecs", "5s"))).get(0);
        assertThat(w.command()).containsSubsequence("worker", "-n", "%(process_name)s", "-Q", "io,mail", "-c", "50", "-P", "threads",
                "--config", "/etc/c.yaml");
        assertThat(w.processNames()).containsExactly("io-1", "io-2");
        assertThat(w.stopwaitsecs()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void mistakesInProgramsNameTheProgram() {
        assertThatThrownBy(() -> parse(Map.of("scraper", Map.of("count", 2))))
                .isInstanceOf(ConfigException.class).hasMessageStartingWith("program 'scraper': has no command");
        assertThatThrownBy(() -> parse(Map.of("x", Map.of("kind", "flower"))))
                .hasMessageContaining("program 'x': kind must be worker, beat or dashboard, not 'flower'");
        assertThatThrownBy(() -> parse(Map.of("x", Map.of("kind", "beat", "queues", "a"))))
                .hasMessageContaining("program 'x': queues, concurrency and pool apply to kind: worker only");
        assertThatThrownBy(() -> parse(Map.of("x", Map.of("command", "run", "comand", "y"))))
                .hasMessageContaining("program 'x': unknown field 'comand'");
        assertThatThrownBy(() -> parse(Map.of("x y", Map.of("kind", "worker"))))
                .hasMessageContaining("program 'x y': a program name may hold");
        assertThatThrownBy(() -> parse(Map.of("x", Map.of("kind", "worker", "count", 0))))
                .hasMessageContaining("programs.x.count");
    }

    @Test
    void aLogRotatesBeforeALineWouldTakeItPastItsSizeAndKeepsItsBackups() throws Exception {
        Path f = dir.resolve("worker.log");
        try (RotatingLog log = new RotatingLog(f, 100, 2)) {
            for (int i = 0; i < 20; i++) {
                log.write(String.format("line %02d %s", i, "x".repeat(20))); // 29 bytes with the newline
            }
        }
        assertThat(Files.size(f)).isLessThanOrEqualTo(100);
        assertThat(Files.readAllLines(f)).last().asString().startsWith("line 19");
        assertThat(Files.readAllLines(dir.resolve("worker.log.1"))).hasSize(3);
        assertThat(dir.resolve("worker.log.2")).exists();
        assertThat(dir.resolve("worker.log.3")).doesNotExist();
    }

    @Test
    void warningsErrorsAndTheirStackTracesAlsoGoToTheErrorLog() throws Exception {
        ProgramSpec worker = new ProgramSpec("worker", "worker", List.of("x"), 1, Map.of(), Duration.ZERO, 0, Duration.ZERO);
        try (ProgramLogs logs = new ProgramLogs(dir, List.of(worker), 1 << 20, 1)) {
            logs.line("worker", " -------------- worker@vm v0.1.0 (celeriac)");
            logs.line("worker", "[2026-01-01 10:00:00,000: INFO /main] worker: ready");
            logs.line("worker", "[2026-01-01 10:00:01,000: ERROR/slot-1] worker: Task fail[1] raised unexpected: boom");
            logs.line("worker", "java.lang.IllegalStateException: boom");
            logs.line("worker", "\tat io.example.Tasks.fail(Tasks.java:10)");
            logs.line("worker", "[2026-01-01 10:00:02,000: INFO /slot-1] worker: Task add[2] succeeded");
            logs.line("worker", "[2026-01-01 10:00:03,000: WARN /main] worker: broker reachable again");
            logs.line("worker", "Error: Could not find or load main class x");
        }
        assertThat(Files.readAllLines(dir.resolve("worker.log"))).hasSize(8);
        assertThat(Files.readAllLines(dir.resolve("worker_error.log"))).containsExactly(
                "[2026-01-01 10:00:01,000: ERROR/slot-1] worker: Task fail[1] raised unexpected: boom",
                "java.lang.IllegalStateException: boom",
                "\tat io.example.Tasks.fail(Tasks.java:10)",
                "[2026-01-01 10:00:03,000: WARN /main] worker: broker reachable again",
                "Error: Could not find or load main class x");
    }

    @Test
    void jsonLinesGoToTheErrorLogByTheirLevelField() throws Exception {
        ProgramSpec worker = new ProgramSpec("worker", "worker", List.of("x"), 1, Map.of(), Duration.ZERO, 0, Duration.ZERO);
        String info = "{\"timestamp\":\"2026-01-01T10:00:00.000Z\",\"level\":\"INFO\",\"logger\":\"celeriac.worker\","
                + "\"thread\":\"main\",\"message\":\"no error here: Task add[2] succeeded\"}";
        String error = "{\"timestamp\":\"2026-01-01T10:00:01.000+01:00\",\"level\":\"ERROR\",\"logger\":\"celeriac.worker\","
                + "\"thread\":\"slot-1\",\"message\":\"Task fail[1] raised unexpected\",\"exception\":\"java.lang.X\\n\\tat a.b\"}";
        String warn = "{\"timestamp\":\"2026-01-01T10:00:02.000Z\",\"level\":\"WARN\",\"logger\":\"celeriac\",\"thread\":\"main\",\"message\":\"m\"}";
        try (ProgramLogs logs = new ProgramLogs(dir, List.of(worker), 1 << 20, 1)) {
            logs.line("worker", info);
            logs.line("worker", error);
            logs.line("worker", warn);
        }
        assertThat(Files.readAllLines(dir.resolve("worker.log"))).containsExactly(info, error, warn);
        assertThat(Files.readAllLines(dir.resolve("worker_error.log"))).containsExactly(error, warn);
    }
}
