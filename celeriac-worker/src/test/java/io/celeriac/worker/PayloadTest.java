package io.celeriac.worker;

import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.testkit.PayloadConformanceTest;
import io.celeriac.testkit.PostgresServer;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * The payload suite (task_payload_max_bytes, malformed messages with an id) on SQLite, PostgreSQL
 * and Redis, each a real instance, with a worker in this JVM on the thread pool; and on SQLite and
 * Redis with the process pool, whose frames carry the payloads between the worker and real child JVMs.
 */
class PayloadTest {

    abstract static class InThisJvm extends PayloadConformanceTest {
        @Override
        protected AutoCloseable startWorker(Config config, TaskRegistry tasks) {
            return CanvasTest.worker(config, tasks);
        }
    }

    /** The same with real child processes running the tasks. */
    abstract static class ProcessPool extends InThisJvm {
        @Override
        protected Config.Builder configure(Config.Builder b) {
            return b.set(Settings.WORKER_POOL, "process").set(Settings.WORKER_CHILD_KILL_GRACE, Duration.ofMillis(500));
        }
    }

    static Path dir;
    static PostgresServer pg;
    static RedisServer redis;

    @BeforeAll
    static void startServers() throws Exception {
        dir = Files.createTempDirectory("celeriac-payload");
        redis = RedisServer.start(dir.resolve("redis"), false);
        pg = PostgresServer.launch();
    }

    @AfterAll
    static void stopServers() throws Exception {
        redis.close();
        pg.close();
    }

    @Nested
    class OnSqlite extends InThisJvm {
        private final String url = "sqlite:" + dir.resolve("payload-" + System.nanoTime() + ".db");

        @Override
        protected String url() {
            return url;
        }
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

    @Nested
    class OnSqliteProcessPool extends ProcessPool {
        private final String url = "sqlite:" + dir.resolve("payload-pp-" + System.nanoTime() + ".db");

        @Override
        protected String url() {
            return url;
        }
    }

    @Nested
    class OnRedisProcessPool extends ProcessPool {
        @Override
        protected String url() {
            return redis.url(0);
        }
    }
}
