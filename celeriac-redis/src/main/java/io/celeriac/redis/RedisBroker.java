package io.celeriac.redis;

import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import redis.clients.jedis.params.ZAddParams;

/**
 * The Redis broker: {@code redis://[:password@]host:port/db}, {@code rediss://…} (TLS),
 * {@code redis-sentinel://host:port,…/db?master=NAME}.
 *
 * <ul>
 *   <li>Layout as kombu's: a queue is the list named after it (priorities 0–2), with
 *       {@code NAME\x06\x163}, {@code \x06\x166}, {@code \x06\x169} for the higher buckets; messages are
 *       LPUSHed kombu envelopes, so Python Celery clients and workers share the queues.</li>
 *   <li>No loss window: a reservation pops the message and records it in flight in kombu's own
 *       {@code unacked} hash, with a lease in {@code unacked_index}, in one Lua script. The score is
 *       the lease end less {@code broker_visibility_timeout}, so a dead worker's messages go back to
 *       their list {@code broker_recovery_timeout} after its last renewal — by any Celeriac worker, or
 *       by a Python worker's own restore when no Celeriac one is left (not kombu's hour).</li>
 *   <li>ETA and countdown messages, and retries, are parked durably in that same hash, indexed by due
 *       time in {@code celeriac.delayed.QUEUE}, and moved to their list by the first reservation after
 *       they are due. Their kombu score is the due time less the visibility timeout: a Python worker
 *       restores them when due. When the last Celeriac consumer of a queue stops (or all of them died
 *       and their presence lapsed), its parked messages go back onto its list at once, where Python
 *       workers hold them until due, as Celery does.</li>
 *   <li>Kombu's own {@code unacked} entries (Python consumers') are restored after
 *       {@code broker_visibility_timeout}, as kombu's restore does.</li>
 *   <li>Waiting: workers sleep until a publish on {@code celeriac.wake} (sent by Celeriac producers)
 *       or, for producers that do not send one (Python's), a short poll.</li>
 * </ul>
 */
final class RedisBroker implements Broker {
    /** Idle workers look at the queues this often even without a wake-up (messages from Python producers). */
    private static final long POLL_MS = 20;
    private static final long RECOVER_EVERY_MS = 1000;

    private final RedisConnection redis;
    private final Duration lease;
    private final Duration visibility;
    private final Clock clock;
    private final Set<String> held = ConcurrentHashMap.newKeySet();
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition woken = lock.newCondition();
    private final Consumer<String> wake = q -> signal();
    private volatile long wakes;
    private volatile long nextRecovery;
    private volatile boolean listening;
    private final RedisControl control;
    private final RedisEvents events;
    /** The server's run id at this instance's last renewal; null before the first. */
    private volatile String recordedUnder;
    private volatile DataLoss dataLoss;

    RedisBroker(RedisConnection redis, Duration lease, Duration visibility, Clock clock) {
        this.redis = redis;
        this.lease = lease;
        this.visibility = visibility;
        this.clock = clock;
        this.control = new RedisControl(redis);
        this.events = new RedisEvents(redis);
    }

    /** The list holding a queue's messages of this priority: kombu's name for its bucket. */
    static String key(String queue, int priority) {
        String b = bucket(priority);
        return b.equals("0") ? queue : queue + "\u0006\u0016" + b;
    }

    /** kombu's priority buckets: 0-2, 3-5, 6-8, 9. */
    static String bucket(int priority) {
        int p = Math.max(0, Math.min(9, priority));
        return Integer.toString(p >= 9 ? 9 : p >= 6 ? 6 : p >= 3 ? 3 : 0);
    }

    /** This consumer's name among a queue's consumers ({@code celeriac.consumers.QUEUE}). */
    private final String consumerId = java.util.UUID.randomUUID().toString();
    /** The queues this instance has reserved from: it renews its presence as their consumer, and leaves them when it goes offline. */
    private final Set<String> consumed = ConcurrentHashMap.newKeySet();

    @Override
    public void publish(String queue, BrokerMessage m) {
        long now = clock.millis();
        String eta = m.etaMillis() > now ? Long.toString(m.etaMillis()) : "";
        redis.call("publish to queue '" + queue + "'", c -> redis.script("publish", List.of(),
                List.of(queue, bucket(m.priority()), eta, m.payload(), Long.toString(visibility.toMillis()))));
    }

    Duration visibility() {
        return visibility;
    }

