package io.celeriac.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real redis-server restarted on the same port: without persistence the broker sees its data
 * gone (a new run id, its own records missing) and names the messages it held; with append-only
 * persistence the same restart keeps everything and is no data loss.
 */
@Tag("integration")
class RedisRestartTest {
    @TempDir
    Path dir;

    private Broker open(RedisServer redis) {
        return new RedisBackend().openBroker(redis.url(), Config.builder().set(Settings.BROKER_RECOVERY_TIMEOUT, Duration.ofSeconds(30)).build());
    }

    /** Keeps renewing (each try retried through the reconnection) until a keep-alive succeeds on the new server. */
    private static void keepAliveOnceUp(Broker b) {
        await().atMost(Duration.ofSeconds(30)).ignoreExceptions().pollInterval(Duration.ofMillis(100))
                .until(() -> {
                    b.renew();
                    return true;
                });
    }

    @Test
    void aRestartWithoutPersistenceIsSeenAsDataLossNamingTheMessagesHeld() throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"), false); Broker b = open(redis)) {
            for (int i = 0; i < 3; i++) {
                b.publish("q", new BrokerMessage("t" + i, "{\"n\": " + i + "}", 0, null));
            }
            List<Delivery> held = b.reserve(List.of("q"), 2, Duration.ofSeconds(5));
            assertThat(held).hasSize(2);
            b.renew();
            b.renew();
            assertThat(b.dataLoss()).as("no restart yet").isNull();
            redis.stop();
            redis.start();
            keepAliveOnceUp(b);
            Broker.DataLoss loss = b.dataLoss();
            assertThat(loss).isNotNull();
            assertThat(loss.message()).startsWith("Redis at " + redis.url() + " restarted with its data gone (run id ");
            assertThat(loss.tags()).containsExactlyInAnyOrderElementsOf(held.stream().map(Delivery::tag).toList());
            assertThat(b.size("q")).as("the waiting message went with the data").isZero();
            b.renew();
            assertThat(b.dataLoss()).as("sticky").isSameAs(loss);
        }
    }

    @Test
    void aRestartWithAppendOnlyPersistenceKeepsTheDataAndIsNoDataLoss() throws Exception {
        try (RedisServer redis = RedisServer.start(dir.resolve("redis"), true); Broker b = open(redis)) {
            b.publish("q", new BrokerMessage("t1", "{\"n\": 1}", 0, null));
            b.publish("q", new BrokerMessage("t2", "{\"n\": 2}", 0, null));
            assertThat(b.reserve(List.of("q"), 1, Duration.ofSeconds(5))).hasSize(1);
            b.renew();
            redis.stop(); // SIGTERM: the append-only file has everything
            redis.start();
            keepAliveOnceUp(b);
            b.renew();
            assertThat(b.dataLoss()).isNull();
            assertThat(b.size("q")).isEqualTo(1);
        }
    }
}
