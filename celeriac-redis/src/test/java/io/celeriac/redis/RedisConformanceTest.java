package io.celeriac.redis;

import io.celeriac.testkit.ProviderConformanceKit;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** The conformance kit against a real redis-server this test starts on a free port. */
class RedisConformanceTest extends ProviderConformanceKit {
    @TempDir
    static Path dir;
    static RedisServer redis;

    private final RedisBackend provider = new RedisBackend();

    @Override
    protected RedisBackend provider() {
        return provider;
    }

    @BeforeAll
    static void startRedis() throws Exception {
        redis = RedisServer.start(dir.resolve("redis"), false);
    }

    @AfterAll
    static void stopRedis() throws Exception {
        redis.close();
    }

    /** The URL the kit's brokers use: the server itself here; through a sentinel in a subclass. */
    @Override
    protected String url() {
        return redis.url();
    }
}