    @Override
    public List<Delivery> reserve(List<String> queues, int max, Duration wait) throws InterruptedException {
        if (queues.isEmpty() || max <= 0) {
            return List.of();
        }
        if (!listening) {
            listening = true;
            redis.listen(RedisConnection.WAKE, wake);
        }
        long deadline = System.nanoTime() + wait.toNanos();
        while (true) {
            long seen = wakes;
            recoverIfDue(queues);
            long now = clock.millis();
            List<String> args = new ArrayList<>(5 + queues.size());
            args.add(Long.toString(now));
            args.add(Long.toString(lease.toMillis()));
            args.add(Integer.toString(max));
            args.add(Long.toString(visibility.toMillis()));
            args.add(consumerId);
            args.addAll(queues);
            consumed.addAll(queues);
            List<?> r = (List<?>) redis.call("reserve from " + queues, c -> redis.script("reserve", List.of(), args));
            long nextDue = ((Number) r.get(0)).longValue();
            if (r.size() > 1) {
                List<Delivery> out = new ArrayList<>((r.size() - 1) / 4);
                for (int i = 1; i + 3 < r.size(); i += 4) {
                    String tag = (String) r.get(i + 1);
                    out.add(new Delivery((String) r.get(i), (String) r.get(i + 3), tag, ((Number) r.get(i + 2)).intValue()));
                    held.add(tag);
                }
                return out;
            }
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return List.of();
            }
            long sleep = Math.min(left, TimeUnit.MILLISECONDS.toNanos(POLL_MS));
            if (nextDue > 0) {
                sleep = Math.min(sleep, Math.max(0, TimeUnit.MILLISECONDS.toNanos(nextDue - now)));
            }
            lock.lock();
            try {
                if (wakes == seen && sleep > 0) {
                    woken.awaitNanos(sleep);
                }
            } finally {
                lock.unlock();
            }
        }
    }

    private void signal() {
        lock.lock();
        try {
            wakes++;
            woken.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Dead consumers' messages go back, checked at most once a second per broker instance. */
    private void recoverIfDue(List<String> queues) {
        long now = clock.millis();
        if (now < nextRecovery) {
            return;
        }
        nextRecovery = now + RECOVER_EVERY_MS;
        List<String> args = new ArrayList<>(4 + queues.size());
        args.add(Long.toString(now));
        args.add(Long.toString(visibility.toMillis()));
        args.add(Long.toString(now + lease.toMillis()));
        args.add(consumerId);
        args.addAll(queues);
        redis.call("recover lapsed leases", c -> redis.script("recover", List.of(), args));
    }

    @Override
    public void ack(List<Delivery> deliveries) {
        if (deliveries.isEmpty()) {
            return;
        }
        // the acks alone, through the one script that commits what finishing a message causes
        RedisSettle.commit(redis, deliveries.stream().map(d -> io.celeriac.spi.Settlement.ack(d, null)).toList(), true,
                Duration.ofSeconds(1), visibility);
        deliveries.forEach(d -> held.remove(d.tag()));
    }

    /** Deliveries acked by someone else on this connection (the result store's store-and-ack). */
    void released(List<Delivery> deliveries) {
        deliveries.forEach(d -> held.remove(d.tag()));
    }

    RedisConnection connection() {
        return redis;
    }

    @Override
    public void requeue(Delivery d) {
        try {
            redis.call("requeue", c -> redis.script("requeue", List.of(), List.of(d.tag())));
        } finally {
            // given up either way: not renewed any more, so a requeue that failed returns when its lease lapses
            held.remove(d.tag());
        }
    }

    /** A reservation or renewal at t holds until t + broker_recovery_timeout, when any consumer's recovery may hand it on. */
    @Override
    public Duration lease() {
        return lease;
    }

    /** This consumer's own marker, written at each renewal: gone after a restart means the data went with it. */
    private String marker() {
        return "celeriac.consumer." + consumerId;
    }

    /** How long a marker outlives its last renewal (a consumer that died leaves nothing for long). */
    private static final long MARKER_TTL_MS = Duration.ofDays(1).toMillis();

    /**
     * Renews the leases of what this instance holds (kombu's {@code unacked_index} scores, lease end
     * less the visibility timeout) and its presence as a consumer of its queues; sees a restart of
     * the server that lost its data (a new run id, and this consumer's marker gone).
     */
    @Override
    public void renew() {
        long now = clock.millis();
        long deadline = now + lease.toMillis();
        redis.call("renew leases", c -> {
            String runId = runId(c);
            if (runId != null && recordedUnder != null && !runId.equals(recordedUnder) && dataLoss == null
                    && !c.exists(marker())) {
                // another server process, and the marker this instance wrote on the last one is gone:
                // it restarted without its data (a restart that persists keeps the marker)
                lost(c, recordedUnder, runId);
            }
            if (!held.isEmpty()) {
                Map<String, Double> scores = new HashMap<>();
                double score = (deadline - visibility.toMillis()) / 1000.0;
                held.forEach(t -> scores.put(t, score));
                c.zadd("unacked_index", scores, ZAddParams.zAddParams().xx());
            }
            for (String q : consumed) {
                c.zadd("celeriac.consumers." + q, deadline, consumerId);
            }
            c.psetex(marker(), MARKER_TTL_MS, Long.toString(now));
            recordedUnder = runId;
            return null;
        });
    }

    /**
     * Leaves the queues this instance consumed: one left with no live Celeriac consumer gets its
     * parked messages back on its list, for Python workers.
     */
    @Override
    public void leave() {
        long now = clock.millis();
        redis.call("leave queues", c -> {
            c.del(marker());
            if (!consumed.isEmpty()) {
                List<String> args = new ArrayList<>();
                args.add(Long.toString(now));
                args.add(consumerId);
                args.addAll(consumed);
                Object n = redis.script("leave", List.of(), args);
                if (n instanceof Number num && num.longValue() > 0) {
                    org.slf4j.LoggerFactory.getLogger("celeriac.redis").info(
                            "{} parked message(s) handed back to their queues: no Celeriac worker consumes them now", num);
                }
            }
            return null;
        });
    }

    /** The restart is seen: which of the messages this instance holds lost their in-flight records, at this moment. */
    private void lost(redis.clients.jedis.UnifiedJedis c, String before, String after) {
        List<String> tags = List.copyOf(held);
        Set<String> missing = new java.util.HashSet<>();
        if (!tags.isEmpty()) {
            List<String> entries = c.hmget("unacked", tags.toArray(String[]::new));
            for (int i = 0; i < tags.size(); i++) {
                if (entries.get(i) == null) {
                    missing.add(tags.get(i));
                }
            }
        }
        missing.retainAll(held); // one acked meanwhile was not lost: it is done
        dataLoss = new DataLoss(Instant.ofEpochMilli(clock.millis()), "Redis at " + redis.safeUrl + " restarted with its data gone (run id "
                + shortId(before) + " \u2192 " + shortId(after) + ")", Set.copyOf(missing));
    }

    private static String shortId(String runId) {
        return runId.length() > 8 ? runId.substring(0, 8) : runId;
    }

    /** The server's run id, or null where INFO is not allowed (renamed or denied by an ACL: the check is off). */
    private static String runId(redis.clients.jedis.UnifiedJedis c) {
        try {
            return runId(c.info("server"));
        } catch (redis.clients.jedis.exceptions.JedisDataException denied) {
            return null;
        }
    }

    /** {@code run_id} from {@code INFO server}: a new one each time the server process starts. */
    static String runId(String info) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith("run_id:")) {
                return line.substring(7).trim();
            }
        }
        return null;
    }

    @Override
    public DataLoss dataLoss() {
        return dataLoss;
    }

    @Override
    public long purge(String queue) {
        return redis.call("purge queue '" + queue + "'", c -> ((Number) redis.script("purge", List.of(), List.of(queue))).longValue());
    }

    @Override
    public List<Scheduled> scheduled(String queue, int limit) {
        return redis.call("scheduled messages of queue '" + queue + "'", c -> {
            List<Scheduled> out = new ArrayList<>();
            for (var t : c.zrangeWithScores("celeriac.delayed." + queue, 0, limit - 1)) {
                String member = t.getElement();
                String payload = null;
                if (member.startsWith("{")) { // parked by an earlier Celeriac as {"b": bucket, "m": message}
                    try {
                        payload = io.celeriac.protocol.Json.read(member).path("m").asText(null);
                    } catch (Exception notJson) {
                        // left out
                    }
                } else { // "bucket:tag", the message in kombu's unacked hash
                    String entry = c.hget("unacked", member.substring(member.indexOf(':') + 1));
                    payload = entry == null ? null : unackedPayload(entry);
                }
                if (payload != null) {
                    out.add(new Scheduled(payload, Instant.ofEpochMilli((long) t.getScore())));
                }
            }
            return out;
        });
    }

    @Override
    public long size(String queue) {
        return redis.call("size of queue '" + queue + "'", c -> {
            long n = 0;
            for (int p : new int[] {0, 3, 6, 9}) {
                n += c.llen(key(queue, p));
            }
            return n + c.zcard("celeriac.delayed." + queue);
        });
    }

    /** The envelope of a kombu unacked entry ({@code [envelope, exchange, routing_key]}), or null. */
    static String unackedPayload(String entry) {
        java.util.regex.Matcher m = UNACKED_ENTRY.matcher(entry);
        return m.matches() ? m.group(1) : null;
    }

    private static final java.util.regex.Pattern UNACKED_ENTRY = java.util.regex.Pattern.compile("^\\[(.*), \"[^\"]*\", (\".*\")\\]$",
            java.util.regex.Pattern.DOTALL);

    /** As Celery: a client's ETA task goes on its queue at once, where Python workers can see it too. */
    @Override
    public boolean etaOnQueue() {
        return true;
    }

    /** Celery's celeryev exchange, shared with Python's tools (needs no presence). */
    @Override
    public io.celeriac.spi.EventChannel events(io.celeriac.spi.Coordination presence) {
        return events;
    }

    /** Celery's pidbox, shared with Python workers and clients (needs no presence). */
    @Override
    public io.celeriac.spi.ControlChannel control(io.celeriac.spi.Coordination presence) {
        return control;
    }

    @Override
    public String describe() {
        return redis.safeUrl;
    }

    @Override
    public void close() {
        redis.unlisten(RedisConnection.WAKE, wake);
        redis.release();
    }
}
