package io.celeriac.redis;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.BackendProvider;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import io.celeriac.spi.TaskHistory;
import java.time.Clock;
import java.util.Set;

/** {@code redis://}, {@code rediss://}, {@code redis-sentinel://}: broker, result backend and coordination on Redis. */
public final class RedisBackend implements BackendProvider {
    private final Clock clock;

    /** The provider the service loader uses: the system clock. */
    public RedisBackend() {
        this(Clock.systemUTC());
    }

    /**
     * A provider whose brokers and coordination read time from {@code clock} (leases, ETAs,
     * heartbeats, revocations): for tests. Expiry of keys is the server's own clock.
     *
     * @param clock the time source
     */
    public RedisBackend(Clock clock) {
        this.clock = clock;
    }
    @Override
    public Set<String> schemes() {
        return Set.of("redis", "rediss", "redis-sentinel");
    }

    @Override
    public Broker openBroker(String url, Config config) {
        return new RedisBroker(RedisConnection.acquire(url), config.get(Settings.BROKER_RECOVERY_TIMEOUT),
                config.get(Settings.BROKER_VISIBILITY_TIMEOUT), clock);
    }

    @Override
    public ResultStore openResultStore(String url, Config config) {
        return new RedisResultStore(RedisConnection.acquire(url), config.get(Settings.RESULT_EXPIRES),
                config.get(Settings.BROKER_VISIBILITY_TIMEOUT));
    }

    @Override
    public Coordination openCoordination(String url, Config config) {
        return new RedisCoordination(RedisConnection.acquire(url), clock, config.get(Settings.BROKER_VISIBILITY_TIMEOUT));
    }

    /** The task history in the same Redis, under {@code celeriac:history:}. */
    @Override
    public TaskHistory openTaskHistory(String url, Config config) {
        return new RedisTaskHistory(RedisConnection.acquire(url));
    }
}
