package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.PostgresServer;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real worker processes on a real PostgreSQL server (started by the test, on a free port): one
 * worker killed with SIGKILL, then the server stopped for 8 s mid-run; nothing is lost, the
 * workers carry on, and a client sending during the outage sends once the server is back.
 */
@Tag("chaos")
@Timeout(400)
class PostgresWorkerProcessTest {
    @TempDir
    Path dir;

    @RegisterExtension
    final CliProcesses processes = new CliProcesses();
    private final List<ChildJvm> workers = new ArrayList<>();
    private PostgresServer pg;

    @AfterEach
    void stopServer() throws Exception {
        if (pg != null) {
            pg.close();
        }
    }

    private ChildJvm worker(String name) throws Exception {
        ChildJvm c = processes.start(dir.resolve(name + "-" + workers.size() + ".log"), List.of("worker", "--broker", pg.url(),
                "-n", name, "-P", "threads", "-c", "8", "--loglevel", "WARNING", "--set", "broker_recovery_timeout=3",
                "--set", "worker_heartbeat_interval=0.5"));
        workers.add(c);
        return c;
    }

    private void waitFor(Duration atMost, Callable<Boolean> condition) {
        CliProcesses.until(await().atMost(atMost).pollInterval(Duration.ofMillis(250)).ignoreExceptions(), workers, condition);
    }

    private Connection sql() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/postgres", "postgres", "");
    }

    private long count(String query) throws SQLException {
        try (Connection c = sql(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(query)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private Map<String, String> results() throws SQLException {
        Map<String, String> out = new HashMap<>();
        try (Connection c = sql(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT task_id, meta FROM celeriac_results")) {
            while (rs.next()) {
                out.put(rs.getString(1), rs.getString(2));
            }
        }
        return out;
    }

    @Test
    void aWorkerKilledNineAndTheServerDownForEightSecondsLoseNothing() throws Exception {
        pg = PostgresServer.launch();
        int n = 6_000;
        List<String> ids = new ArrayList<>(n + 100);
        Config config = Config.builder().set(Settings.BROKER_URL, pg.url()).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            for (int i = 0; i < n; i++) {
                ids.add(client.send("add", i, i).id());
            }
            ChildJvm doomed = worker("doomed");
            ChildJvm a = worker("a");
            waitFor(Duration.ofSeconds(120), () -> count("SELECT count(*) FROM celeriac_results") >= n / 5);
            long held = count("SELECT count(*) FROM celeriac_messages WHERE owner IS NOT NULL");
            doomed.kill9();
            System.out.printf("kill -9 with %d messages reserved%n", held);
            ChildJvm b = worker("b");
            waitFor(Duration.ofSeconds(120), () -> count("SELECT count(*) FROM celeriac_results") >= n / 2);

            pg.stop();
            List<String> late = Collections.synchronizedList(new ArrayList<>());
            Thread sender = new Thread(() -> {
                for (int i = n; i < n + 100; i++) {
                    late.add(client.send("add", i, i).id());
                }
            });
            sender.start();
            Thread.sleep(8_000);
            assertThat(late).as("nothing is sent while the server is down").isEmpty();
            pg.start();
            sender.join(60_000);
            assertThat(late).hasSize(100);
            ids.addAll(late);

            waitFor(Duration.ofSeconds(180), () -> count("SELECT count(*) FROM celeriac_results") >= n + 100
                    && count("SELECT count(*) FROM celeriac_messages") == 0);
            Map<String, String> stored = results();
            for (int i = 0; i < ids.size(); i++) {
                String meta = stored.get(ids.get(i));
                assertThat(meta).as("result of task %d", i).isNotNull();
                var r = Json.read(meta);
                assertThat(r.path("status").asText()).as("state of task %d", i).isEqualTo("SUCCESS");
                assertThat(r.path("result").asLong()).as("result of task %d", i).isEqualTo(2L * i);
            }
            for (ChildJvm w : List.of(a, b)) {
                assertThat(w.process().isAlive()).as(w.output()).isTrue();
                System.out.println("--- worker " + w.pid() + " during the outage:\n" + w.output().lines()
                        .filter(l -> l.contains("WARN") || l.contains("ERROR")).collect(java.util.stream.Collectors.joining("\n")));
                assertThat(w.output()).as("no stack traces").doesNotContain("\tat ");
            }
            // a worker that was busy through the outage says so, once, clearly (one that was only
            // waiting may not have asked the server for anything meanwhile)
            assertThat(a.output() + b.output()).containsIgnoringCase("database unreachable");
        }
    }
}
