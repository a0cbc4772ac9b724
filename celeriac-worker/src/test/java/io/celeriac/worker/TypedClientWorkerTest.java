package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Apps;
import io.celeriac.AsyncResult;
import io.celeriac.Canvas;
import io.celeriac.Celeriac;
import io.celeriac.ResultTypeException;
import io.celeriac.SendOptions;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRef;
import io.celeriac.TaskRegistry;
import io.celeriac.TypeRef;
import io.celeriac.TypedResult;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.worker.TypedTestApp.Facts;
import io.celeriac.worker.TypedTestApp.Report;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The typed client against a real worker on a real SQLite file, in both pools (real child JVMs
 * for the process pool): the worker registers the implementation of {@link Facts} under the
 * interface's names, a client with no tasks of its own calls them through the interface and
 * {@link TaskRef}s, and a call by name, as a Python client makes it, reaches the same tasks.
 */
@Tag("integration")
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class TypedClientWorkerTest {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final TaskRef<Long> ADD = TaskRef.of("typed.add", Long.class);
    private static final TaskRef<List<Report>> SCRAPE_ALL = TaskRef.of("typed.scrape_all", new TypeRef<List<Report>>() {});

    @TempDir
    Path dir;

    private Celeriac workerApp;
    private Celeriac client;
    private Worker worker;

    private void start(String pool) {
        Config c = Config.builder()
                .set(Settings.BROKER_URL, "sqlite:" + dir.resolve("typed.db"))
                .set(Settings.APP, TypedTestApp.class.getName())
                .set(Settings.WORKER_POOL, pool)
                .set(Settings.WORKER_CONCURRENCY, 2)
                .set(Settings.WORKER_HOSTNAME, "typed@host")
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(200))
                .build();
        TaskRegistry registry = Apps.load(c);
        workerApp = Celeriac.open(c, registry);
        worker = new Worker(WorkerOptions.from(c), registry, workerApp.broker(), workerApp.results(), Clock.systemUTC());
        worker.start();
        // the client knows no tasks, as one in another process (or language) would
        client = Celeriac.open(c.toBuilder().set(Settings.APP, "").build(), new TaskRegistry());
    }

    @AfterEach
    void stop() throws Exception {
        if (worker != null) {
            worker.shutdownNow();
            worker.awaitTermination(WAIT);
        }
        if (client != null) {
            client.close();
        }
        if (workerApp != null) {
            workerApp.close();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads", "process"})
    void theInterfacesCallsRunOnTheWorkerAndReturnTypedValues(String pool) {
        start(pool);
        Facts facts = client.client(Facts.class);
        assertThat(facts.add(20, 22)).isEqualTo(42L);
        assertThat(facts.scrape("wire-agency", 5)).isEqualTo(new Report("wire-agency", 5, "typed@host"));
        assertThat(facts.scrape("fact-db", null)).isEqualTo(new Report("fact-db", 7, "typed@host")); // kwarg left out
        List<Report> all = facts.scrapeAll(List.of("a", "bb"));
        assertThat(all).containsExactly(new Report("a", 1, "typed@host"), new Report("bb", 2, "typed@host"));
        assertThatThrownBy(() -> facts.fail("source down")).isInstanceOf(TaskFailedException.class)
                .hasMessageContaining("source down");
        TypedResult<Report> later = TypedResult.async(facts, f -> f.scrape("local-news", 3));
        assertThat(later.get(WAIT)).isEqualTo(new Report("local-news", 3, "typed@host"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads"})
    void taskRefsSendWithOptionsAndComposeIntoAChainOnTheWorker(String pool) {
        start(pool);
        Instant sent = Instant.now();
        TypedResult<Long> delayed = ADD.apply(client, SendOptions.options().withCountdown(Duration.ofMillis(500)), 1, 2);
        assertThat(delayed.get(WAIT)).isEqualTo(3L);
        assertThat(delayed.untyped().meta().orElseThrow().dateDone()).isAfterOrEqualTo(sent.plusMillis(500));
        AsyncResult chain = client.apply(Canvas.chain(ADD.s(1, 2), ADD.s(10), ADD.s(100)));
        assertThat(ADD.result(client, chain).get(WAIT)).isEqualTo(113L);
        assertThat(SCRAPE_ALL.delay(client, List.of("abc")).get(WAIT)).containsExactly(new Report("abc", 3, "typed@host"));
        // declared wrong: the worker's value does not fit, and the client says so in one line
        TypedResult<Report> wrong = TaskRef.of("typed.add", Report.class).delay(client, 1, 1);
        assertThatThrownBy(() -> wrong.get(WAIT)).isInstanceOf(ResultTypeException.class)
                .hasMessageStartingWith("task 'typed.add' [" + wrong.id() + "]: its result 2 is not Report");
    }

    @ParameterizedTest
    @ValueSource(strings = {"threads"})
    void aCallByNameAsAPythonClientMakesItRunsTheSameTask(String pool) {
        start(pool);
        // what Python's app.send_task("typed.scrape", args=["wire"], kwargs={"claims": 9}) sends
        JsonNode r = client.send("typed.scrape", List.of("wire"), Map.of("claims", 9), SendOptions.NONE).get(WAIT);
        assertThat(r.get("source").asText()).isEqualTo("wire");
        assertThat(r.get("claims").asInt()).isEqualTo(9);
        assertThat(client.send("typed.add", 2, 3).get(WAIT).asLong()).isEqualTo(5L);
        // by keyword only: the implementation's parameters carry the interface's names (compiled with -parameters)
        JsonNode k = client.send("typed.add", List.of(), Map.of("x", 4, "y", 5), SendOptions.NONE).get(WAIT);
        assertThat(k.asLong()).isEqualTo(9L);
    }
}
