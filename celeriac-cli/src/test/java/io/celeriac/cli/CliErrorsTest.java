package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every mistake a user can make on the command line ends in one clear line and exit code 2. */
@Tag("unit")
class CliErrorsTest {
    @TempDir
    Path dir;

    private CliRun run(String... args) {
        return CliRun.of(args);
    }

    private String broker() {
        return "sqlite:" + dir.resolve("cli.db");
    }

    private void assertUserError(CliRun r, String expected) {
        assertThat(r.code()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("celeriac: ").contains(expected);
        assertThat(r.err().strip().lines().count()).as("one line: %s", r.err()).isEqualTo(1);
        assertThat(r.err()).doesNotContain("Exception").doesNotContain("\tat ");
    }

    /** As {@link #assertUserError}, for messages that name the exception an app threw (its real cause), with no stack trace. */
    private void assertCauseSaid(CliRun r, String expected) {
        assertThat(r.code()).as("exit code; stderr: %s", r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("celeriac: ").contains(expected);
        assertThat(r.err().strip().lines().count()).as("one line: %s", r.err()).isEqualTo(1);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Caused by").doesNotContain("internal error");
    }

    @Test
    void callingAnUnknownTaskSuggestsTheNearestOne() {
        assertUserError(run("call", "nop", "--broker", broker()), "task 'nop' is not registered; did you mean 'noop'?");
    }

    @Test
    void badJsonInKwargsIsRejected() {
        assertUserError(run("call", "add", "1", "--kwargs", "{y: 2", "--broker", broker()), "--kwargs is not valid JSON");
        assertUserError(run("call", "add", "--kwargs", "[1]", "--broker", broker()), "--kwargs must be a JSON object");
    }

    @Test
    void argumentsOverTaskPayloadMaxBytesAreRefusedAtSendNamingTheLimitAndTheSize() {
        CliRun r = run("call", "add", "--args", "[\"" + "x".repeat(2000) + "\", 1]", "--set", "task_payload_max_bytes=1024",
                "--broker", broker());
        assertUserError(r, "not sent: the arguments of task 'add'");
        assertThat(r.err()).contains("over task_payload_max_bytes (0.0 MiB (1024 bytes))");
    }

    @Test
    void aTaskNameWithControlCharactersIsRefusedAtSend() {
        CliRun r = run("call", "--force", "add\n[2026-01-01 00:00:00,000: WARNING/MainThread] worker: forged", "1", "--broker", broker());
        assertUserError(r, "task name 'add\\n[2026-01-01");
        assertThat(r.err()).contains("has control characters");
    }

    @Test
    void aBrokerUrlThatDoesNotParseIsRejected() {
        assertUserError(run("call", "add", "1", "2", "--broker", "not a url"), "broker_url 'not a url' is not a URL");
        assertUserError(run("call", "add", "1", "2", "--broker", "foo://x"), "no broker module for scheme 'foo' (available: ");
        assertUserError(run("call", "add", "1", "2", "--broker", "sqlite:" + dir.resolve("missing/dir/x.db")), "does not exist");
        assertUserError(run("call", "add", "1", "2", "--broker", "postgresql:///celeriac"), "a PostgreSQL URL needs a host");
        assertUserError(run("call", "add", "1", "2", "--broker", "postgresql://db.example/celeriac?sslmode"), "option 'sslmode' needs a value");
    }

    @Test
    void aConfigFileThatIsMissingOrBrokenIsRejected() throws IOException {
        assertUserError(run("call", "add", "--config", dir.resolve("nope.yaml").toString()), "does not exist");
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "broker_url: [\n  - unclosed\n");
        assertUserError(run("call", "add", "--config", bad.toString()), "is not valid YAML");
    }

    @Test
    void anUnknownSettingNameSuggestsTheNearestValidOne() throws IOException {
        Path cfg = Files.writeString(dir.resolve("c.yaml"), "worker_prefetch_multiplyer: 2\n");
        assertUserError(run("worker", "--config", cfg.toString()), "did you mean 'worker_prefetch_multiplier'?");
        assertUserError(run("call", "add", "--set", "task_acks_lat=true"), "did you mean 'task_acks_late'?");
    }

    @Test
    void badFlagValuesAreRejected() {
        assertUserError(run("worker", "--concurrency", "many"), "Invalid value for option '--concurrency'");
        assertUserError(run("worker", "--concurrency", "0", "--broker", broker()), "setting 'worker_concurrency': '0' is not a valid value");
        assertUserError(run("call", "add", "--priority", "12", "--broker", broker()), "--priority must be 0..9");
        assertUserError(run("call", "add", "--eta", "tomorrow", "--broker", broker()), "--eta: 'tomorrow' is not an ISO-8601 time");
        assertUserError(run("nonsense"), "Unmatched argument");
        assertUserError(run("worker", "--no-such-flag"), "Unknown option: '--no-such-flag'");
    }

    @Test
    void anAppThatCannotBeLoadedIsSaidWithItsRealCause() {
        String app = BrokenApps.class.getName();
        assertCauseSaid(run("worker", "--app", app + "$RegisterThrows", "--broker", broker()),
                "app '" + app + "$RegisterThrows': register() failed: IllegalStateException: boom");
        assertCauseSaid(run("call", "add", "--app", app + "$StaticInitialiserThrows", "--broker", broker()),
                "app '" + app + "$StaticInitialiserThrows': static initialiser failed: IllegalArgumentException: no app.properties");
        assertCauseSaid(run("worker", "--app", app + "$ConstructorThrows", "--broker", broker()),
                "app '" + app + "$ConstructorThrows': constructor failed: UnsupportedOperationException: not today");
    }

    @Test
    void aDurationBeyondTheMaximumIsRejectedNotClamped() {
        assertUserError(run("settings", "--set", "task_time_limit=99999999999999999999d"),
                "setting 'task_time_limit': '99999999999999999999d' is out of range (max 3650d)");
        assertUserError(run("worker", "--time-limit", "99999999999999999999", "--broker", broker()),
                "setting 'task_time_limit': '99999999999999999999' is out of range (max 3650d)");
        assertUserError(run("settings", "--set", "result_expires=3651d"), "is out of range (max 3650d)");
    }

    @Test
    void emptyQueueAndNodeNamesAreRejected() {
        for (String q : new String[] {"", ",,,", "a,,b", " "}) {
            assertUserError(run("worker", "-Q", q, "--broker", broker()), "-Q: empty queue name");
            assertUserError(run("purge", "-f", "-Q", q, "--broker", broker()), "-Q: empty queue name");
        }
        assertUserError(run("call", "add", "1", "2", "-Q", "", "--broker", broker()), "-Q: empty queue name");
        assertUserError(run("worker", "-n", "", "--broker", broker()), "-n: empty node name");
        assertUserError(run("beat", "-n", " ", "--broker", broker()), "-n: empty node name");
        assertUserError(run("inspect", "ping", "-d", "", "--broker", broker()), "-d: empty node name");
    }

    @Test
    void aPortOutOfRangeIsRejectedInEveryUrlSetting() {
        assertUserError(run("call", "add", "1", "2", "--broker", "redis://localhost:70000/0"),
                "setting 'broker_url': port 70000 out of range 1–65535");
        assertUserError(run("call", "add", "1", "2", "--broker", "postgresql://u:pw@localhost:70000/db"),
                "setting 'broker_url': port 70000 out of range 1–65535");
        assertUserError(run("worker", "--broker", broker(), "--result-backend", "redis-sentinel://h1:26379,h2:65536/0?master=m"),
                "setting 'result_backend': port 65536 out of range 1–65535");
        assertUserError(run("settings", "--set", "health_check_jdbc_url=jdbc:postgresql://db:0/app"),
                "setting 'health_check_jdbc_url': port 0 out of range 1–65535");
        assertUserError(run("health", "--no-manager", "--broker", broker(), "--set", "alert_webhook_url=https://alerts.example:99999/x"),
                "setting 'alert_webhook_url': port 99999 out of range 1–65535");
    }

    @Test
    void aCoordinationUrlOfNoKnownSchemeIsAUserErrorNamingItsSetting() {
        assertUserError(run("health", "--no-manager", "--broker", broker(), "--set", "coordination_url=nosuch://x"),
                "coordination_url 'nosuch://x': no broker module for scheme 'nosuch'");
    }

    /** A coordination store of its own that is down: its own FAIL line, exit 1, workers not judged. */
    @Test
    void healthChecksACoordinationStoreOfItsOwn() {
        CliRun r = run("health", "--no-manager", "--broker", broker(), "--set", "coordination_url=redis://127.0.0.1:1/0");
        assertThat(r.code()).as(r.out() + r.err()).isEqualTo(1);
        assertThat(r.out()).contains("ok    broker: ").contains("ok    result_backend: ")
                .contains("FAIL  coordination: redis://127.0.0.1:1/0: read lock").contains("Redis unreachable")
                .contains("workers, beat, health_check: not checked");
    }

    @Test
    void anErrorNamingAUrlDoesNotShowItsPassword() {
        CliRun r = run("call", "add", "--broker", "postgresql://celeriac:Sup3rSecret@/celeriac");
        assertUserError(r, "a PostgreSQL URL needs a host");
        assertThat(r.err()).doesNotContain("Sup3rSecret");
        r = run("call", "add", "--broker", "nosuchscheme://celeriac:Sup3rSecret@h/x?token=T0ken");
        assertUserError(r, "no broker module for scheme 'nosuchscheme'");
        assertThat(r.err()).doesNotContain("Sup3rSecret", "T0ken");
    }

    @Test
    void anUnknownAppClassIsRejected() {
        assertUserError(run("worker", "--app", "com.example.Nope", "--broker", broker()),
                "app 'com.example.Nope': class not found on the class path");
    }

    // --- rate limits, task_annotations, task_routes, eager mode -------------------------------------

    private CliRun withConfig(String yaml) throws IOException {
        Path cfg = dir.resolve("celeriac.yaml");
        Files.writeString(cfg, yaml);
        return run("call", "add", "1", "2", "--config", cfg.toString(), "--broker", broker());
    }

    @Test
    void aMalformedRateLimitOnATaskIsRefusedAtRegistrationNamingTheTask() {
        assertUserError(run("call", "paced", "--app", BrokenApps.BadRateLimit.class.getName(), "--broker", broker()),
                "task 'paced' (BadRateLimit.paced): bad rate limit 'ten per second': expected N/s, N/m or N/h (e.g. 10/s)");
    }

    @Test
    void badTaskAnnotationsNameTheTaskAndTheKey() throws IOException {
        assertUserError(withConfig("task_annotations:\n  add: {rate_limt: 10/s}\n"),
                "setting 'task_annotations': task 'add': unknown key 'rate_limt'; did you mean 'rate_limit'?");
        assertUserError(withConfig("task_annotations:\n  add: {rate_limit: fast}\n"),
                "setting 'task_annotations.add.rate_limit': 'fast' is not a valid value; expected a rate such as 10/s");
        assertUserError(withConfig("task_annotations:\n  '*': {max_retries: -1}\n"),
                "setting 'task_annotations.*.max_retries'");
        assertUserError(withConfig("task_annotations:\n  add: {time_limit: 5, soft_time_limit: 10}\n"),
                "setting 'task_annotations': task 'add': softTimeLimit (10s) must be shorter than timeLimit (5s)");
        assertUserError(withConfig("task_annotations:\n  add: 10/s\n"),
                "setting 'task_annotations': task 'add': '10/s' is not a mapping of options");
        assertUserError(run("call", "add", "--set", "task_annotations={\"add\": {\"acks_late\": \"maybe\"}}", "--broker", broker()),
                "setting 'task_annotations.add.acks_late': 'maybe' is not a valid value");
    }

    @Test
    void badTaskRoutesNameTheRoute() throws IOException {
        assertUserError(withConfig("task_routes:\n  'feeds.*': {queue: ''}\n"),
                "setting 'task_routes': route of 'feeds.*': no queue (give queue: NAME)");
        assertUserError(withConfig("task_routes:\n  add: {queue: hipri, exchang: x}\n"),
                "setting 'task_routes': route of 'add': unknown key 'exchang'; expected queue, routing_key, exchange, exchange_type");
        assertUserError(withConfig("task_routes:\n  - myapp.routers.Router\n"),
                "setting 'task_routes': 'myapp.routers.Router' is not a mapping of task name or glob");
        assertUserError(withConfig("task_routes: 3\n"), "setting 'task_routes': 3 is not a valid value");
    }

    @Test
    void badEagerFlagsAreRejected() {
        assertUserError(run("call", "add", "--set", "task_always_eager=perhaps"), "setting 'task_always_eager': 'perhaps' is not a valid value");
        assertUserError(run("call", "add", "--set", "task_eager_propagates=2"), "setting 'task_eager_propagates'");
    }
}
