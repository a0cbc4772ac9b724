package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.testkit.Browser;
import io.celeriac.testkit.ChildJvm;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.WebElement;

/**
 * The dashboard in a real headless Chromium ({@link Browser}): a {@code celeriac dashboard} process
 * and a worker process on one SQLite file with the task history on. The pages are read by their
 * stable ids ({@code workers-online}, {@code worker-list}, {@code history-count}, {@code task} with
 * {@code data-state}, {@code traceback}, {@code revoke}, {@code dead-letter-list}, …).
 * {@link #screenshotsOfEveryPage} writes the README's screenshots: run it with
 * {@code -Dscreenshots.dir=$PWD/docs/screenshots} to refresh them.
 */
@Tag("chaos")
@Timeout(240)
class DashboardBrowserTest {
    private static final Duration LONG = Duration.ofSeconds(60);
    private static final String TOKEN = "browser-test-token-0123456789";

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private Browser browser;
    private int port;
    private ChildJvm dashboard;

    @BeforeEach
    void browser() throws Exception {
        assertThat(Browser.available()).as("Debian's chromium and chromium-driver (run-tests installs them)").isTrue();
        browser = processes.closeAfter(Browser.start(Browser.DESKTOP));
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
    }

    private String url() {
        return "sqlite:" + dir.resolve("dash.db");
    }

    private String base() {
        return "http://127.0.0.1:" + port;
    }

