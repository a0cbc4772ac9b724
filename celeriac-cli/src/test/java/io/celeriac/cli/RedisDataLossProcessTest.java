package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.ChildJvm;
import io.celeriac.testkit.RedisServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.JedisPooled;

/**
 * A real redis-server without persistence, restarted on the same port (a real stop and start of the
 * process: it comes back empty) under a real worker process holding tasks in flight: the worker
 * says so in one ERROR line with what it held, {@code celeriac health} fails naming it, and the
 * alert webhook (a local HTTP server here) receives the "unhealthy" alert.
 */
@Tag("chaos")
@Timeout(300)
class RedisDataLossProcessTest {
    @TempDir
    Path dir;

    private final List<ChildJvm> children = new ArrayList<>();
    private RedisServer redis;
    private HttpServer webhook;

    @AfterEach
    void stop() throws InterruptedException {
        for (ChildJvm c : children) {
            c.close();
        }
        if (redis != null) {
            redis.close();
        }
        if (webhook != null) {
            webhook.stop(0);
        }
    }

    private void waitFor(Duration atMost, Callable<Boolean> condition) {
        // ignoring exceptions: the test's own pooled connections break once when the server restarts
        CliProcesses.until(await().atMost(atMost).pollInterval(Duration.ofMillis(200)).ignoreExceptions(), children, condition);
    }

    private CliRun health(String hook) {
        return CliRun.of("health", "--no-manager", "--broker", redis.url(), "--set", "alert_webhook_url=" + hook);
    }

    /** The Lamport clock of w1's last recorded heartbeat (0: none recorded). */
    private static long clock(JedisPooled j) throws Exception {
        for (String v : j.hvals("celeriac.nodes")) {
            var beat = io.celeriac.protocol.Json.read(v.substring(v.indexOf('\n') + 1));
            if (beat.path("hostname").asText().startsWith("w1@")) {
                return beat.path("clock").asLong();
            }
        }
        return 0;
    }

    private static List<String> lines(String out, String containing) {
        return out.lines().filter(l -> l.contains(containing)).collect(Collectors.toList());
    }

    @Test
    void redisRestartedEmptyFailsHealth() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false); // no persistence: a restart loses everything
        List<String> posts = Collections.synchronizedList(new ArrayList<>());
        webhook = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        webhook.createContext("/hook", ex -> {
            posts.add(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            ex.sendResponseHeaders(204, -1);
            ex.close();
        });
        webhook.start();
        String hook = "http://127.0.0.1:" + webhook.getAddress().getPort() + "/hook";

        Config config = Config.builder().set(Settings.BROKER_URL, redis.url()).build();
        try (Celeriac client = Celeriac.open(config, new TaskRegistry())) {
            for (int i = 0; i < 12; i++) {
                client.send("counted", i, 120_000); // slow: held in flight through the restart
            }
        } // closed: the in-process health runs below open connections of their own, as the command does
        try (JedisPooled j = new JedisPooled("127.0.0.1", redis.port())) {
            // 2 slots × prefetch 4: 2 running, 6 buffered, 4 left on the queue
            ChildJvm w = ChildJvm.start(Main.class.getName(), List.of("worker", "--broker", redis.url(), "-n", "w1", "-P", "threads",
                            "-c", "2", "--app", RunCountingApp.class.getName(), "--loglevel", "WARNING",
                            "--set", "worker_heartbeat_interval=0.5", "--set", "broker_recovery_timeout=30"),
                    Map.of("RUNS_REDIS_PORT", Integer.toString(redis.port())), dir.resolve("w1.log"));
            children.add(w);
            waitFor(Duration.ofSeconds(90), () -> j.hlen("unacked") == 8 && j.llen("celery") == 4 && j.hlen("test.runs") == 2);
            waitFor(Duration.ofSeconds(30), () -> health(hook).code() == 0); // healthy before: the check below can fail
            int alertsBefore = posts.size();

            redis.stop();
            redis.start(); // the same port, a new process, no data
            waitFor(Duration.ofSeconds(10), () -> j.dbSize() >= 0); // the test's connections reconnected
            assertThat(j.exists("celery")).as("the restarted server is empty: the 4 waiting messages are gone").isFalse();

            String message = "Redis at " + redis.url() + " restarted with its data gone (run id ";
            waitFor(Duration.ofSeconds(60), () -> w.output().contains(message));
            List<String> said = lines(w.output(), message);
            assertThat(said).hasSize(1);
            assertThat(said.get(0)).contains("ERROR")
                    .contains("2 message(s) this worker held in flight and 6 buffered lost their broker records")
                    .contains("tasks sent before the restart are lost unless the server persists (appendonly yes)")
                    .contains("celeriac health fails for this worker until it is restarted");

            waitFor(Duration.ofSeconds(30), () -> clock(j) > 0); // the worker re-recorded its heartbeat on the new server
            CliRun h = health(hook);
            System.out.println("--- celeriac health after the restart:\n" + h.out() + h.err());
            assertThat(h.code()).as(h.out() + h.err()).isEqualTo(1);
            List<String> failed = lines(h.out(), "FAIL  worker w1@");
            assertThat(failed).hasSize(1);
            assertThat(failed.get(0)).contains(message).contains("2 message(s) this worker held in flight and 6 buffered")
                    .contains("fails until this worker is restarted");
            waitFor(Duration.ofSeconds(30), () -> posts.size() > alertsBefore);
            String alert = posts.get(posts.size() - 1);
            assertThat(alert).contains("\"event\":\"unhealthy\"").contains("restarted with its data gone");

            // sticky: a later beat (and a later health) still says it; the worker itself is alive and carries on
            long beat = clock(j);
            waitFor(Duration.ofSeconds(30), () -> clock(j) >= beat + 3); // three heartbeats later
            assertThat(health(hook).code()).isEqualTo(1);
            assertThat(lines(w.output(), message)).as("said once").hasSize(1);
            assertThat(w.process().isAlive()).as(w.output()).isTrue();
            System.out.println("--- the worker's log:\n" + String.join("\n", lines(w.output(), " ")));
            assertThat(w.output()).doesNotContain("\tat ");
        }
    }
}
