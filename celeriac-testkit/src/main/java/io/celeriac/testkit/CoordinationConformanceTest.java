package io.celeriac.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.EventChannel;
import io.celeriac.spi.ResultStore;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The coordination contract: worker presence, revocations, locks, records, the fenced publish and
 * counters, on a real store. {@link #openBroker} gives a broker on the same store (for the fenced
 * publish: one atomic step there); the publish to a broker elsewhere is checked too.
 */
public abstract class CoordinationConformanceTest extends ConformanceSupport {

    /** A subclass supplies the store. */
    protected CoordinationConformanceTest() {
    }

    /**
     * Presence, revocations, locks, records and counters on the shared store.
     *
     * @return an open coordination store
     */
    protected abstract Coordination openCoordination();

    private Coordination coordination() {
        return track(openCoordination());
    }

    // --- heartbeats ------------------------------------------------------------------------------

    @Test
    void nodesRecordHeartbeatsAndGoOffline() {
        Coordination b = coordination();
        String node = "w-" + UUID.randomUUID() + "@host";
        b.keepAlive(node, "{\"active\": 1}");
        assertThat(b.nodes()).containsKey(node);
        assertThat(b.nodes().get(node).json()).isEqualTo("{\"active\": 1}");
        b.keepAlive(node, "{\"active\": 2}");
        assertThat(coordination().nodes().get(node).json()).isEqualTo("{\"active\": 2}");
        b.keepAlive(node, null);
        assertThat(b.nodes()).doesNotContainKey(node);
    }

    // --- revocations -----------------------------------------------------------------------------

    @Test
    void revocationsAreSeenByOtherConsumersAndUpgradedToTerminate() {
        Coordination a = coordination();
        Coordination b = coordination();
        Instant before = Instant.now().minusSeconds(1);
        String id = "rev-" + UUID.randomUUID();
        a.revoke(id, false, Instant.now().plusSeconds(3600));
        assertThat(b.revocations(before)).filteredOn(r -> r.taskId().equals(id))
                .singleElement().satisfies(r -> assertThat(r.terminate()).isFalse());
        a.revoke(id, true, Instant.now().plusSeconds(3600));
        a.revoke(id, false, Instant.now().plusSeconds(3600)); // never downgraded
        assertThat(b.revocations(before)).filteredOn(r -> r.taskId().equals(id))
                .singleElement().satisfies(r -> assertThat(r.terminate()).isTrue());
        assertThat(b.revocations(Instant.now().plusSeconds(60))).noneMatch(r -> r.taskId().equals(id));
    }

    @Test
    void anExpiredRevocationIsForgotten() throws Exception {
        Coordination a = coordination();
        String id = "rev-" + UUID.randomUUID();
        a.revoke(id, false, Instant.now().plusMillis(300));
        Thread.sleep(500);
        assertThat(a.revocations(Instant.EPOCH)).noneMatch(r -> r.taskId().equals(id));
    }

    // --- locks, records, fenced publish -----------------------------------------------------------

    @Test
    void aLockHasOneHolderUntilItsLeaseRunsOut() throws Exception {
        Coordination a = coordination();
        Coordination b = coordination();
        String lock = "lock-" + UUID.randomUUID();
        assertThat(a.tryLock(lock, "a", Duration.ofMillis(700))).isTrue();
        assertThat(b.tryLock(lock, "b", Duration.ofMillis(700))).isFalse();
        assertThat(a.tryLock(lock, "a", Duration.ofMillis(700))).isTrue(); // renewed
        assertThat(b.holder(lock)).contains("a");
        b.unlock(lock, "b"); // not b's to release
        assertThat(b.holder(lock)).contains("a");
        Thread.sleep(900);
        assertThat(b.holder(lock)).isEmpty();
        assertThat(b.tryLock(lock, "b", Duration.ofSeconds(5))).isTrue();
        assertThat(a.tryLock(lock, "a", Duration.ofSeconds(5))).isFalse();
        b.unlock(lock, "b");
        assertThat(a.tryLock(lock, "a", Duration.ofSeconds(5))).isTrue();
    }

