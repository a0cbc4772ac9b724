package io.celeriac.redis;

import io.celeriac.protocol.TaskResult;
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

    RedisResultStore(RedisConnection redis, Duration expires) {
        this.redis = redis;
        this.expires = expires;
    }

    @Override
    public void store(TaskResult result) {
        storeAndAck(List.of(result), null, List.of());
    }

    @Override
    public void storeAll(List<TaskResult> results) {
        storeAndAck(results, null, List.of());
    }

    /** Results and acks in one script, when the broker is this Redis; otherwise one after the other. */
    @Override
    public void storeAndAck(List<TaskResult> results, Broker broker, List<Delivery> deliveries) {
        boolean same = broker instanceof RedisBroker rb && rb.connection() == redis;
        if (!deliveries.isEmpty() && !same) {
            storeAll(results);
            broker.ack(deliveries);
            return;
        }
        if (results.isEmpty() && deliveries.isEmpty()) {
            return;
        }
        List<String> args = new ArrayList<>(2 + 2 * results.size() + deliveries.size());
        args.add(Long.toString(expires.toMillis()));
        args.add(Integer.toString(results.size()));
        for (TaskResult r : results) {
            args.add(r.taskId());
            args.add(r.toJson());
        }
        deliveries.forEach(d -> args.add(d.tag()));
        redis.call("store " + results.size() + " result(s)", c -> redis.script("store_ack", List.of(), args));
        if (same) {
            ((RedisBroker) broker).released(deliveries);
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
