package io.celeriac.spi;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskResult;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code memory://NAME}: broker and result store in this JVM's heap, shared by every instance
 * opened with the same name. For tests and examples; nothing survives the process.
 */
public final class InMemoryBackend implements BackendProvider {
    private static final Map<String, Store> STORES = new ConcurrentHashMap<>();

    private final Clock clock;

    /** The provider the service loader uses: the system clock. */
    public InMemoryBackend() {
        this(Clock.systemUTC());
    }

    /**
     * A provider whose stores read time from {@code clock} (leases, expiry, locks): for tests.
     *
     * @param clock the time source
     */
    public InMemoryBackend(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Set<String> schemes() {
        return Set.of("memory");
    }

    @Override
    public Broker openBroker(String url, Config config) {
        return new MemoryBroker(store(url), config.get(Settings.BROKER_RECOVERY_TIMEOUT), clock, url);
    }

    @Override
    public ResultStore openResultStore(String url, Config config) {
        return new MemoryResults(store(url), config.get(Settings.RESULT_EXPIRES), clock, url);
    }

    @Override
    public Coordination openCoordination(String url, Config config) {
        return new MemoryCoordination(store(url), clock);
    }

    /** The store's task history: one per store name, kept as long as the store. */
    @Override
    public TaskHistory openTaskHistory(String url, Config config) {
        return store(url).history;
    }

    /** The queues of {@code broker} (one this provider opened) holding a message, ETAs ahead included, in first-sent order: what the eager mode drains. */
    public static List<String> queuesWithMessages(Broker broker) {
        if (!(broker instanceof MemoryBroker mb)) {
            throw new IllegalArgumentException(broker.describe() + " is not an in-memory broker");
        }
        mb.s.lock.lock();
        try {
            java.util.Set<String> out = new java.util.LinkedHashSet<>();
            mb.s.messages.values().stream().filter(e -> e.owner == null).sorted((a, b) -> Long.compare(a.seq, b.seq))
                    .forEach(e -> out.add(e.queue));
            return List.copyOf(out);
        } finally {
            mb.s.lock.unlock();
        }
    }

    /** Forgets a store made by {@link #openBroker} (an eager client's, when it closes). */
    public static void drop(String url) {
        STORES.remove(url.replaceFirst("^memory:(//)?", ""));
    }

    private static Store store(String url) {
        return STORES.computeIfAbsent(url.replaceFirst("^memory:(//)?", ""), k -> new Store());
    }

    private static final class Entry {
        final long seq;
        final String queue;
        final BrokerMessage msg;
        Instant availableAt;
        String owner;
        int deliveries;

        Entry(long seq, String queue, BrokerMessage msg, Instant availableAt) {
            this.seq = seq;
            this.queue = queue;
            this.msg = msg;
            this.availableAt = availableAt;
        }
    }

    private static final class Store {
        final ReentrantLock lock = new ReentrantLock();
        final Condition changed = lock.newCondition();
        final Map<Long, Entry> messages = new HashMap<>();
        final Map<String, TaskResult> results = new HashMap<>();
        final Map<String, Instant> resultExpiry = new HashMap<>();
        final Map<String, NodeBeat> nodes = new HashMap<>();
        final Map<String, Revocation> revoked = new HashMap<>();
        final Map<String, Instant> revokedUntil = new HashMap<>();
        final Map<String, String> lockOwner = new HashMap<>();
        final Map<String, Instant> lockUntil = new HashMap<>();
        final Map<String, String> records = new java.util.TreeMap<>();
        final Map<String, Long> counters = new HashMap<>();
        final Map<String, Instant> counterUntil = new HashMap<>();
        final Map<String, Integer> chordSizes = new HashMap<>();
        final Map<String, List<ChordPart>> chordParts = new HashMap<>();
        final Map<String, com.fasterxml.jackson.databind.JsonNode> groups = new HashMap<>();
        final MemoryTaskHistory history = new MemoryTaskHistory("memory task history");
        long seq;

        /** Inserts a message; the caller holds the lock. */
        void insert(String queue, BrokerMessage m, Instant now) {
            long id = ++seq;
            messages.put(id, new Entry(id, queue, m, m.eta() != null && m.eta().isAfter(now) ? m.eta() : now));
            changed.signalAll();
        }
    }

    private static final class MemoryBroker implements Broker {
        private final Store s;
        private final Duration lease;
        private final Clock clock;
        private final String url;
        private final String owner = UUID.randomUUID().toString();

        MemoryBroker(Store s, Duration lease, Clock clock, String url) {
            this.s = s;
            this.lease = lease;
            this.clock = clock;
            this.url = url;
        }

        @Override
        public void publish(String queue, BrokerMessage m) {
            s.lock.lock();
            try {
                s.insert(queue, m, clock.instant());
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public List<Delivery> reserve(List<String> queues, int max, Duration wait) throws InterruptedException {
            long deadline = System.nanoTime() + wait.toNanos();
            s.lock.lock();
            try {
                while (true) {
                    Instant now = clock.instant();
                    List<Entry> ready = new ArrayList<>();
                    for (Entry e : s.messages.values()) {
                        if (queues.contains(e.queue) && !e.availableAt.isAfter(now)) {
                            ready.add(e);
                        }
                    }
                    ready.sort((a, b) -> a.msg.priority() != b.msg.priority()
                            ? Integer.compare(a.msg.priority(), b.msg.priority()) : Long.compare(a.seq, b.seq));
                    List<Delivery> out = new ArrayList<>();
                    for (Entry e : ready.subList(0, Math.min(max, ready.size()))) {
                        e.owner = owner;
                        e.availableAt = now.plus(lease);
                        e.deliveries++;
                        out.add(new Delivery(e.queue, e.msg.payload(), Long.toString(e.seq), e.deliveries));
                    }
                    long left = deadline - System.nanoTime();
                    if (!out.isEmpty() || left <= 0) {
                        return out;
                    }
                    s.changed.await(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)), TimeUnit.NANOSECONDS);
                }
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public void ack(List<Delivery> deliveries) {
            s.lock.lock();
            try {
                deliveries.forEach(d -> s.messages.remove(Long.parseLong(d.tag())));
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public void requeue(Delivery d) {
            s.lock.lock();
            try {
                Entry e = s.messages.get(Long.parseLong(d.tag()));
                if (e != null && owner.equals(e.owner)) {
                    e.owner = null;
                    e.availableAt = clock.instant();
                    s.changed.signalAll();
                }
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public void renew() {
            s.lock.lock();
            try {
                Instant now = clock.instant();
                for (Entry e : s.messages.values()) {
                    if (owner.equals(e.owner) && e.availableAt.isAfter(now)) {
                        e.availableAt = now.plus(lease);
                    }
                }
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public long purge(String queue) {
            s.lock.lock();
            try {
                List<Long> gone = waiting(queue).stream().map(e -> e.seq).toList();
                gone.forEach(s.messages::remove);
                return gone.size();
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public long size(String queue) {
            s.lock.lock();
            try {
                return waiting(queue).size();
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public List<Scheduled> scheduled(String queue, int limit) {
            Instant now = clock.instant();
            s.lock.lock();
            try {
                return s.messages.values().stream()
                        .filter(e -> e.queue.equals(queue) && e.owner == null && e.availableAt.isAfter(now))
                        .sorted(java.util.Comparator.comparing((Entry e) -> e.availableAt))
                        .limit(limit).map(e -> new Scheduled(e.msg.payload(), e.availableAt)).toList();
            } finally {
                s.lock.unlock();
            }
        }

        private List<Entry> waiting(String queue) {
            Instant now = clock.instant();
            // Reserved = owned with a live lease; an expired lease makes the message waiting again.
            return s.messages.values().stream()
                    .filter(e -> e.queue.equals(queue) && (e.owner == null || !e.availableAt.isAfter(now))).toList();
        }

        @Override
        public String describe() {
            return url;
        }

        @Override
        public void close() {
        }
    }

    private static final class MemoryCoordination implements Coordination {
        private final Store s;
        private final Clock clock;

        MemoryCoordination(Store s, Clock clock) {
            this.s = s;
            this.clock = clock;
        }

        private <T> T locked(java.util.function.Supplier<T> body) {
            s.lock.lock();
            try {
                return body.get();
            } finally {
                s.lock.unlock();
            }
        }

        private boolean holds(String lock, String owner) {
            Instant until = s.lockUntil.get(lock);
            return owner.equals(s.lockOwner.get(lock)) && until != null && until.isAfter(clock.instant());
        }

        @Override
        public boolean tryLock(String lock, String owner, Duration lease) {
            return locked(() -> {
                Instant until = s.lockUntil.get(lock);
                if (until == null || !until.isAfter(clock.instant()) || owner.equals(s.lockOwner.get(lock))) {
                    s.lockOwner.put(lock, owner);
                    s.lockUntil.put(lock, clock.instant().plus(lease));
                    return true;
                }
                return false;
            });
        }

        @Override
        public void unlock(String lock, String owner) {
            locked(() -> {
                if (owner.equals(s.lockOwner.get(lock))) {
                    s.lockOwner.remove(lock);
                    s.lockUntil.remove(lock);
                }
                return null;
            });
        }

        @Override
        public Optional<String> holder(String lock) {
            return locked(() -> {
                String o = s.lockOwner.get(lock);
                return o != null && holds(lock, o) ? Optional.of(o) : Optional.empty();
            });
        }

        @Override
        public Optional<String> get(String key) {
            return locked(() -> Optional.ofNullable(s.records.get(key)));
        }

        @Override
        public Map<String, String> getAll(String prefix) {
            return locked(() -> {
                Map<String, String> out = new java.util.TreeMap<>();
                s.records.forEach((k, v) -> {
                    if (k.startsWith(prefix)) {
                        out.put(k, v);
                    }
                });
                return out;
            });
        }

        @Override
        public void put(String key, String value) {
            locked(() -> s.records.put(key, value));
        }

        @Override
        public boolean publishIfHolder(String lock, String owner, Broker broker, String queue, BrokerMessage message, String key,
                                       String value) {
            if (!(broker instanceof MemoryBroker mb && mb.s == s)) {
                return Coordination.publishThenRecord(this, lock, owner, broker, queue, message, key, value);
            }
            return locked(() -> {
                if (!holds(lock, owner)) {
                    return false;
                }
                if (message != null) {
                    s.insert(queue, message, clock.instant());
                }
                s.records.put(key, value);
                return true;
            });
        }

        @Override
        public void keepAlive(String node, String heartbeatJson) {
            locked(() -> heartbeatJson == null ? s.nodes.remove(node)
                    : s.nodes.put(node, new NodeBeat(node, heartbeatJson, clock.instant())));
        }

        @Override
        public Map<String, NodeBeat> nodes() {
            return locked(() -> Map.copyOf(s.nodes));
        }

        @Override
        public void revoke(String taskId, boolean terminate, Instant expires) {
            locked(() -> {
                Revocation old = s.revoked.get(taskId);
                s.revoked.put(taskId, new Revocation(taskId, terminate || (old != null && old.terminate()), clock.instant()));
                return s.revokedUntil.put(taskId, expires);
            });
        }

        @Override
        public List<Revocation> revocations(Instant since) {
            return locked(() -> {
                Instant now = clock.instant();
                return s.revoked.values().stream()
                        .filter(r -> !r.at().isBefore(since) && s.revokedUntil.get(r.taskId()).isAfter(now))
                        .sorted(java.util.Comparator.comparing(Revocation::at)).toList();
            });
        }

        @Override
        public long increment(String key, long delta, Duration ttl) {
            return locked(() -> {
                Instant now = clock.instant();
                Instant until = s.counterUntil.get(key);
                long value = (until != null && !until.isAfter(now) ? 0L : s.counters.getOrDefault(key, 0L)) + delta;
                s.counters.put(key, value);
                if (ttl == null) {
                    s.counterUntil.remove(key);
                } else {
                    s.counterUntil.put(key, now.plus(ttl));
                }
                return value;
            });
        }

        @Override
        public void close() {
        }
    }

    private static final class MemoryResults implements ResultStore {
        private final Store s;
        private final Duration expires;
        private final Clock clock;
        private final String url;

        MemoryResults(Store s, Duration expires, Clock clock, String url) {
            this.s = s;
            this.expires = expires;
            this.clock = clock;
            this.url = url;
        }

        @Override
        public void store(TaskResult r) {
            s.lock.lock();
            try {
                TaskResult old = get(r.taskId()).orElse(null);
                if (old == null || ResultStore.replaces(r.state(), old.state())) {
                    s.results.put(r.taskId(), r);
                    s.resultExpiry.put(r.taskId(), clock.instant().plus(expires));
                    s.changed.signalAll();
                }
            } finally {
                s.lock.unlock();
            }
        }

        /** Under the store's lock; with a broker on the same store also the publications and acks, atomically. */
        @Override
        public void settle(List<Settlement> batch, Broker broker) {
            boolean same = broker instanceof MemoryBroker mb && mb.s == s;
            Settle.Elsewhere later = new Settle.Elsewhere();
            s.lock.lock();
            try {
                Settle.Tx tx = new Settle.Tx() {
                    @Override
                    public boolean claim(Delivery d) {
                        return !same || s.messages.remove(Long.parseLong(d.tag())) != null;
                    }

                    @Override
                    public void store(TaskResult r) {
                        MemoryResults.this.store(r);
                    }

                    @Override
                    public void publish(Publication p) {
                        if (same) {
                            s.insert(p.queue(), p.message(), clock.instant());
                        } else {
                            later.publish(p);
                        }
                    }

                    @Override
                    public void chordSize(String groupId, int size) {
                        s.chordSizes.put(groupId, size);
                    }

                    @Override
                    public Optional<List<Settle.Part>> addPart(ChordPart part) {
                        List<ChordPart> parts = s.chordParts.computeIfAbsent(part.groupId(), g -> new ArrayList<>());
                        if (parts.stream().anyMatch(p -> p.taskId().equals(part.taskId()))) {
                            return Optional.empty(); // a duplicate run of a part counts once
                        }
                        parts.add(part);
                        Integer size = s.chordSizes.get(part.groupId());
                        if (size == null || parts.size() != size) {
                            return Optional.empty();
                        }
                        s.chordParts.remove(part.groupId());
                        s.chordSizes.remove(part.groupId());
                        return Optional.of(parts.stream()
                                .sorted(java.util.Comparator.comparing((ChordPart p) -> p.groupIndex() == null ? Integer.MAX_VALUE : p.groupIndex()))
                                .map(p -> new Settle.Part(p.taskId(), p.state(), p.result())).toList());
                    }

                    @Override
                    public void ack(Delivery d) {
                        if (!same) {
                            later.ack(d);
                        }
                    }
                };
                batch.forEach(st -> Settle.apply(tx, st));
            } finally {
                s.lock.unlock();
            }
            later.send(broker);
        }

        @Override
        public void saveGroup(String groupId, com.fasterxml.jackson.databind.JsonNode tuple) {
            s.lock.lock();
            try {
                s.groups.put(groupId, tuple.deepCopy());
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public Optional<com.fasterxml.jackson.databind.JsonNode> group(String groupId) {
            s.lock.lock();
            try {
                return Optional.ofNullable(s.groups.get(groupId)).map(com.fasterxml.jackson.databind.JsonNode::deepCopy);
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public Optional<TaskResult> get(String taskId) {
            s.lock.lock();
            try {
                Instant exp = s.resultExpiry.get(taskId);
                return exp == null || exp.isBefore(clock.instant()) ? Optional.empty() : Optional.of(s.results.get(taskId));
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public Optional<TaskResult> await(String taskId, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            s.lock.lock();
            try {
                while (true) {
                    Optional<TaskResult> r = get(taskId);
                    long left = deadline - System.nanoTime();
                    if ((r.isPresent() && r.get().state().ready()) || left <= 0) {
                        return r;
                    }
                    s.changed.await(left, TimeUnit.NANOSECONDS);
                }
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public void forget(String taskId) {
            s.lock.lock();
            try {
                s.results.remove(taskId);
                s.resultExpiry.remove(taskId);
            } finally {
                s.lock.unlock();
            }
        }

        @Override
        public String describe() {
            return url;
        }

        @Override
        public void close() {
        }
    }
}
