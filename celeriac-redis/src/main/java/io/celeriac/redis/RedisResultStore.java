package io.celeriac.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.ChordPart;
import io.celeriac.spi.Effects;
import io.celeriac.spi.Publication;
import io.celeriac.spi.Settle;
import io.celeriac.spi.Settlement;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.ResultStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Results as Celery's Redis result backend keeps them: {@code celery-task-meta-<id>} holding the
 * result JSON, expiring after {@code result_expires}, and the same JSON PUBLISHed on a channel of
 * that name, which is what wakes a waiting {@code AsyncResult.get()} — Celery's or Celeriac's.
 * A PENDING task has no key. A stored SUCCESS is never overwritten.
 */
final class RedisResultStore implements ResultStore {
    static final String PREFIX = "celery-task-meta-";

    private final RedisConnection redis;
    private final Duration expires;

    private final Duration visibility;

    RedisResultStore(RedisConnection redis, Duration expires, Duration visibility) {
        this.redis = redis;
        this.expires = expires;
        this.visibility = visibility;
    }

    @Override
    public void store(TaskResult result) {
        storeAll(List.of(result));
    }

    @Override
    public void storeAll(List<TaskResult> results) {
        if (!results.isEmpty()) {
            // a settlement per result: each travels to settle.lua as a plain one, with no JSON to decode
            List<Settlement> batch = new ArrayList<>(results.size());
            for (TaskResult r : results) {
                batch.add(Settlement.of(new Effects(List.of(r), List.of(), java.util.Map.of())));
            }
            settle(batch, null);
        }
    }

    /**
     * With the broker on this Redis: the whole batch in one script ({@code settle.lua}), each
     * settlement atomic — ack, messages, results, chord parts — and skipped when its delivery was
     * settled already. With a broker elsewhere: results and chord parts here, the messages through
     * that broker after them, the acks last.
     */
    @Override
    public void settle(List<Settlement> batch, Broker broker) {
        if (batch.isEmpty()) {
            return;
        }
        if (broker == null || (broker instanceof RedisBroker rb && rb.connection() == redis)) {
            RedisSettle.commit(redis, batch, broker != null, expires, visibility);
            if (broker != null) {
                List<Delivery> acked = new ArrayList<>();
                batch.forEach(st -> {
                    if (st.acksDelivery()) {
                        acked.add(st.delivery());
                    }
                });
                ((RedisBroker) broker).released(acked);
            }
            return;
        }
        Settle.Elsewhere later = new Settle.Elsewhere();
        // the batch's results go in one script call (not one round trip each), stored before anything
        // that comes after them in the batch: a chord's size or part, the messages and the acks
        List<TaskResult> results = new ArrayList<>();
        Runnable flush = () -> {
            if (!results.isEmpty()) {
                storeAll(List.copyOf(results));
                results.clear();
            }
        };
        Settle.Tx tx = new Settle.Tx() {
            @Override
            public boolean claim(Delivery d) {
                return true;
            }

            @Override
            public void store(TaskResult r) {
                results.add(r);
            }

            @Override
            public void publish(Publication p) {
                later.publish(p);
            }

            @Override
            public void chordSize(String groupId, int size) {
                flush.run();
                redis.call("record the size of chord " + groupId, c -> c.psetex(RedisSettle.groupKey(groupId, ".s"),
                        expires.toMillis(), Integer.toString(size)));
            }

            @Override
            public Optional<List<Settle.Part>> addPart(ChordPart part) {
                flush.run();
                Object r = redis.call("count a part of chord " + part.groupId(), c -> redis.script("chord_part", List.of(),
                        List.of(part.groupId(), part.groupIndex() == null ? "+inf" : part.groupIndex().toString(), part.taskId(),
                                part.joinEntry(), Long.toString(expires.toMillis()))));
                List<?> entries = (List<?>) r;
                if (entries.isEmpty()) {
                    return Optional.empty();
                }
                List<Settle.Part> parts = new ArrayList<>();
                for (Object e : entries) {
                    parts.add(RedisSettle.part((String) e));
                }
                return Optional.of(parts);
            }

            @Override
            public void ack(Delivery d) {
                later.ack(d);
            }
        };
        batch.forEach(st -> Settle.apply(tx, st));
        flush.run();
        later.send(broker);
    }

    /** As Celery's {@code save_group}: {@code celery-taskset-meta-<id>} = {@code {"result": tuple}}, expiring with results. */
    @Override
    public void saveGroup(String groupId, JsonNode tuple) {
        ObjectNode meta = Json.NODES.objectNode();
        meta.set("result", tuple);
        redis.call("save group " + groupId, c -> c.psetex(RedisSettle.groupKey(groupId, ""), expires.toMillis(), Json.write(meta)));
    }

    @Override
    public Optional<JsonNode> group(String groupId) {
        String json = redis.call("read group " + groupId, c -> c.get(RedisSettle.groupKey(groupId, "")));
        if (json == null) {
            return Optional.empty();
        }
        try {
            return Optional.ofNullable(Json.read(json).get("result"));
        } catch (Exception notJson) {
            return Optional.empty();
        }
    }

    @Override
    public Optional<TaskResult> get(String taskId) {
        String json = redis.call("read the result of task " + taskId, c -> c.get(PREFIX + taskId));
        return json == null ? Optional.empty() : Optional.of(TaskResult.fromJson(json));
    }

    @Override
    public Optional<TaskResult> await(String taskId, Duration timeout) throws InterruptedException {
        String channel = PREFIX + taskId;
        BlockingQueue<String> inbox = new ArrayBlockingQueue<>(16);
        Consumer<String> listener = m -> inbox.offer(m == null ? "" : m); // null: reconnected, look again
        redis.listen(channel, listener);
        try {
            redis.awaitSubscribed(channel, 1000); // subscribed before looking: a result stored from now on is heard
            long deadline = System.nanoTime() + timeout.toNanos();
            Optional<TaskResult> last = get(taskId);
            while (last.isEmpty() || !last.get().state().ready()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return last;
                }
                // wake on the publish, and look anyway every second (a publish missed in an outage)
                String m = inbox.poll(Math.min(left, TimeUnit.SECONDS.toNanos(1)), TimeUnit.NANOSECONDS);
                if (m != null && !m.isEmpty()) {
                    TaskResult r = TaskResult.fromJson(m);
                    if (r.state().ready()) {
                        return Optional.of(r); // published only when stored: what the key now holds
                    }
                    last = Optional.of(r);
                } else {
                    last = get(taskId);
                }
            }
            return last;
        } finally {
            redis.unlisten(channel, listener);
        }
    }

    @Override
    public void forget(String taskId) {
        redis.call("forget the result of task " + taskId, c -> c.del(PREFIX + taskId));
    }

    @Override
    public String describe() {
        return redis.safeUrl;
    }

    @Override
    public void close() {
        redis.release();
    }
}
