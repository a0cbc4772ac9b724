package io.celeriac.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.config.Config;
import io.celeriac.spi.TaskHistory;
import io.celeriac.testkit.RedisServerExtension;
import io.celeriac.testkit.TaskHistoryConformanceTest;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.JedisPooled;

/** The task history kit against a real redis-server, emptied before each test; and what only Redis's layout has. */
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

    /** A record of the earlier layout (a hash, task:ID) is pruned with its entries in every set, not left behind. */
    @Test
    void aRecordOfTheEarlierLayoutIsPrunedWithItsSetEntries() throws Exception {
        redis.server().flushAll();
        String p = RedisTaskHistory.PREFIX;
        try (JedisPooled j = new JedisPooled("127.0.0.1", redis.server().port());
             TaskHistory h = open(redis.url())) {
            j.hset(p + "task:old", Map.of("name", "tasks.add", "state", "SUCCESS", "worker", "celery@a", "updated", "5"));
            for (String set : new String[] {"all", "name:tasks.add", "state:SUCCESS", "worker:celery@a"}) {
                j.zadd(p + set, 5, "old");
            }
            j.zadd(p + "ids", 0, "old");
            assertThat(h.count()).isEqualTo(1);
            assertThat(h.prune(Instant.now(), 1000)).isEqualTo(1);
            assertThat(j.keys(p + "*")).isEmpty();
        }
    }
}