    private ChildJvm worker(String name, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("-P", "threads", "-c", "2", "--loglevel", "WARNING", "--set", "task_history=true"));
        args.addAll(List.of(extra));
        return processes.worker(dir, url(), name, args.toArray(String[]::new));
    }

    /** {@code celeriac dashboard} on {@link #port}, with {@code extra} arguments; waits until it answers. */
    private ChildJvm dashboard(String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("dashboard", "--broker", url(), "--port", Integer.toString(port),
                "--set", "task_history=true", "--loglevel", "WARNING"));
        args.addAll(List.of(extra));
        dashboard = processes.start(dir.resolve("dashboard-" + System.nanoTime() + ".log"), args);
        CliProcesses.until(await().atMost(LONG), List.of(dashboard), () -> {
            try {
                return get("/health/live").statusCode() == 200;
            } catch (java.io.IOException e) {
                return false;
            }
        });
        return dashboard;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private Celeriac client() {
        Celeriac app = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry());
        processes.closeAfter(app);
        return app;
    }

    private static String node(String name) {
        return name + "@" + TaskMessage.hostName();
    }

    private long count(String id) {
        return Long.parseLong(browser.byId(id).getAttribute("data-count"));
    }

    @Test
    void overviewShowsALiveWorkerAndItsCountsRiseWithoutAReload() throws Exception {
        worker("live");
        dashboard();
        Celeriac app = client();
        browser.open(base() + "/");
        browser.await(LONG, d -> count("workers-online") == 1);
        String li = "#worker-list li.worker[data-node='" + node("live") + "']";
        browser.await(LONG, d -> !browser.all(li + "[data-online='true']").isEmpty());
        long stored = count("history-count");
        String before = browser.all(li).get(0).getText();
        assertThat(before).contains("0 done");

        List<AsyncResult> sent = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            sent.add(app.send("add", i, i));
        }
        for (AsyncResult r : sent) {
            r.get(LONG);
        }
        String marker = browser.byId("live").getAttribute("data-live");
        // the live part refreshes by itself: no navigation from here on
        browser.await(LONG, d -> count("history-count") >= stored + 5 && browser.all(li).get(0).getText().contains("5 done"));
        assertThat(browser.driver().getCurrentUrl()).isEqualTo(base() + "/");
        assertThat(browser.byId("live").getAttribute("data-live")).isEqualTo(marker);
        // the chart counts them too
        browser.await(LONG, d -> Long.parseLong(browser.byId("rates-chart").getAttribute("data-succeeded") == null ? "0"
                : browser.byId("rates-chart").getAttribute("data-succeeded")) >= 5);
    }

    @Test
    void aFailedTasksPageShowsItsTraceback() throws Exception {
        worker("fails");
        dashboard();
        AsyncResult r = client().send("fail", "the source is down");
        await().atMost(LONG).until(r::ready);
        browser.open(base() + "/tasks/" + r.id());
        browser.await(LONG, d -> {
            if (browser.all("#task").isEmpty()) {
                d.navigate().refresh(); // the history is written off the task's path: a moment after the result
                return false;
            }
            return "FAILURE".equals(browser.byId("task").getAttribute("data-state"));
        });
        assertThat(browser.byId("exception").getText()).contains("FactCheckError", "the source is down");
        assertThat(browser.byId("traceback").getText()).contains("FactCheckError", "the source is down", "at io.celeriac.examples.FactCheckApp.fail");
        // and the list finds it by state
        browser.open(base() + "/tasks?state=FAILURE");
        assertThat(browser.all("#tasks tr.task[data-task-id='" + r.id() + "'][data-state='FAILURE']")).hasSize(1);
    }

    /**
     * A task waiting out its countdown: scrape_all_sources that always meets a timeout and retries
     * after 1 s, 2 s, 4 s (the worker records RETRY, then the message waits for its ETA in the
     * broker). Revoked from its page while it waits, its next delivery is not run: REVOKED.
     */
    @Test
    void revokeOnAWaitingCountdownTaskMakesItRevoked() throws Exception {
        worker("retrier");
        dashboard();
        Celeriac app = client();
        AsyncResult waiting = app.send("scrape_all_sources", List.of(), Map.of("failure_rate", 1.0), SendOptions.NONE);
        browser.open(base() + "/tasks/" + waiting.id());
        browser.await(LONG, d -> {
            if (browser.all("#task").isEmpty()) {
                d.navigate().refresh();
                return false;
            }
            return "RETRY".equals(browser.byId("task").getAttribute("data-state"));
        });
        browser.byId("revoke").click();
        browser.await(LONG, d -> d.getCurrentUrl().contains("notice="));
        assertThat(browser.byId("notice").getText()).containsIgnoringCase("revoke");
        browser.await(LONG, d -> "REVOKED".equals(browser.byId("task").getAttribute("data-state")));
        await().atMost(LONG).until(() -> waiting.state() == TaskState.REVOKED);
    }

    @Test
    void aDeadLetterReplayedFromTheQueuesPageRuns() throws Exception {
        ChildJvm stranger = worker("stranger", "--app", OwnAddApp.class.getName()); // knows no task 'noop'
        dashboard();
        Celeriac app = client();
        AsyncResult r = app.send("noop");
        await().atMost(LONG).until(r::ready); // NotRegistered: FAILURE, and the message dead-lettered
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
        stranger.close();
        worker("knows"); // the example app: 'noop' is known here

        browser.open(base() + "/queues");
        String row = "#dead-letter-list tr.dead-letter[data-task-id='" + r.id() + "']";
        browser.await(LONG, d -> !browser.all(row).isEmpty());
        assertThat(browser.all(row).get(0).findElement(org.openqa.selenium.By.cssSelector(".reason")).getText()).isNotBlank();
        browser.all(row + " button.replay").get(0).click();
        browser.await(LONG, d -> d.getCurrentUrl().contains("notice="));
        assertThat(browser.byId("notice").getText()).contains("replayed task " + r.id());
        await().atMost(LONG).until(() -> r.state() == TaskState.SUCCESS);
        browser.await(LONG, d -> browser.all(row).isEmpty());
    }

    @Test
    void theTaskHistoryIsStillListedAfterTheDashboardRestarts() throws Exception {
        worker("kept");
        ChildJvm first = dashboard();
        Celeriac app = client();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            AsyncResult r = app.send("add", i, 10);
            r.get(LONG);
            ids.add(r.id());
        }
        browser.open(base() + "/tasks");
        browser.await(LONG, d -> {
            d.navigate().refresh();
            return ids.stream().allMatch(id -> !browser.all("#tasks tr.task[data-task-id='" + id + "']").isEmpty());
        });
        first.close(); // gone, and its memory with it
        dashboard();
        browser.open(base() + "/tasks");
        for (String id : ids) {
            assertThat(browser.all("#tasks tr.task[data-task-id='" + id + "'][data-state='SUCCESS']")).as(id).hasSize(1);
        }
    }

    @Test
    void withANonLoopbackBindARequestWithoutCredentialsAndAPostWithoutTheCsrfTokenAreRefused() throws Exception {
        worker("guarded");
        dashboard("--bind", "0.0.0.0", "--set", "dashboard_auth=bearer:" + TOKEN);
        Celeriac app = client();
        AsyncResult waiting = app.send("add", List.of(1, 1), Map.of(), SendOptions.options().withCountdown(Duration.ofSeconds(1)));
        waiting.get(LONG);

        assertThat(get("/").statusCode()).isEqualTo(401);
        assertThat(get("/tasks").statusCode()).isEqualTo(401);
        assertThat(get("/metrics").statusCode()).isEqualTo(401);
        assertThat(get("/health/ready").statusCode()).isEqualTo(200); // probes stay open

        browser.open(base() + "/");
        assertThat(browser.all("#login")).hasSize(1);
        assertThat(browser.all("#workers-online")).isEmpty();
        browser.driver().findElement(org.openqa.selenium.By.name("token")).sendKeys("not the token at all");
        browser.driver().findElement(org.openqa.selenium.By.cssSelector("#login button")).click();
        // the click submits the form; the answer is a new page, which may not be loaded when click returns
        browser.await(LONG, d -> !browser.all("#login-problem").isEmpty());
        assertThat(browser.byId("login-problem").getText()).contains("wrong token");
        browser.driver().findElement(org.openqa.selenium.By.name("token")).sendKeys(TOKEN);
        browser.driver().findElement(org.openqa.selenium.By.cssSelector("#login button")).click();
        browser.await(LONG, d -> !browser.all("#workers-online").isEmpty());

        // a control form whose CSRF token is taken away: refused, and the task is not revoked
        browser.open(base() + "/tasks/" + waiting.id());
        browser.await(LONG, d -> {
            if (browser.all("#revoke").isEmpty()) {
                d.navigate().refresh();
                return false;
            }
            return true;
        });
        WebElement form = browser.byId("revoke").findElement(org.openqa.selenium.By.xpath("./ancestor::form"));
        ((org.openqa.selenium.JavascriptExecutor) browser.driver()).executeScript(
                "arguments[0].querySelector('input[name=csrf]').remove()", form);
        browser.byId("revoke").click();
        browser.await(LONG, d -> d.getPageSource().contains("CSRF"));
        assertThat(browser.driver().getPageSource()).contains("refused: missing or wrong CSRF token");
        // the same POST from outside the browser, with the bearer token but no CSRF token
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(base() + "/control/task"))
                .header("Authorization", "Bearer " + TOKEN).header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("action=revoke&id=" + waiting.id())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(post.statusCode()).isEqualTo(403);
        assertThat(app.coordination().revocations(java.time.Instant.EPOCH)).noneMatch(rv -> rv.taskId().equals(waiting.id()));
    }

    /**
     * Every page at a desktop and at a phone's width, into {@code screenshots.dir} (default
     * {@code target/screenshots}): the README's pictures.
     */
    @Test
    void screenshotsOfEveryPage() throws Exception {
        Path out = Path.of(System.getProperty("screenshots.dir", "target/screenshots"));
        worker("fact-checker");
        processes.start(dir.resolve("beat.log"), List.of("beat", "--broker", url(), "--set", "health_check_interval=5s",
                "--loglevel", "WARNING"));
        dashboard();
        Celeriac app = client();
        List<AsyncResult> sent = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            sent.add(app.send("add", i, 2 * i));
        }
        sent.add(app.send("scrape_all_sources"));
        AsyncResult failed = app.send("fail", "source https://example.org/feed answered 503");
        sent.add(failed);
        sent.add(app.send("no_such_task")); // a dead letter
        await().atMost(LONG).until(() -> sent.stream().allMatch(AsyncResult::ready));
        browser.open(base() + "/");
        browser.await(LONG, d -> !browser.all("#health-runs li").isEmpty() && count("workers-online") == 1);
        Map<String, String> pages = new java.util.LinkedHashMap<>();
        pages.put("overview", "/");
        pages.put("workers", "/workers");
        pages.put("tasks", "/tasks");
        pages.put("task", "/tasks/" + failed.id());
        pages.put("queues", "/queues");
        pages.put("beat", "/beat");
        Map<String, Dimension> sizes = new java.util.LinkedHashMap<>();
        sizes.put("desktop", Browser.DESKTOP);
        sizes.put("phone", Browser.PHONE);
        for (Map.Entry<String, Dimension> size : sizes.entrySet()) {
            browser.resize(size.getValue());
            for (Map.Entry<String, String> p : pages.entrySet()) {
                browser.open(base() + p.getValue());
                browser.await(LONG, d -> !browser.all("#live").isEmpty());
                Thread.sleep(p.getKey().equals("overview") ? 1500 : 300); // the chart draws after its data comes
                Path file = browser.screenshot(out.resolve("dashboard-" + p.getKey() + (size.getKey().equals("phone") ? "-phone" : "") + ".png"));
                assertThat(Files.size(file)).isGreaterThan(5_000);
            }
        }
    }
}
