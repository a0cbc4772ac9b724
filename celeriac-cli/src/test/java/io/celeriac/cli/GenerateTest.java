package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The generated production set-ups, checked by the real tools: systemd-analyze and supervisord. */
@Tag("integration")
@Timeout(180)
class GenerateTest {
    @TempDir
    Path dir;

    record Result(int code, String output) {
    }

    private static Result run(List<String> cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }

    private Path config() throws IOException {
        return Files.writeString(dir.resolve("celeriac.yaml"), String.join("\n",
                "broker_url: sqlite:" + dir.resolve("celeriac.db"),
                "log_dir: " + dir.resolve("logs"),
                "health_check_interval: 0",
                "programs:",
                "  worker: {kind: worker, concurrency: 1, pool: threads}",
                "  beat: {kind: beat}",
                "  extra: {kind: worker, count: 2, queues: [io], pool: threads, stopwaitsecs: 5}",
                ""));
    }

    @Test
    void systemdUnitsPassSystemdAnalyzeVerify() throws Exception {
        CliRun gen = CliRun.of("generate", "systemd", "-o", dir.resolve("units").toString(), "--user", "root",
                "--config", config().toString());
        assertThat(gen.code()).as(gen.err()).isZero();
        Path units = dir.resolve("units");
        assertThat(units.resolve("celeriac-worker.service")).exists();
        assertThat(units.resolve("celeriac-beat.service")).exists();
        assertThat(units.resolve("celeriac-extra@.service")).exists();
        String worker = Files.readString(units.resolve("celeriac-worker.service"));
        assertThat(worker).contains("Restart=always").contains("KillSignal=SIGTERM").contains("TimeoutStopSec=60")
                .contains("Type=simple").contains(" worker -n worker ");
        assertThat(Files.readString(units.resolve("celeriac-extra@.service"))).contains(" worker -n extra-%i ").contains("TimeoutStopSec=5");
        Result verify = run(List.of("systemd-analyze", "verify", units.resolve("celeriac-worker.service").toString(),
                units.resolve("celeriac-beat.service").toString()));
        assertThat(verify.code()).as(verify.output()).isZero();
        assertThat(verify.output()).doesNotContain("celeriac-worker.service:").doesNotContain("celeriac-beat.service:");
    }

    @Test
    void theRealSupervisordRunsTheGeneratedProgramsAndTheyWork() throws Exception {
        Path out = dir.resolve("sup");
        CliRun gen = CliRun.of("generate", "supervisord", "-o", out.toString(), "--config", config().toString());
        assertThat(gen.code()).as(gen.err()).isZero();
        Path conf = out.resolve("supervisord.conf");
        assertThat(Files.readString(conf)).contains("[program:worker]").contains("[program:beat]").contains("numprocs=2")
                .contains("stopsignal=TERM").contains("stopwaitsecs=60");
        Files.createDirectories(dir.resolve("logs"));
        Result started = run(List.of("supervisord", "-c", conf.toString()));
        assertThat(started.code()).as(started.output()).isZero();
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500)).until(() -> {
                String status = run(List.of("supervisorctl", "-c", conf.toString(), "status")).output();
                return status.lines().filter(l -> l.contains("RUNNING")).count() == 4;
            });
            String status = run(List.of("supervisorctl", "-c", conf.toString(), "status")).output();
            assertThat(status).containsPattern("worker\\s+RUNNING").containsPattern("beat\\s+RUNNING")
                    .containsPattern("extra:extra-1\\s+RUNNING").containsPattern("extra:extra-2\\s+RUNNING");
            CliRun call = CliRun.of("call", "add", "2", "3", "--wait", "60", "--broker", "sqlite:" + dir.resolve("celeriac.db"));
            assertThat(call.out().strip()).isEqualTo("5");
        } finally {
            run(List.of("supervisorctl", "-c", conf.toString(), "shutdown"));
        }
    }
}
