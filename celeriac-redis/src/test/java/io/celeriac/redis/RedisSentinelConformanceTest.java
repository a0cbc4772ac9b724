package io.celeriac.redis;

import io.celeriac.testkit.RedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The conformance kit through a real Redis Sentinel ({@code redis-sentinel://host:port/0?master=NAME}):
 * the clients ask the sentinel for the master, then use it.
 */
class RedisSentinelConformanceTest extends RedisConformanceTest {
    static RedisServer sentinel;

    @BeforeAll
    static void startSentinel() throws Exception {
        sentinel = RedisServer.startSentinel(dir.resolve("sentinel"), redis, "celeriacmaster");
    }

    @AfterAll
    static void stopSentinel() throws Exception {
        sentinel.close();
    }

    @Override
    protected String url() {
        return "redis-sentinel://127.0.0.1:" + sentinel.port() + "/0?master=celeriacmaster";
    }
}
