package io.celeriac.rabbitmq;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.testkit.BrokerConformanceTest;
import io.celeriac.testkit.RabbitNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;

/**
 * The broker contract on a private RabbitMQ node, opened through its URL as a user would
 * ({@code amqp://…//}, found by scheme), with priority queues ({@code task_queue_max_priority}) and
 * the ETA messages parked in an in-memory coordination store (and, nested, in a SQLite file).
 */
class RabbitConformanceTest extends BrokerConformanceTest {
    private static RabbitNode node;
    private static Path sqlite;

    @BeforeAll
    static void start() throws Exception {
        node = RabbitNode.launch();
        sqlite = Files.createTempDirectory("celeriac-rabbit-park-").resolve("park.db");
    }

    @AfterAll
    static void stop() throws Exception {
        node.close();
    }

    /** A broker on {@code url} with priority queues, its ETA messages parked at {@code coordination}. */
    static Broker open(String url, String coordination, Duration lease) {
        return Backends.openBroker(Config.builder()
                .set(Settings.BROKER_URL, url)
                .set(Settings.COORDINATION_URL, coordination)
                .set(Settings.TASK_QUEUE_MAX_PRIORITY, 10)
                .set(Settings.BROKER_RECOVERY_TIMEOUT, lease)
                .build());
    }

    @Override
    protected Broker openBroker(Duration lease) {
        return open(node.url(), "memory://rabbit-conformance", lease);
    }

    /** The same contract with the parked messages in a SQLite file (the SQL broker's {@code available_at}). */
    @Nested
    class ParkedInSqlite extends BrokerConformanceTest {
        @Override
        protected Broker openBroker(Duration lease) {
            return open(node.url(), "sqlite:" + sqlite, lease);
        }
    }
}
