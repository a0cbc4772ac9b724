package io.celeriac.redis;

import io.celeriac.config.Config;
import io.celeriac.spi.TaskHistory;
import io.celeriac.testkit.RedisServerExtension;
import io.celeriac.testkit.TaskHistoryConformanceTest;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The task history kit against a real redis-server, emptied before each test. */
class RedisTaskHistoryTest extends TaskHistoryConformanceTest {
    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private final RedisBackend provider = new RedisBackend();

    @Override
    protected String newStore() throws Exception {
        redis.server().flushAll();
        return redis.url();
    }

    @Override
    protected TaskHistory open(String url) {
        return provider.openTaskHistory(url, Config.defaults());
    }
}
