package io.celeriac.worker;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.testkit.CanvasConformanceTest;
import io.celeriac.testkit.PostgresServer;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/** The canvas suite on every broker: the in-memory one, SQLite, PostgreSQL and Redis, each a real instance. */
class CanvasTest {

    /** A worker in this JVM on the broker of {@code config}, stopped warmly when closed. */
    static AutoCloseable worker(Config config, TaskRegistry tasks) {
        Celeriac client = Celeriac.open(config, tasks);
        Worker w = new Worker(WorkerOptions.from(config), tasks, client.broker(), client.results(), Clock.systemUTC());
        w.start();
        return () -> {
            w.shutdown();
            w.awaitTermination(Duration.ofSeconds(20));
            client.close();
        };
    }

    /** The suite with its worker in this JVM. */
    abstract static class InThisJvm extends CanvasConformanceTest {
        @Override
        protected AutoCloseable startWorker(Config config, TaskRegistry tasks) {
            return worker(config, tasks);
        }
    }

    @Nested
    class OnMemory extends InThisJvm {
        private final String url = "memory://canvas-" + UUID.randomUUID();

        @Override
        protected String url() {
            return url;
        }
    }

    @Nested
    class OnSqlite extends InThisJvm {
        private final String url;

        OnSqlite() throws Exception {
            Path dir = Files.createTempDirectory("celeriac-canvas");
            dir.toFile().deleteOnExit();
            url = "sqlite:" + dir.resolve("canvas.db");
        }

        @Override
        protected String url() {
            return url;
        }
    }

    static PostgresServer pg;
    static RedisServer redis;
    static Path dir;

    @BeforeAll
    static void startServers() throws Exception {
        dir = Files.createTempDirectory("celeriac-canvas-servers");
        redis = RedisServer.start(dir.resolve("redis"), false);
        pg = PostgresServer.launch();
    }

    @AfterAll
    static void stopServers() throws Exception {
        redis.close();
        pg.close();
    }

    @Nested
    class OnPostgres extends InThisJvm {
        @Override
        protected String url() {
            return pg.url();
        }
    }

    @Nested
    class OnRedis extends InThisJvm {
        @Override
        protected String url() {
            return redis.url(0);
        }
    }
}