    @Test
    void ofManyContendersExactlyOneTakesALock() throws Exception {
        String lock = "lock-" + UUID.randomUUID();
        int n = 8;
        ExecutorService ex = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Boolean>> won = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Coordination c = coordination();
            String owner = "owner-" + i;
            won.add(ex.submit(() -> {
                go.await();
                return c.tryLock(lock, owner, Duration.ofMinutes(1));
            }));
        }
        go.countDown();
        int winners = 0;
        for (Future<Boolean> f : won) {
            winners += f.get(30, TimeUnit.SECONDS) ? 1 : 0;
        }
        ex.shutdown();
        assertThat(winners).isEqualTo(1);
    }

    @Test
    void recordsAreReadByKeyAndByPrefix() {
        Coordination c = coordination();
        String p = "rec_" + UUID.randomUUID() + ".";
        c.put(p + "a", "1");
        c.put(p + "b", "2 ünï");
        c.put(p + "b", "3");
        c.put("other_" + p, "x");
        assertThat(coordination().get(p + "a")).contains("1");
        assertThat(c.get(p + "zz")).isEmpty();
        assertThat(c.getAll(p)).containsExactly(Map.entry(p + "a", "1"), Map.entry(p + "b", "3"));
        assertThat(c.getAll("rec%")).isEmpty(); // a prefix, not a pattern
    }

    @Test
    void onlyTheLockHolderPublishesAndRecordsTogether() throws Exception {
        Coordination leader = coordination();
        Coordination other = coordination();
        Broker consumer = broker();
        String lock = "lock-" + UUID.randomUUID();
        String key = "last-" + UUID.randomUUID();
        assertThat(leader.tryLock(lock, "leader", Duration.ofMinutes(1))).isTrue();
        assertThat(other.publishIfHolder(lock, "other", consumer, queue, msg("from other"), key, "other")).isFalse();
        assertThat(leader.publishIfHolder(lock, "leader", consumer, queue, msg("from leader"), key, "slot-1")).isTrue();
        assertThat(leader.publishIfHolder(lock, "leader", consumer, queue, null, key, "slot-2")).isTrue(); // record only
        assertThat(payloads(consumer.reserve(List.of(queue), 10, Duration.ZERO))).containsExactly("from leader");
        assertThat(other.get(key)).contains("slot-2");
    }

    /** A broker on another store (beat on RabbitMQ with its lock in Redis): published first, then recorded. */
    @Test
    void theLockHolderPublishesToABrokerOnAnotherStoreToo() throws Exception {
        Coordination leader = coordination();
        String url = "memory://conformance-elsewhere-" + UUID.randomUUID();
        io.celeriac.spi.InMemoryBackend memory = new io.celeriac.spi.InMemoryBackend();
        Broker elsewhere = track(memory.openBroker(url, io.celeriac.config.Config.defaults()));
        String lock = "lock-" + UUID.randomUUID();
        String key = "last-" + UUID.randomUUID();
        assertThat(leader.publishIfHolder(lock, "leader", elsewhere, queue, msg("too early"), key, "x")).isFalse();
        assertThat(leader.tryLock(lock, "leader", Duration.ofMinutes(1))).isTrue();
        assertThat(coordination().publishIfHolder(lock, "other", elsewhere, queue, msg("from other"), key, "other")).isFalse();
        assertThat(leader.publishIfHolder(lock, "leader", elsewhere, queue, msg("from leader"), key, "slot-1")).isTrue();
        assertThat(payloads(elsewhere.reserve(List.of(queue), 10, Duration.ZERO))).containsExactly("from leader");
        assertThat(broker().size(queue)).as("nothing on this store's own broker").isZero();
        assertThat(coordination().get(key)).contains("slot-1");
        io.celeriac.spi.InMemoryBackend.drop(url);
    }

    // --- counters --------------------------------------------------------------------------------

    @Test
    void aCounterStartsAtZeroAndAddsAtomicallyAcrossInstances() throws Exception {
        String key = "count-" + UUID.randomUUID();
        Coordination a = coordination();
        assertThat(a.increment(key, 1, Duration.ofMinutes(5))).isEqualTo(1);
        assertThat(coordination().increment(key, 4, Duration.ofMinutes(5))).isEqualTo(5);
        assertThat(a.increment(key, -2, Duration.ofMinutes(5))).isEqualTo(3);
        assertThat(a.increment("other-" + key, 1, null)).as("counters are separate").isEqualTo(1);
        int threads = 8;
        int each = 25;
        ExecutorService ex = Executors.newFixedThreadPool(threads);
        List<Future<?>> done = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Coordination c = coordination();
            done.add(ex.submit(() -> {
                for (int j = 0; j < each; j++) {
                    c.increment(key, 1, Duration.ofMinutes(5));
                }
                return null;
            }));
        }
        for (Future<?> f : done) {
            f.get(30, TimeUnit.SECONDS);
        }
        ex.shutdown();
        assertThat(a.increment(key, 0, Duration.ofMinutes(5))).as("no increment lost").isEqualTo(3 + threads * each);
    }

    @Test
    void aCounterExpiresItsTtlAfterTheLastIncrement() throws Exception {
        String key = "count-" + UUID.randomUUID();
        Coordination c = coordination();
        assertThat(c.increment(key, 7, Duration.ofMillis(300))).isEqualTo(7);
        Thread.sleep(600);
        assertThat(c.increment(key, 1, Duration.ofMinutes(1))).as("expired: from zero again").isEqualTo(1);
        assertThat(c.increment(key, 1, null)).isEqualTo(2);
        Thread.sleep(400);
        assertThat(c.increment(key, 0, null)).as("no ttl: kept").isEqualTo(2);
    }

    // --- events ----------------------------------------------------------------------------------

    @Test
    void anEventSentOnceListenHasReturnedIsHeardByEveryListener() throws Exception {
        // `celeriac events` says "listening" when listen returns; a client may send its task-sent at once
        for (int round = 0; round < 5; round++) {
            EventChannel inA = broker().events(coordination());
            EventChannel inB = broker().events(coordination());
            List<JsonNode> heardA = new CopyOnWriteArrayList<>();
            List<JsonNode> heardB = new CopyOnWriteArrayList<>();
            String id = "ev-" + UUID.randomUUID();
            try (AutoCloseable a = inA.listen(heardA::add); AutoCloseable b = inB.listen(heardB::add)) {
                EventChannel out = broker().events(coordination()); // a new sender, as a client just opened
                out.send(Json.NODES.objectNode().put("type", "task-sent").put("uuid", id).put("hostname", "client@here"));
                for (List<JsonNode> heard : List.of(heardA, heardB)) {
                    await().atMost(Duration.ofSeconds(10)).alias("round " + round + ", listener " + (heard == heardA ? "A" : "B"))
                            .until(() -> heard.stream().anyMatch(e -> id.equals(e.path("uuid").asText())));
                }
            }
            assertThat(heardA).filteredOn(e -> id.equals(e.path("uuid").asText())).singleElement()
                    .satisfies(e -> assertThat(e.path("type").asText()).isEqualTo("task-sent"));
        }
    }
}
