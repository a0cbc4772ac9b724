package io.celeriac.redis;

import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.NodeBeat;
import io.celeriac.spi.Revocation;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Presence, revocations, counters, locks and records in Redis. Worker heartbeats are fields of the
 * hash {@code celeriac.nodes}, revocations the sorted set {@code celeriac.revoked} with
 * {@code celeriac.revoked.info} (the keys Celeriac has always used, read by its tools and workers of
 * every version), counters keys {@code celeriac.counter.KEY}. Locks and records: a lock is a key ({@code celeriac.lock.NAME}) holding its owner, with
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
    public boolean publishIfHolder(String lock, String owner, Broker broker, String queue, BrokerMessage message, String key,
                                   String value) {
        if (!(broker instanceof RedisBroker rb && rb.connection() == redis)) {
            return Coordination.publishThenRecord(this, lock, owner, broker, queue, message, key, value);
        }
        String eta = message != null && message.eta() != null && message.eta().toEpochMilli() > clock.millis()
                ? Long.toString(message.eta().toEpochMilli()) : "";
        Object r = redis.call("publish under lock '" + lock + "'", c -> redis.script("publish_if_holder", List.of(lockKey(lock)),
                List.of(owner, queue == null ? "" : queue, message == null ? "0" : RedisBroker.bucket(message.priority()), eta,
                        message == null ? "" : message.payload(), key, value, Long.toString(visibility.toMillis()))));
        return ((Number) r).longValue() == 1;
    }

    @Override
    public void keepAlive(String node, String heartbeatJson) {
        long now = clock.millis();
        redis.call(heartbeatJson == null ? "remove node heartbeat" : "record node heartbeat", c -> heartbeatJson == null
                ? c.hdel("celeriac.nodes", node) : c.hset("celeriac.nodes", node, now + "\n" + heartbeatJson));
    }

    /** The hash {@code celeriac.nodes}: node → "millis\nheartbeat JSON". */
    @Override
    public Map<String, NodeBeat> nodes() {
        Map<String, String> raw = redis.call("read node heartbeats", c -> c.hgetAll("celeriac.nodes"));
        Map<String, NodeBeat> out = new HashMap<>();
        raw.forEach((node, v) -> {
            int nl = v.indexOf('\n');
            if (nl > 0) {
                out.put(node, new NodeBeat(node, v.substring(nl + 1), Instant.ofEpochMilli(Long.parseLong(v.substring(0, nl)))));
            }
        });
        return out;
    }

    /** Kept where Celeriac's workers and tools have always looked: {@code celeriac.revoked} (by time) and {@code celeriac.revoked.info}. */
    @Override
    public void revoke(String taskId, boolean terminate, Instant expires) {
        long now = clock.millis();
        redis.call("revoke task " + taskId, c -> {
            String old = c.hget("celeriac.revoked.info", taskId);
            boolean t = terminate || (old != null && old.startsWith("1"));
            c.hset("celeriac.revoked.info", taskId, (t ? "1" : "0") + "|" + expires.toEpochMilli());
            c.zadd("celeriac.revoked", now, taskId);
            return null;
        });
    }

    @Override
    public List<Revocation> revocations(Instant since) {
        long now = clock.millis();
        return redis.call("read revocations", c -> {
            List<Revocation> out = new ArrayList<>();
            var ids = c.zrangeByScoreWithScores("celeriac.revoked", since.toEpochMilli(), Double.POSITIVE_INFINITY);
            for (var t : ids) {
                String info = c.hget("celeriac.revoked.info", t.getElement());
                if (info == null) {
                    continue;
                }
                long until = Long.parseLong(info.substring(info.indexOf('|') + 1));
                if (until <= now) {
                    c.zrem("celeriac.revoked", t.getElement());
                    c.hdel("celeriac.revoked.info", t.getElement());
                    continue;
                }
                out.add(new Revocation(t.getElement(), info.startsWith("1"), Instant.ofEpochMilli((long) t.getScore())));
            }
            return out;
        });
    }

    /** A key of its own, {@code celeriac.counter.KEY}: INCRBY and its expiry in one script. */
    @Override
    public long increment(String key, long delta, Duration ttl) {
        String expiry = ttl == null ? "0" : Long.toString(Math.max(1, ttl.toMillis()));
        Object r = redis.call("increment counter '" + key + "'",
                c -> redis.script("increment", List.of("celeriac.counter." + key), List.of(Long.toString(delta), expiry)));
        return ((Number) r).longValue();
    }

    @Override
    public void close() {
        redis.release();
    }
}
