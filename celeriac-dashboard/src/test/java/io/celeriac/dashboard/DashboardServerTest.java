package io.celeriac.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.ConfigException;
import io.celeriac.SendOptions;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard's server over HTTP (java.net.http against a real server on a free port), on a
 * SQLite broker with its task history, with a real in-process worker: every page renders with its
 * stable ids, values are escaped, controls work with the CSRF token and are refused without it,
 * authentication and read-only mode refuse what they must.
 */
class DashboardServerTest {
    private static final Duration WAIT = Served.WAIT;
    private static final String NODE = "dash@host";
    private static final Pattern CSRF = Pattern.compile("name=\"csrf\" value=\"([^\"]+)\"");

    @TempDir
    Path dir;

    private Served served;

    @AfterEach
    void stop() throws Exception {
        if (served != null) {
            served.close();
        }
    }

    private Config config(String... settings) {
        Config.Builder b = Config.builder()
                .set(Settings.BROKER_URL, "sqlite:" + dir.resolve("dash.db"))
                .set(Settings.TASK_HISTORY, true)
                .set(Settings.WORKER_HOSTNAME, NODE)
                .set(Settings.WORKER_POOL, "threads")
                .set(Settings.WORKER_CONCURRENCY, 2)
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(300))
                .set(Settings.RUN_DIR, dir.resolve("run").toString())
                .set(Settings.DASHBOARD_PORT, 0);
        for (int i = 0; i < settings.length; i += 2) {
            b.setRaw(settings[i], settings[i + 1], "test");
        }
        return b.build();
    }

    private void start(Config c, boolean withWorker) throws Exception {
        served = new Served(c, dir.resolve("run"), withWorker);
    }

    private HttpResponse<String> get(String path, String... headers) throws Exception {
        return served.get(path, headers);
    }

    private HttpResponse<String> post(String path, Map<String, String> form, String... headers) throws Exception {
        return served.post(path, form, headers);
    }

    private int concurrency() throws InterruptedException {
        return served.concurrency(NODE);
    }

    private static String csrf(HttpResponse<String> page) {
        Matcher m = CSRF.matcher(page.body());
        assertThat(m.find()).as("a form with a CSRF token in " + page.uri()).isTrue();
        return m.group(1);
    }

    private static void secure(HttpResponse<String> r) {
        assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
                .contains("script-src 'self'").contains("frame-ancestors 'none'").doesNotContain("unsafe-inline");
        assertThat(r.headers().firstValue("X-Frame-Options")).hasValue("DENY");
        assertThat(r.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        assertThat(r.headers().firstValue("Referrer-Policy")).hasValue("same-origin");
    }

    private static TaskRecord record(String id, String name, TaskState state, String exception, String traceback, String parent,
                                     List<String> children, Instant at) {
        return new TaskRecord(id, name, state, NODE, "celery", "[2, 3]", "{}", state == TaskState.SUCCESS ? "5" : null, exception,
                traceback, 1, at.minusSeconds(2), at.minusSeconds(1), at, 0.25, parent, parent, null, children,
                List.of(new TaskRecord.Step(TaskState.RECEIVED, at.minusSeconds(2), NODE, 0, null),
                        new TaskRecord.Step(TaskState.RETRY, at.minusMillis(1500), NODE, 1, "IOError: flaky"),
                        new TaskRecord.Step(state, at, NODE, 1, exception)));
    }

    @Test
    void everyPageRendersWithItsStableIdsAndEscapesWhatItShows() throws Exception {
        Config c = config("beat_schedule", "{\"tick\": {\"task\": \"add\", \"schedule\": 60, \"args\": [1, 2]}}");
        Instant now = Instant.now();
        try (TaskHistory h = io.celeriac.spi.Backends.openTaskHistory(c)) {
            h.record(List.of(
                    record("parent-1", "add", TaskState.SUCCESS, null, null, null, List.of("child-1"), now.minusSeconds(30)),
                    record("child-1", "add", TaskState.FAILURE, "ValueError: <script>alert(1)</script>",
                            "Traceback (most recent call last):\n  File \"x\", line 1\nValueError: <b>bad</b>", "parent-1", List.of(), now)));
        }
        start(c, true);
        await().atMost(WAIT).until(() -> get("/workers").body().contains("data-progressing=\"true\""));

        HttpResponse<String> overview = get("/");
        assertThat(overview.statusCode()).isEqualTo(200);
        secure(overview);
        assertThat(overview.body()).contains("id=\"workers-online\" data-count=\"1\"").contains("id=\"rates-chart\"")
                .contains("id=\"queues\"").contains("data-queue=\"celery\"").contains("id=\"dead-letters\" data-count=\"0\"")
                .contains("id=\"manager\"").contains("id=\"health\"").contains("<script src=\"/static/dashboard.js\">")
                .doesNotContainPattern("<script>(?!</script>)");
        assertThat(overview.body()).contains("from the stored task history");

        HttpResponse<String> workers = get("/workers");
        assertThat(workers.body()).contains("id=\"workers\"").contains("class=\"worker\" id=\"" + NODE + "\"")
                .contains("data-progressing=\"true\"").contains("pool").contains("threads").contains("class=\"pool-grow\"")
                .contains("class=\"shutdown danger\"");

        HttpResponse<String> tasks = get("/tasks");
        assertThat(tasks.body()).contains("id=\"task-search\"").contains("data-task-id=\"parent-1\" data-state=\"SUCCESS\"")
                .contains("data-task-id=\"child-1\" data-state=\"FAILURE\"");
        assertThat(get("/tasks?state=FAILURE").body()).contains("data-task-id=\"child-1\"").doesNotContain("data-task-id=\"parent-1\"");
        assertThat(get("/tasks?id=par").body()).contains("data-task-id=\"parent-1\"").doesNotContain("data-task-id=\"child-1\"");
        assertThat(get("/tasks?cursor=nonsense").body()).contains("id=\"search-error\"");

        HttpResponse<String> failed = get("/tasks/child-1");
        assertThat(failed.statusCode()).isEqualTo(200);
        assertThat(failed.body()).contains("id=\"traceback\"").contains("Traceback (most recent call last):")
                .contains("ValueError: &lt;script&gt;alert(1)&lt;/script&gt;").doesNotContain("<script>alert(1)")
                .contains("&lt;b&gt;bad&lt;/b&gt;").contains("id=\"timeline\"").contains("class=\"step\" data-state=\"RETRY\"")
                .contains("IOError: flaky").contains("class=\"parent\" data-task-id=\"parent-1\"").contains("href=\"/tasks/parent-1\"")
                .contains("id=\"revoke\"").contains("id=\"terminate\"").contains("id=\"resend\"");
        assertThat(get("/tasks/parent-1").body()).contains("class=\"child\" data-task-id=\"child-1\"").contains("id=\"result\"");
        assertThat(get("/tasks/nope").statusCode()).isEqualTo(404);

        assertThat(get("/queues").body()).contains("id=\"dlq\"").contains("id=\"dead-letter-list\"").contains("class=\"purge danger\"");
        HttpResponse<String> beat = get("/beat");
        assertThat(beat.body()).contains("id=\"beat-entries\"").contains("data-entry=\"tick\"").contains("id=\"leader\"");

        JsonNode rates = Json.read(get("/api/rates").body());
        assertThat(rates.get("minutes")).hasSize(DashboardSources.MINUTES);
        long succeeded = 0;
        long failures = 0;
        for (int i = 0; i < rates.get("succeeded").size(); i++) {
            succeeded += rates.get("succeeded").get(i).asLong();
            failures += rates.get("failed").get(i).asLong();
        }
        assertThat(succeeded).isEqualTo(1);
        assertThat(failures).isEqualTo(1);

        assertThat(get("/live/workers").body()).startsWith("<section id=\"workers\">");
        HttpResponse<String> js = get("/static/uplot.js");
        assertThat(js.statusCode()).isEqualTo(200);
        assertThat(js.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/javascript");
        assertThat(js.body()).contains("uPlot");
        assertThat(get("/static/dashboard.css").statusCode()).isEqualTo(200);
        assertThat(get("/static/../pom.xml").statusCode()).isEqualTo(404);
    }

    @Test
    void controlsWorkWithTheFormsTokenAndAreRefusedWithoutIt() throws Exception {
        start(config(), true);
        await().atMost(WAIT).until(() -> get("/workers").body().contains("class=\"pool-grow\""));
        String token = csrf(get("/workers"));
        Map<String, String> grow = Map.of("node", NODE, "action", "pool_grow", "n", "3");

        HttpResponse<String> noToken = post("/control/worker", grow);
        assertThat(noToken.statusCode()).isEqualTo(403);
        HttpResponse<String> wrong = post("/control/worker", Map.of("node", NODE, "action", "pool_grow", "n", "3", "csrf", token + "x"));
        assertThat(wrong.statusCode()).isEqualTo(403);
        HttpResponse<String> crossSite = post("/control/worker", Map.of("node", NODE, "action", "pool_grow", "n", "3", "csrf", token),
                "Origin", "http://evil.example");
        assertThat(crossSite.statusCode()).isEqualTo(403);
        assertThat(concurrency()).isEqualTo(2);

        HttpResponse<String> ok = post("/control/worker", Map.of("node", NODE, "action", "pool_grow", "n", "3", "csrf", token),
                "Origin", served.server.url().replaceAll("/$", ""));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(303);
        String location = ok.headers().firstValue("Location").orElseThrow();
        assertThat(location).startsWith("/workers?notice=");
        assertThat(get(location).body()).contains("id=\"notice\"").contains(NODE + ": pool will grow");
        assertThat(get("/workers?notice=%3Cb%3Eyou%20were%20hacked").body()).doesNotContain("id=\"notice\"").doesNotContain("hacked");
        assertThat(concurrency()).isEqualTo(5);

        HttpResponse<String> badRate = post("/control/worker", Map.of("node", NODE, "action", "rate_limit", "task", "add",
                "rate", "lots", "csrf", token));
        assertThat(badRate.statusCode()).isEqualTo(400);
        assertThat(badRate.body()).contains("bad rate limit 'lots'");

        // revoke a task that waits for its ETA: the broker records it, the worker marks it REVOKED when it comes
        String waiting = served.app.send("add", List.of(1, 2), Map.of(), SendOptions.options().withCountdown(Duration.ofSeconds(2))).id();
        HttpResponse<String> revoke = post("/control/task", Map.of("id", waiting, "action", "revoke", "csrf", token));
        assertThat(revoke.statusCode()).as(revoke.body()).isEqualTo(303);
        assertThat(served.app.coordination().revocations(Instant.EPOCH)).anyMatch(r -> r.taskId().equals(waiting));
        await().atMost(WAIT).until(() -> served.app.result(waiting).state().equals(TaskState.REVOKED));

        // the dead-letter queue: listed with its reason, replayed to its queue, purged only when confirmed
        String payload = "{\"body\": \"W10=\", \"headers\": {\"id\": \"dl-1\", \"task\": \"add\"}}";
        String letter = Json.write(Map.of("reason", "unknown task 'nope'", "queue", "parked", "task", "nope", "id", "dl-1",
                "node", NODE, "time", "2026-12-02T10:00:00+00:00", "delivery_count", 1, "payload", payload));
        served.app.broker().publish("celeriac.dead_letter", new BrokerMessage("dl-1", letter, 0, null));
        served.app.broker().publish("celeriac.dead_letter", new BrokerMessage("dl-2", letter.replace("dl-1", "dl-2"), 0, null));
        HttpResponse<String> queues = get("/queues");
        assertThat(queues.body()).contains("class=\"dead-letter\" data-task-id=\"dl-1\" data-queue=\"parked\"")
                .contains("unknown task &#39;nope&#39;").contains("id=\"dlq-count\" data-count=\"2\"");
        assertThat(served.app.broker().size("celeriac.dead_letter")).isEqualTo(2); // looking takes nothing away
        HttpResponse<String> replay = post("/control/deadletters", Map.of("action", "replay", "id", "dl-1", "csrf", token));
        assertThat(replay.statusCode()).as(replay.body()).isEqualTo(303);
        assertThat(served.app.broker().size("parked")).isEqualTo(1);
        assertThat(served.app.broker().size("celeriac.dead_letter")).isEqualTo(1);
        assertThat(post("/control/purge", Map.of("queue", "parked", "csrf", token)).statusCode()).isEqualTo(400);
        assertThat(served.app.broker().size("parked")).isEqualTo(1);
        assertThat(post("/control/purge", Map.of("queue", "parked", "confirm", "yes", "csrf", token)).statusCode()).isEqualTo(303);
        assertThat(served.app.broker().size("parked")).isZero();
        assertThat(post("/control/deadletters", Map.of("action", "replay_all", "csrf", token)).statusCode()).isEqualTo(303);
        assertThat(served.app.broker().size("parked")).isEqualTo(1);
        assertThat(served.app.broker().size("celeriac.dead_letter")).isZero();

        HttpResponse<String> shutdown = post("/control/worker", Map.of("node", NODE, "action", "shutdown", "csrf", token));
        assertThat(shutdown.statusCode()).isEqualTo(303);
        assertThat(served.worker.awaitTermination(WAIT)).isTrue();
    }

    @Test
    void readOnlyShowsNoControlsAndRefusesThem() throws Exception {
        start(config("dashboard_read_only", "true"), true);
        await().atMost(WAIT).until(() -> get("/workers").body().contains("data-node=\"" + NODE + "\""));
        for (String page : List.of("/", "/workers", "/queues", "/tasks", "/beat")) {
            HttpResponse<String> r = get(page);
            assertThat(r.body()).as(page).doesNotContain("action=\"/control/").doesNotContain("name=\"csrf\"").contains("id=\"read-only\"");
        }
        HttpResponse<String> refused = post("/control/worker", Map.of("node", NODE, "action", "shutdown"));
        assertThat(refused.statusCode()).isEqualTo(403);
        assertThat(refused.body()).contains("read-only");
        assertThat(concurrency()).isEqualTo(2);
    }

    @Test
    void aBearerTokenIsAskedOfEveryRequestButTheLivenessProbe() throws Exception {
        String token = "s3cret-token-0123456789";
        start(config("dashboard_auth", "bearer:" + token, "dashboard_bind", "0.0.0.0"), false);
        HttpResponse<String> anonymous = get("/");
        assertThat(anonymous.statusCode()).isEqualTo(401);
        secure(anonymous);
        assertThat(anonymous.body()).contains("action=\"/login\"").doesNotContain(token);
        assertThat(get("/api/overview").statusCode()).isEqualTo(401);
        assertThat(get("/", "Authorization", "Bearer wrong-token-0123456789").statusCode()).isEqualTo(401);
        assertThat(get("/health/live").statusCode()).isEqualTo(200);
        assertThat(post("/control/purge", Map.of("queue", "celery", "confirm", "yes")).statusCode()).isEqualTo(401);

        HttpResponse<String> withHeader = get("/tasks", "Authorization", "Bearer " + token);
        assertThat(withHeader.statusCode()).isEqualTo(200);
        assertThat(withHeader.body()).doesNotContain(token);

        assertThat(post("/login", Map.of("token", "wrong")).statusCode()).isEqualTo(401);
        HttpResponse<String> login = post("/login", Map.of("token", token));
        assertThat(login.statusCode()).isEqualTo(303);
        String cookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(cookie).contains("HttpOnly").contains("SameSite=Strict").doesNotContain(token);
        HttpResponse<String> signedIn = get("/queues", "Cookie", cookie.substring(0, cookie.indexOf(';')));
        assertThat(signedIn.statusCode()).isEqualTo(200);
        // signed in, a control POST still needs the form's token
        assertThat(post("/control/purge", Map.of("queue", "celery", "confirm", "yes"), "Cookie", cookie.substring(0, cookie.indexOf(';')))
                .statusCode()).isEqualTo(403);
    }

    @Test
    void basicAuthChecksThePasswordAgainstItsPbkdf2Hash() throws Exception {
        String hash = PasswordHash.hash("correct horse".toCharArray());
        assertThat(hash).startsWith("pbkdf2-sha256$600000$");
        assertThat(PasswordHash.verify("correct horse".toCharArray(), hash)).isTrue();
        assertThat(PasswordHash.verify("wrong horse".toCharArray(), hash)).isFalse();
        start(config("dashboard_auth", "basic:ops:" + hash), false);
        HttpResponse<String> anonymous = get("/");
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.headers().firstValue("WWW-Authenticate").orElseThrow()).startsWith("Basic ");
        String good = "Basic " + Base64.getEncoder().encodeToString("ops:correct horse".getBytes(StandardCharsets.UTF_8));
        String bad = "Basic " + Base64.getEncoder().encodeToString("ops:wrong horse".getBytes(StandardCharsets.UTF_8));
        String otherUser = "Basic " + Base64.getEncoder().encodeToString("root:correct horse".getBytes(StandardCharsets.UTF_8));
        assertThat(get("/", "Authorization", bad).statusCode()).isEqualTo(401);
        assertThat(get("/", "Authorization", otherUser).statusCode()).isEqualTo(401);
        assertThat(get("/", "Authorization", good).statusCode()).isEqualTo(200);
        assertThat(get("/workers", "Authorization", good).statusCode()).isEqualTo(200);
    }

    @Test
    void aNonLoopbackBindWithoutAuthAndMalformedAuthAreRefused() {
        assertThatThrownBy(() -> DashboardConfig.of(config("dashboard_bind", "0.0.0.0"), null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("dashboard_bind 0.0.0.0 is not a loopback address");
        assertThatThrownBy(() -> DashboardConfig.of(config("dashboard_auth", "basic:ops:plaintext"), null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("basic:USER:HASH");
        assertThatThrownBy(() -> DashboardConfig.of(config("dashboard_auth", "bearer:short"), null))
                .isInstanceOf(ConfigException.class).hasMessageContaining("at least 16");
        assertThat(DashboardConfig.of(config(), 7777).port()).isEqualTo(7777);
    }

    @Test
    void withoutTheTaskHistoryThePagesSaySo() throws Exception {
        start(config("task_history", "false"), false);
        assertThat(get("/tasks").body()).contains("id=\"history-off\"").contains("task_history is off");
        assertThat(get("/tasks/abc").body()).contains("id=\"history-off\"");
        assertThat(get("/").body()).contains("heartbeat counters");
    }
}
