package io.celeriac.redis;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import io.celeriac.testkit.ConformanceKit;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The conformance kit against a real redis-server this test starts on a free port. */
class RedisConformanceTest extends ConformanceKit {
    @TempDir
    static Path dir;
    static RedisServer redis;

    private final RedisBackend provider = new RedisBackend();

    @BeforeAll
    static void startRedis() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
    }

    /** The URL the kit's brokers use: the server itself here; through a sentinel in a subclass. */
    protected String url() {
        return redis.url();
    }

    @Override
    protected Broker openBroker(Duration lease) {
        return provider.openBroker(url(), Config.builder().set(Settings.BROKER_RECOVERY_TIMEOUT, lease).build());
    }

    @Override
    protected ResultStore openResultStore(Duration expires) {
        return provider.openResultStore(url(), Config.builder().set(Settings.RESULT_EXPIRES, expires).build());
    }

    @Override
    protected Coordination openCoordination() {
        return provider.openCoordination(url(), Config.defaults());
    }
}
