package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.ChildJvm;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code celeriac inspect} against live worker processes on one SQLite file. */
@Tag("chaos")
@Timeout(180)
class InspectProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();

    private String url() {
        return "sqlite:" + dir.resolve("inspect.db");
    }

    private ChildJvm worker(String name) throws Exception {
        return processes.worker(dir, url(), name, "-P", "threads", "-c", "2", "--loglevel", "WARNING");
    }

    private CliRun inspect(String... args) {
        List<String> a = new ArrayList<>(List.of("inspect", "--broker", url()));
        a.addAll(List.of(args));
        return CliRun.of(a.toArray(String[]::new));
    }

    @Test
    void pingActiveRegisteredAndStatsFromLiveWorkersAndAKilledOneIsAbsent() throws Exception {
        ChildJvm a = worker("a");
        ChildJvm b = worker("b");
        String host = io.celeriac.protocol.TaskMessage.hostName();
        String na = "a@" + host;
        String nb = "b@" + host;
        await().atMost(Duration.ofSeconds(60)).until(() -> inspect("ping").out().contains("2 nodes online"));
        CliRun ping = inspect("ping");
        assertThat(ping.code()).isZero();
        assertThat(ping.out()).contains("-> " + na + ": OK", "-> " + nb + ": OK", "pong");

        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry())) {
            AsyncResult slow = client.send("sleep", 3.0);
            JsonNode[] running = new JsonNode[1];
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                CliRun r = inspect("active", "--json");
                JsonNode doc = Json.read(r.out());
                for (JsonNode tasks : doc) {
                    for (JsonNode t : tasks) {
                        if (t.path("id").asText().equals(slow.id())) {
                            running[0] = t;
                            return true;
                        }
                    }
                }
                return false;
            });
            assertThat(running[0].path("name").asText()).isEqualTo("sleep");
            assertThat(running[0].path("args").size()).isEqualTo(1);
            assertThat(running[0].path("args").get(0).asDouble()).isEqualTo(3.0);
            assertThat(running[0].path("time_start").asDouble()).isGreaterThan(0);
            assertThat(running[0].path("worker_pid").asLong()).isIn(a.pid(), b.pid());
            CliRun watch = CliRun.of("watch", "--broker", url(), "--count", "1");
            assertThat(watch.code()).isZero();
            assertThat(watch.out()).contains("WORKER", "sleep", slow.id(), "1 task running on 2 workers", "- idle -");
            CliRun human = inspect("active");
            assertThat(human.out()).contains("sleep[" + slow.id() + "] args=[3", "running");
            CliRun where = inspect("query_task", slow.id(), "--json");
            assertThat(Json.read(where.out()).toString()).contains("[\"active\",{\"id\":\"" + slow.id());
            assertThat(inspect("active_queues").out()).contains("* celery (exchange celery, routing key celery)");
            assertThat(inspect("clock").out()).contains("clock: ");
            assertThat(inspect("query_task").code()).isEqualTo(2);
            slow.get(Duration.ofSeconds(30));
        }

        try (Celeriac client = Celeriac.open(Config.builder().set(Settings.BROKER_URL, url()).build(), new TaskRegistry())) {
            AsyncResult later = client.send("add", List.of(4, 5), Map.of(),
                    io.celeriac.SendOptions.options().withCountdown(Duration.ofSeconds(30)));
            CliRun scheduled = inspect("scheduled", "-d", na);
            assertThat(scheduled.code()).isZero();
            assertThat(scheduled.out()).contains("* add[" + later.id() + "] eta ", "args=[4,5]");
            client.revoke(later.id(), false);
        }

        CliRun registered = inspect("registered", "-d", na);
        assertThat(registered.code()).isZero();
        assertThat(registered.out()).contains("-> " + na + ": OK", "* add", "* sleep").doesNotContain(nb);

        JsonNode stats = Json.read(inspect("stats", "--json").out()).get(na);
        assertThat(stats.path("pid").asLong()).isEqualTo(a.pid());
        assertThat(stats.path("uptime").asLong()).isGreaterThanOrEqualTo(0);
        assertThat(stats.path("pool_description").asText()).startsWith("threads");
        assertThat(stats.path("pool").path("max-concurrency").asInt()).isEqualTo(2); // Celery's shape
        assertThat(stats.path("prefetch_count").asInt()).isEqualTo(8);
        assertThat(stats.path("broker").path("virtual_host").asText()).contains("inspect.db");
        assertThat(stats.path("broker").path("transport").asText()).isEqualTo("sqlite");
        assertThat(stats.path("rusage").path("maxrss").asLong()).isGreaterThan(0);

        b.kill9();
        CliRun afterKill = inspect("ping", "--timeout", "1");
        assertThat(afterKill.code()).isZero();
        assertThat(afterKill.out()).contains("-> " + na + ": OK", "1 node online", "No answer from: " + nb)
                .doesNotContain("-> " + nb);
    }

    @Test
    void badInputIsOneLineAndExitTwoAndNoWorkerIsExitOne() {
        CliRun unknown = inspect("frobnicate");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err().strip()).contains("unknown inspect method 'frobnicate'").doesNotContain("\n");

        CliRun none = inspect("ping");
        assertThat(none.code()).isEqualTo(1);
        assertThat(none.err()).contains("no worker answered within");

        CliRun nobody = inspect("ping", "-d", "ghost@nowhere");
        assertThat(nobody.code()).isEqualTo(2);
        assertThat(nobody.err().strip()).contains("no worker named 'ghost@nowhere' answered").doesNotContain("\n");

        CliRun badTimeout = inspect("ping", "--timeout", "-1");
        assertThat(badTimeout.code()).isEqualTo(2);
    }
}
