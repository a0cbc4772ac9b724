package io.celeriac.redis;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.BackendProvider;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import java.time.Clock;
import java.util.Set;

/** {@code redis://}, {@code rediss://}, {@code redis-sentinel://}: broker, result backend and coordination on Redis. */
public final class RedisBackend implements BackendProvider {
    @Override
    public Set<String> schemes() {
        return Set.of("redis", "rediss", "redis-sentinel");
    }

    @Override
    public Broker openBroker(String url, Config config) {
        return new RedisBroker(RedisConnection.acquire(url), config.get(Settings.BROKER_RECOVERY_TIMEOUT),
                config.get(Settings.BROKER_VISIBILITY_TIMEOUT), Clock.systemUTC());
    }

    @Override
    public ResultStore openResultStore(String url, Config config) {
        return new RedisResultStore(RedisConnection.acquire(url), config.get(Settings.RESULT_EXPIRES),
                config.get(Settings.BROKER_VISIBILITY_TIMEOUT));
    }

    @Override
    public Coordination openCoordination(String url, Config config) {
        return new RedisCoordination(RedisConnection.acquire(url), Clock.systemUTC(), config.get(Settings.BROKER_VISIBILITY_TIMEOUT));
    }
}
