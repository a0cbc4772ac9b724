package io.celeriac.redis;

import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Locks and records in Redis: a lock is a key ({@code celeriac.lock.NAME}) holding its owner, with
 * the lease as its expiry, taken and renewed by a compare-and-set script; records are fields of the
 * hash {@code celeriac.records}.
 */
final class RedisCoordination implements Coordination {
    private final RedisConnection redis;
    private final Clock clock;
    private final java.time.Duration visibility;

    RedisCoordination(RedisConnection redis, Clock clock, java.time.Duration visibility) {
        this.visibility = visibility;
        this.redis = redis;
        this.clock = clock;
    }

    private static String lockKey(String lock) {
        return "celeriac.lock." + lock;
    }

    @Override
    public boolean tryLock(String lock, String owner, Duration lease) {
        Object r = redis.call("take lock '" + lock + "'",
                c -> redis.script("lock", List.of(lockKey(lock)), List.of(owner, Long.toString(lease.toMillis()))));
        return ((Number) r).longValue() == 1;
    }

    @Override
    public void unlock(String lock, String owner) {
        redis.call("release lock '" + lock + "'", c -> redis.script("unlock", List.of(lockKey(lock)), List.of(owner)));
    }

    @Override
    public Optional<String> holder(String lock) {
        return Optional.ofNullable(redis.call("read lock '" + lock + "'", c -> c.get(lockKey(lock))));
    }

    @Override
    public Optional<String> get(String key) {
        return Optional.ofNullable(redis.call("read record '" + key + "'", c -> c.hget("celeriac.records", key)));
    }

    @Override
    public Map<String, String> getAll(String prefix) {
        Map<String, String> all = redis.call("read records '" + prefix + "*'", c -> c.hgetAll("celeriac.records"));
        Map<String, String> out = new TreeMap<>();
        all.forEach((k, v) -> {
            if (k.startsWith(prefix)) {
                out.put(k, v);
            }
        });
        return out;
    }

    @Override
    public void put(String key, String value) {
        redis.call("write record '" + key + "'", c -> c.hset("celeriac.records", key, value));
    }

    @Override
    public boolean publishIfHolder(String lock, String owner, String queue, BrokerMessage message, String key, String value) {
        String eta = message != null && message.eta() != null && message.eta().toEpochMilli() > clock.millis()
                ? Long.toString(message.eta().toEpochMilli()) : "";
        Object r = redis.call("publish under lock '" + lock + "'", c -> redis.script("publish_if_holder", List.of(lockKey(lock)),
                List.of(owner, queue == null ? "" : queue, message == null ? "0" : RedisBroker.bucket(message.priority()), eta,
                        message == null ? "" : message.payload(), key, value, Long.toString(visibility.toMillis()))));
        return ((Number) r).longValue() == 1;
    }

    @Override
    public void close() {
        redis.release();
    }
}
