package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskRevokedException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code celeriac control} against live worker processes on one SQLite file. */
@Tag("chaos")
@Timeout(240)
class ControlProcessTest {
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private String url() {
        return "sqlite:" + dir.resolve("control.db");
    }

    private ChildJvm worker(String name, String pool, int concurrency) throws Exception {
        return processes.worker(dir, url(), name, "-P", pool, "-c", Integer.toString(concurrency), "--loglevel", "INFO");
    }

    private CliRun cli(String... args) {
        List<String> a = new ArrayList<>(List.of(args));
        a.addAll(List.of("--broker", url()));
        if (a.contains("-d")) {
            a.addAll(List.of("--timeout", "10")); // a named worker's reply ends the wait: the time-out only matters on a loaded machine
        }
        return CliRun.of(a.toArray(String[]::new));
    }

    private JsonNode stats(String node) throws Exception {
        CliRun r = cli("inspect", "stats", "-d", node, "--json");
        assertThat(r.code()).as(r.err()).isZero();
        return Json.read(r.out()).get(node);
    }

    private Celeriac client() {
        return Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry());
    }

    @Test
    void poolGrowAndShrinkRateAndTimeLimitsRevokeConsumersAndShutdownTakeEffectOnLiveWorkers() throws Exception {
        ChildJvm w = worker("t", "threads", 2);
        String node = "t@" + TaskMessage.hostName();
        await().atMost(WAIT).until(() -> cli("inspect", "ping").out().contains(node));

        // pool-grow / pool-shrink change what stats reports
        CliRun grow = cli("control", "pool-grow", "2", "-d", node);
        assertThat(grow.code()).as(grow.err()).isZero();
        assertThat(grow.out()).contains("-> " + node + ": OK pool will grow");
        assertThat(stats(node).path("concurrency").asInt()).isEqualTo(4);
        assertThat(stats(node).path("prefetch_count").asInt()).isEqualTo(16);
        assertThat(cli("control", "pool-shrink", "-d", node).out()).contains("OK pool will shrink");
        assertThat(stats(node).path("concurrency").asInt()).isEqualTo(3);

        try (Celeriac client = client()) {
            // rate-limit 5/s: a burst of 50 starts over about 10 s
            CliRun rate = cli("control", "rate-limit", "add", "5/s");
            assertThat(rate.out()).contains("OK new rate limit set successfully");
            List<AsyncResult> burst = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                burst.add(client.send("add", i, i));
            }
            Instant first = null;
            Instant last = null;
            for (AsyncResult r : burst) {
                r.get(WAIT);
                TaskResult tr = client.results().get(r.id()).orElseThrow();
                first = first == null || tr.dateDone().isBefore(first) ? tr.dateDone() : first;
                last = last == null || tr.dateDone().isAfter(last) ? tr.dateDone() : last;
            }
            double span = Duration.between(first, last).toMillis() / 1000.0;
            System.out.printf("rate-limit 5/s: 50 tasks over %.2f s%n", span);
            assertThat(span).as("50 starts at 5/s are 9.8 s apart end to end").isBetween(8.5, 16.0);
            assertThat(cli("control", "rate-limit", "add", "0").out()).contains("rate limit disabled successfully");

            // time-limit: sleep gets a hard limit of 1 s
            assertThat(cli("control", "time-limit", "sleep", "0", "1").out()).contains("OK time limits set successfully");
            AsyncResult slow = client.send("sleep", 5);
            assertThatThrownBy(() -> slow.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class,
                    e -> assertThat(e.excType()).isEqualTo("TimeLimitExceeded"));

            // revoke: a queued (countdown) task never runs
            AsyncResult later = client.send("add", List.of(1, 1), Map.of(), SendOptions.options().withCountdown(Duration.ofSeconds(2)));
            assertThat(cli("control", "revoke", later.id()).out()).contains("flagged as revoked");
            assertThatThrownBy(() -> later.get(WAIT)).isInstanceOf(TaskRevokedException.class);

            // add-consumer / cancel-consumer
            AsyncResult elsewhere = client.send("add", List.of(20, 22), Map.of(), SendOptions.options().withQueue("extra"));
            Thread.sleep(1000);
            assertThat(client.results().get(elsewhere.id())).isEmpty();
            assertThat(cli("control", "add-consumer", "extra").out()).contains("OK add consumer extra");
            assertThat(elsewhere.get(WAIT).asInt()).isEqualTo(42);
            assertThat(stats(node).path("queues").toString()).contains("extra");
            assertThat(cli("control", "cancel-consumer", "extra").out()).contains("OK no longer consuming from extra");
            assertThat(stats(node).path("queues").toString()).doesNotContain("extra");
        }

        // a bad argument is refused by the worker, plainly
        CliRun unknownTask = cli("control", "rate-limit", "no_such_task", "1/s");
        assertThat(unknownTask.code()).isEqualTo(1);
        assertThat(unknownTask.out()).contains("ERROR unknown task 'no_such_task'");

        // shutdown: warm, the process exits 0
        assertThat(cli("control", "shutdown", "-d", node).out()).contains("OK shutting down");
        assertThat(w.waitFor(60)).isTrue();
        assertThat(w.exitCode()).isZero();
    }

    @Test
    void poolGrowOnTheProcessPoolStartsAChild() throws Exception {
        worker("p", "process", 1);
        String node = "p@" + TaskMessage.hostName();
        await().atMost(WAIT).until(() -> cli("inspect", "ping").out().contains(node));
        await().atMost(WAIT).until(() -> stats(node).path("pool_stats").path("processes").size() == 1);
        assertThat(cli("control", "pool-grow", "1").out()).contains("OK pool will grow");
        await().atMost(WAIT).until(() -> stats(node).path("pool_stats").path("processes").size() == 2);
        try (Celeriac client = client()) {
            assertThat(client.send("add", 2, 3).get(WAIT).asInt()).isEqualTo(5);
        }
        assertThat(cli("control", "pool-shrink", "1").out()).contains("OK pool will shrink");
        await().atMost(WAIT).until(() -> stats(node).path("pool_stats").path("processes").size() == 1);
    }

    @Test
    void badInputIsOneLineAndExitTwoAndNoWorkerIsExitOne() {
        for (String[] bad : new String[][] {{"control", "reboot"}, {"control", "rate-limit", "add", "fast"},
                {"control", "pool-grow", "-3"}, {"control", "time-limit", "sleep", "5", "2"}, {"control", "revoke"}}) {
            CliRun r = cli(bad);
            assertThat(r.code()).as(String.join(" ", bad)).isEqualTo(2);
            assertThat(r.err().strip()).as(String.join(" ", bad)).startsWith("celeriac: ").doesNotContain("\n");
        }
        assertThat(cli("control", "reboot").err()).contains("unknown control command 'reboot'");
        assertThat(cli("control", "rate-limit", "add", "fast").err()).contains("bad rate limit 'fast'");
        CliRun stranger = cli("control", "shutdown", "-d", "ghost@nowhere");
        assertThat(stranger.code()).isEqualTo(2);
        assertThat(stranger.err().strip()).contains("no worker named 'ghost@nowhere' answered").doesNotContain("\n");
        CliRun nobody = cli("control", "shutdown");
        assertThat(nobody.code()).isEqualTo(1);
        assertThat(nobody.err()).contains("no worker answered");
    }
}
