package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.testkit.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Secrets never shown: {@code celeriac settings} as a real process, and {@code inspect conf} and
 * {@code inspect report} answered by a real worker process, with passwords, tokens and a webhook
 * given in flags, the environment and a program's environment.
 */
@Tag("integration")
@Timeout(180)
class SecretsProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    /** Every secret below; none may appear in anything shown. */
    private static final List<String> SECRETS = List.of("JdbcPw1", "SslPw2", "HookTok3", "EnvTok4", "PgPw5", "QueryTok6");

    private List<String> secretFlags() {
        return List.of(
                "--set", "health_check_jdbc_url=jdbc:postgresql://app:PgPw5@db.example:5432/app?password=JdbcPw1&sslpassword=SslPw2",
                "--set", "alert_webhook_url=https://alerts.example.com/hooks/HookTok3?access_token=QueryTok6",
                "--set", "programs={\"worker\": {\"kind\": \"worker\", \"environment\": {\"API_TOKEN\": \"EnvTok4\", \"LEVEL\": \"INFO\"}}}");
    }

    private String url() {
        return "sqlite:" + dir.resolve("secrets.db");
    }

    @Test
    void settingsShowsNoSecret() throws Exception {
        List<String> args = new ArrayList<>(List.of("settings", "--broker", url()));
        args.addAll(secretFlags());
        ChildJvm p = processes.start(dir.resolve("settings.log"), args);
        assertThat(p.waitFor(120)).isTrue();
        String out = p.output();
        assertThat(p.exitCode()).as(out).isZero();
        assertThat(out).contains("health_check_jdbc_url", "jdbc:postgresql://app:***@db.example:5432/app?password=***&sslpassword=***",
                "https://alerts.example.com/***", "\"API_TOKEN\":\"***\"", "\"LEVEL\":\"INFO\"");
        assertThat(out).doesNotContain(SECRETS);
    }

    @Test
    void inspectConfAndReportOfARealWorkerShowNoSecret() throws Exception {
        List<String> extra = new ArrayList<>(List.of("-P", "threads", "-c", "1"));
        extra.addAll(secretFlags());
        ChildJvm worker = processes.worker(dir, url(), "secrets", extra.toArray(String[]::new));
        String node = "secrets@" + io.celeriac.protocol.TaskMessage.hostName();
        CliRun[] conf = new CliRun[1];
        await().atMost(Duration.ofSeconds(90)).until(() -> {
            conf[0] = CliRun.of("inspect", "conf", "--json", "--broker", url(), "-t", "2");
            return conf[0].out().contains(node);
        });
        String shown = conf[0].out();
        assertThat(shown).contains("health_check_jdbc_url", "jdbc:postgresql://app:***@db.example:5432/app", "https://alerts.example.com/***");
        assertThat(shown).doesNotContain(SECRETS);

        CliRun report = CliRun.of("inspect", "report", "--broker", url(), "-t", "5", "-d", node);
        assertThat(report.code()).as(report.err()).isZero();
        assertThat(report.out()).contains("health_check_jdbc_url").doesNotContain(SECRETS);

        // nor in what the worker itself printed: its banner and log lines
        assertThat(worker.output()).contains("[tasks]").doesNotContain(SECRETS);
    }

    @Test
    void anErrorOrWarningNamingAUrlShowsNoPassword() throws Exception {
        // the PostgreSQL server is not there: the one-line error names the URL, without its password
        ChildJvm p = processes.start(dir.resolve("call.log"), List.of("call", "add", "1", "2", "--set", "broker_publish_retry_timeout=0",
                "--broker", "postgresql://celeriac:PgPw5@127.0.0.1:1/celeriac?connectTimeout=1&password=JdbcPw1"));
        assertThat(p.waitFor(120)).isTrue();
        assertThat(p.exitCode()).as(p.output()).isNotZero().isNotEqualTo(70);
        assertThat(p.output()).contains("127.0.0.1").doesNotContain(SECRETS).doesNotContain("\tat ");
    }
}
