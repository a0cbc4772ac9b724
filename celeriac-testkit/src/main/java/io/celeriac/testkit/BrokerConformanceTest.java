package io.celeriac.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.TaskState;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.Delivery;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract every broker and result store must meet, run against a real instance. A broker
 * module subclasses this once and supplies {@link #openBroker} and {@link #openResultStore}; every
 * test uses fresh queue names, so one store may serve all tests.
 */
@Tag("integration")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class BrokerConformanceTest {

    /**
     * A new consumer identity on the shared store, whose leases last {@code lease}. Two calls give
     * two consumers that compete for the same queues.
     */
    protected abstract Broker openBroker(Duration lease);

    /** A result store on the shared store whose results expire after {@code expires}. */
    protected abstract ResultStore openResultStore(Duration expires);

    /** Locks and records on the shared store. */
    protected abstract Coordination openCoordination();

    private static final Duration LONG_LEASE = Duration.ofMinutes(5);
    private final List<AutoCloseable> opened = Collections.synchronizedList(new ArrayList<>());
    private final String queue = "q-" + UUID.randomUUID();

    private Broker broker(Duration lease) {
        Broker b = openBroker(lease);
        opened.add(b);
        return b;
    }

    private Broker broker() {
        return broker(LONG_LEASE);
    }

    private Coordination coordination() {
        Coordination c = openCoordination();
        opened.add(c);
        return c;
    }

    private ResultStore results(Duration expires) {
        ResultStore r = openResultStore(expires);
        opened.add(r);
        return r;
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    private static BrokerMessage msg(String payload) {
        return new BrokerMessage(payload, payload, 0, null);
    }

    private static BrokerMessage msg(String payload, int priority) {
        return new BrokerMessage(payload, payload, priority, null);
    }

    private static List<String> payloads(List<Delivery> ds) {
        return ds.stream().map(Delivery::payload).toList();
    }

    private static List<String> drain(Broker b, String queue, int batch) throws InterruptedException {
        List<String> out = new ArrayList<>();
        while (true) {
            List<Delivery> ds = b.reserve(List.of(queue), batch, Duration.ZERO);
            if (ds.isEmpty()) {
                return out;
            }
            out.addAll(payloads(ds));
            b.ack(ds);
        }
    }

    // --- sizes ------------------------------------------------------------------------------------

    /**
     * A message with a 16 MiB argument (22 M characters of base64, past the 20 M characters Jackson
     * reads in one string by default) goes through publish, reserve and decode whole, and a 21 M
     * character result through settle, get and await: what a raised task_payload_max_bytes allows.
     */
    @Test
    void carriesSixteenMebibyteMessagesAndTwentyOneMillionCharacterResults() throws Exception {
        Broker b = broker();
        ResultStore r = results(Duration.ofHours(1));
        String arg = "m".repeat(16 * 1024 * 1024);
        io.celeriac.protocol.TaskMessage m = io.celeriac.protocol.TaskMessage.builder("big")
                .args(Json.NODES.arrayNode().add(arg)).queue(queue).build();
        String payload = io.celeriac.protocol.MessageCodec.encode(m);
        assertThat(payload.length()).isGreaterThan(20_000_000);
        b.publish(queue, new BrokerMessage(m.id(), payload, 0, null));
        List<Delivery> ds = b.reserve(List.of(queue), 1, Duration.ofSeconds(10));
        assertThat(ds).hasSize(1);
        io.celeriac.protocol.TaskMessage got = io.celeriac.protocol.MessageCodec.decode(ds.get(0).payload());
        assertThat(got.args().get(0).asText()).isEqualTo(arg);
        String value = "r".repeat(21_000_000);
        r.settle(List.of(io.celeriac.spi.Settlement.ack(ds.get(0),
                TaskResult.success(m.id(), Json.NODES.textNode(value), Instant.now()))), b);
        assertThat(r.await(m.id(), Duration.ofSeconds(30)).orElseThrow().result().asText()).isEqualTo(value);
        assertThat(r.get(m.id()).orElseThrow().result().asText()).hasSize(21_000_000);
        assertThat(b.size(queue)).isZero();
    }

    // --- ordering --------------------------------------------------------------------------------

    @Test
    void deliversInPublishOrderWithinOnePriority() throws Exception {
        Broker b = broker();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            sent.add("m" + i);
            b.publish(queue, msg("m" + i));
        }
        assertThat(drain(b, queue, 7)).containsExactlyElementsOf(sent);
    }

    @Test
    void deliversLowerPriorityNumbersFirstAndInOrderWithinEach() throws Exception {
        Broker b = broker();
        b.publish(queue, msg("p9-a", 9));
        b.publish(queue, msg("p0-a", 0));
        b.publish(queue, msg("p6-a", 6));
        b.publish(queue, msg("p3-a", 3));
        b.publish(queue, msg("p0-b", 0));
        b.publish(queue, msg("p9-b", 9));
        assertThat(drain(b, queue, 1)).containsExactly("p0-a", "p0-b", "p3-a", "p6-a", "p9-a", "p9-b");
    }

    @Test
    void reservesNoMoreThanAsked() throws Exception {
        Broker b = broker();
        for (int i = 0; i < 10; i++) {
            b.publish(queue, msg("m" + i));
        }
        assertThat(b.reserve(List.of(queue), 4, Duration.ZERO)).hasSize(4);
        assertThat(b.size(queue)).isEqualTo(6);
    }

    @Test
    void queuesAreSeparate() throws Exception {
        Broker b = broker();
        b.publish(queue, msg("here"));
        assertThat(b.reserve(List.of(queue + "-other"), 10, Duration.ZERO)).isEmpty();
        assertThat(b.size(queue + "-other")).isZero();
        assertThat(payloads(b.reserve(List.of(queue + "-other", queue), 10, Duration.ZERO))).containsExactly("here");
    }

    // --- waiting ---------------------------------------------------------------------------------

    @Test
    void reserveWakesForAMessagePublishedWhileItWaits() throws Exception {
        Broker consumer = broker();
        Broker producer = broker();
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            long start = System.nanoTime();
            Future<List<Delivery>> got = ex.submit(() -> consumer.reserve(List.of(queue), 1, Duration.ofSeconds(10)));
            Thread.sleep(200);
            producer.publish(queue, msg("late"));
            assertThat(payloads(got.get(10, TimeUnit.SECONDS))).containsExactly("late");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void reserveReturnsNothingWhenTheWaitEnds() throws Exception {
        long start = System.nanoTime();
        assertThat(broker().reserve(List.of(queue), 1, Duration.ofMillis(300))).isEmpty();
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isGreaterThanOrEqualTo(Duration.ofMillis(250));
    }

    // --- at-least-once ---------------------------------------------------------------------------

    @Test
    void aMessageWhoseConsumerDiedIsDeliveredAgainAfterTheLeaseButNotBefore() throws Exception {
        Broker dying = broker(Duration.ofSeconds(1));
        Broker survivor = broker(Duration.ofSeconds(1));
        dying.publish(queue, msg("work"));
        Delivery first = dying.reserve(List.of(queue), 1, Duration.ZERO).get(0);
        assertThat(first.redelivered()).isFalse();
        // the dying consumer neither acks nor renews: its lease must run out first
        assertThat(survivor.reserve(List.of(queue), 1, Duration.ofMillis(300))).isEmpty();
        List<Delivery> again = survivor.reserve(List.of(queue), 1, Duration.ofSeconds(10));
        assertThat(payloads(again)).containsExactly("work");
        assertThat(again.get(0).redelivered()).isTrue();
        assertThat(again.get(0).deliveryCount()).isEqualTo(2);
    }

    @Test
    void keepAliveHoldsALeasePastItsTimeout() throws Exception {
        Broker holder = broker(Duration.ofMillis(800));
        Broker other = broker(Duration.ofMillis(800));
        holder.publish(queue, msg("long task"));
        Delivery d = holder.reserve(List.of(queue), 1, Duration.ZERO).get(0);
        long end = System.nanoTime() + Duration.ofMillis(2000).toNanos();
        while (System.nanoTime() < end) {
            holder.keepAlive("holder@test", "{}");
            assertThat(other.reserve(List.of(queue), 1, Duration.ofMillis(200))).isEmpty();
        }
        holder.ack(List.of(d));
        assertThat(other.reserve(List.of(queue), 1, Duration.ofMillis(1500))).isEmpty();
    }

    @Test
    void anAckedMessageIsGoneForGood() throws Exception {
        Broker b = broker(Duration.ofMillis(300));
        b.publish(queue, msg("done"));
        List<Delivery> ds = b.reserve(List.of(queue), 1, Duration.ZERO);
        b.ack(ds);
        b.ack(ds); // twice is harmless
        assertThat(b.reserve(List.of(queue), 1, Duration.ofMillis(800))).isEmpty();
        assertThat(b.size(queue)).isZero();
    }

    @Test
    void aRequeuedMessageIsReadyAgainAtOnceForAnyConsumer() throws Exception {
        Broker a = broker();
        Broker b = broker();
        a.publish(queue, msg("back"));
        Delivery d = a.reserve(List.of(queue), 1, Duration.ZERO).get(0);
        assertThat(a.size(queue)).isZero();
        a.requeue(d);
        assertThat(a.size(queue)).isEqualTo(1);
        List<Delivery> again = b.reserve(List.of(queue), 1, Duration.ZERO);
        assertThat(payloads(again)).containsExactly("back");
        assertThat(again.get(0).redelivered()).isTrue();
    }

    @Test
    void concurrentConsumersNeverHoldTheSameMessage() throws Exception {
        int total = 2000;
        Broker producer = broker();
        for (int i = 0; i < total; i++) {
            producer.publish(queue, msg("m" + i));
        }
        Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
        int consumers = 4;
        ExecutorService ex = Executors.newFixedThreadPool(consumers);
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Integer>> counts = new ArrayList<>();
        for (int c = 0; c < consumers; c++) {
            Broker mine = broker();
            counts.add(ex.submit(() -> {
                start.await();
                int n = 0;
                while (true) {
                    List<Delivery> ds = mine.reserve(List.of(queue), 10, Duration.ofMillis(200));
                    if (ds.isEmpty()) {
                        return n;
                    }
                    for (Delivery d : ds) {
                        seen.computeIfAbsent(d.payload(), k -> new AtomicInteger()).incrementAndGet();
                    }
                    n += ds.size();
                    mine.ack(ds);
                }
            }));
        }
        start.countDown();
        int sum = 0;
        for (Future<Integer> f : counts) {
            sum += f.get(60, TimeUnit.SECONDS);
        }
        ex.shutdown();
        assertThat(sum).isEqualTo(total);
        assertThat(seen).hasSize(total);
        assertThat(seen.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    }

    // --- delayed delivery ------------------------------------------------------------------------

    @Test
    void aMessageWithAnEtaIsNotDeliveredBeforeIt() throws Exception {
        Broker b = broker();
        Instant eta = Instant.now().plusMillis(1200);
        b.publish(queue, new BrokerMessage("later", "later", 0, eta));
        b.publish(queue, msg("now"));
        assertThat(b.size(queue)).isEqualTo(2);
        assertThat(payloads(b.reserve(List.of(queue), 10, Duration.ZERO))).containsExactly("now");
        List<Delivery> got = b.reserve(List.of(queue), 10, Duration.ofSeconds(10));
        assertThat(Instant.now()).isAfterOrEqualTo(eta);
        assertThat(payloads(got)).containsExactly("later");
    }

    @Test
    void scheduledListsTheMessagesWaitingForTheirEtaSoonestFirst() throws Exception {
        Broker b = broker();
        Instant later = Instant.now().plusSeconds(120);
        Instant sooner = Instant.now().plusSeconds(60);
        b.publish(queue, new BrokerMessage("later", "later", 0, later));
        b.publish(queue, new BrokerMessage("sooner", "sooner", 5, sooner));
        b.publish(queue, msg("now"));
        List<Broker.Scheduled> s = b.scheduled(queue, 10);
        assertThat(s).extracting(Broker.Scheduled::payload).containsExactly("sooner", "later");
        assertThat(Duration.between(sooner, s.get(0).due()).abs()).isLessThan(Duration.ofMillis(2));
        assertThat(b.scheduled(queue, 1)).hasSize(1);
        assertThat(payloads(b.reserve(List.of(queue), 10, Duration.ZERO))).containsExactly("now");
        assertThat(b.scheduled(queue, 10)).hasSize(2);
    }

    @Test
    void anEtaInThePastIsDeliveredAtOnce() throws Exception {
        Broker b = broker();
        b.publish(queue, new BrokerMessage("overdue", "overdue", 0, Instant.now().minusSeconds(60)));
        assertThat(payloads(b.reserve(List.of(queue), 1, Duration.ZERO))).containsExactly("overdue");
    }

    // --- purge and size --------------------------------------------------------------------------

    @Test
    void purgeDeletesWaitingAndParkedMessagesButNotReservedOnes() throws Exception {
        Broker b = broker();
        b.publish(queue, msg("held"));
        Delivery held = b.reserve(List.of(queue), 1, Duration.ZERO).get(0);
        for (int i = 0; i < 5; i++) {
            b.publish(queue, msg("w" + i));
        }
        b.publish(queue, new BrokerMessage("parked", "parked", 0, Instant.now().plusSeconds(3600)));
        assertThat(b.size(queue)).isEqualTo(6);
        assertThat(b.purge(queue)).isEqualTo(6);
        assertThat(b.size(queue)).isZero();
        assertThat(b.reserve(List.of(queue), 10, Duration.ZERO)).isEmpty();
        b.requeue(held);
        assertThat(payloads(b.reserve(List.of(queue), 10, Duration.ZERO))).containsExactly("held");
    }

    @Test
    void purgeTouchesOnlyItsQueue() throws Exception {
        Broker b = broker();
        b.publish(queue, msg("a"));
        b.publish(queue + "-2", msg("b"));
        assertThat(b.purge(queue)).isEqualTo(1);
        assertThat(b.size(queue + "-2")).isEqualTo(1);
    }

    // --- payloads --------------------------------------------------------------------------------

    @Test
    void aOneMebibytePayloadRoundTripsExactly() throws Exception {
        Broker b = broker();
        StringBuilder sb = new StringBuilder(1 << 20);
        Random r = new Random(42);
        while (sb.length() < (1 << 20)) {
            sb.append((char) ('a' + r.nextInt(26)));
        }
        String big = sb.toString();
        b.publish(queue, msg(big));
        assertThat(b.reserve(List.of(queue), 1, Duration.ZERO).get(0).payload()).isEqualTo(big);
    }

    @Test
    void unicodeRoundTripsExactly() throws Exception {
        Broker b = broker();
        String text = "{\"s\": \"ünïcödé — 中文 — العربية — 🥬🍠 — e\u0301 — \\u0000 — \u2028\"}";
        b.publish(queue, msg(text));
        assertThat(b.reserve(List.of(queue), 1, Duration.ZERO).get(0).payload()).isEqualTo(text);
        String queueName = queue + "-ćêłéríäç";
        b.publish(queueName, msg("x"));
        assertThat(payloads(b.reserve(List.of(queueName), 1, Duration.ZERO))).containsExactly("x");
    }

    // --- heartbeats ------------------------------------------------------------------------------

    @Test
    void nodesRecordHeartbeatsAndGoOffline() {
        Broker b = broker();
        String node = "w-" + UUID.randomUUID() + "@host";
        b.keepAlive(node, "{\"active\": 1}");
        assertThat(b.nodes()).containsKey(node);
        assertThat(b.nodes().get(node).json()).isEqualTo("{\"active\": 1}");
        b.keepAlive(node, "{\"active\": 2}");
        assertThat(broker().nodes().get(node).json()).isEqualTo("{\"active\": 2}");
        b.keepAlive(node, null);
        assertThat(b.nodes()).doesNotContainKey(node);
    }

    // --- revocations -----------------------------------------------------------------------------

    @Test
    void revocationsAreSeenByOtherConsumersAndUpgradedToTerminate() {
        Broker a = broker();
        Broker b = broker();
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
        Broker a = broker();
        String id = "rev-" + UUID.randomUUID();
        a.revoke(id, false, Instant.now().plusMillis(300));
        Thread.sleep(500);
        assertThat(a.revocations(Instant.EPOCH)).noneMatch(r -> r.taskId().equals(id));
    }

    // --- coordination: locks, records, fenced publish ----------------------------------------------

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
        assertThat(other.publishIfHolder(lock, "other", queue, msg("from other"), key, "other")).isFalse();
        assertThat(leader.publishIfHolder(lock, "leader", queue, msg("from leader"), key, "slot-1")).isTrue();
        assertThat(leader.publishIfHolder(lock, "leader", queue, null, key, "slot-2")).isTrue(); // record only
        assertThat(payloads(consumer.reserve(List.of(queue), 10, Duration.ZERO))).containsExactly("from leader");
        assertThat(other.get(key)).contains("slot-2");
    }

    // --- results ---------------------------------------------------------------------------------

    @Test
    void resultsRoundTripInEveryState() {
        ResultStore r = results(Duration.ofHours(1));
        Instant at = Instant.parse("2026-11-24T13:20:44.815207Z");
        String ok = UUID.randomUUID().toString();
        String bad = UUID.randomUUID().toString();
        String gone = UUID.randomUUID().toString();
        r.store(TaskResult.success(ok, Json.toTree(Map.of("sum", 5, "text", "🥬")), at));
        r.store(TaskResult.failure(bad, ExceptionInfo.of(new IllegalStateException("source down")), at));
        r.store(TaskResult.revoked(gone, "expired", at));
        TaskResult s = r.get(ok).orElseThrow();
        assertThat(s.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(s.result().get("text").asText()).isEqualTo("🥬");
        assertThat(s.dateDone()).isEqualTo(at);
        TaskResult f = r.get(bad).orElseThrow();
        assertThat(f.state()).isEqualTo(TaskState.FAILURE);
        assertThat(f.exception().type()).isEqualTo("IllegalStateException");
        assertThat(f.exception().traceback()).contains("source down");
        assertThat(r.get(gone).orElseThrow().exception().message()).isEqualTo("expired");
        assertThat(r.get(UUID.randomUUID().toString())).isEmpty();
    }

    @Test
    void severalResultsStoredTogetherAreAllThereAndApplyInOrder() {
        ResultStore r = results(Duration.ofHours(1));
        List<TaskResult> batch = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            batch.add(TaskResult.success("batch-" + queue + "-" + i, Json.toTree(i), Instant.now()));
        }
        String twice = "batch-" + queue + "-twice";
        batch.add(TaskResult.started(twice, 1, "w@h"));
        batch.add(TaskResult.success(twice, Json.toTree("last"), Instant.now()));
        r.storeAll(batch);
        for (int i = 0; i < 50; i++) {
            assertThat(r.get("batch-" + queue + "-" + i).orElseThrow().result().asInt()).isEqualTo(i);
        }
        assertThat(r.get(twice).orElseThrow().result().asText()).isEqualTo("last");
    }

    @Test
    void aSuccessIsNeverOverwritten() {
        ResultStore r = results(Duration.ofHours(1));
        String id = UUID.randomUUID().toString();
        r.store(TaskResult.started(id, 1, "w@h"));
        r.store(TaskResult.success(id, Json.toTree(1), Instant.now()));
        r.store(TaskResult.failure(id, ExceptionInfo.of(new RuntimeException("late duplicate")), Instant.now()));
        assertThat(r.get(id).orElseThrow().state()).isEqualTo(TaskState.SUCCESS);
    }

    @Test
    void awaitWakesWhenTheResultIsStored() throws Exception {
        ResultStore waiter = results(Duration.ofHours(1));
        ResultStore writer = results(Duration.ofHours(1));
        String id = UUID.randomUUID().toString();
        ExecutorService ex = Executors.newSingleThreadExecutor();
        try {
            long start = System.nanoTime();
            Future<Optional<TaskResult>> got = ex.submit(() -> waiter.await(id, Duration.ofSeconds(10)));
            Thread.sleep(100);
            writer.store(TaskResult.started(id, 1, "w@h"));
            Thread.sleep(100);
            writer.store(TaskResult.success(id, Json.toTree("done"), Instant.now()));
            assertThat(got.get(10, TimeUnit.SECONDS).orElseThrow().result().asText()).isEqualTo("done");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
        } finally {
            ex.shutdownNow();
        }
    }

    @Test
    void awaitGivesTheLastStateSeenWhenTheTimeRunsOut() throws Exception {
        ResultStore r = results(Duration.ofHours(1));
        String id = UUID.randomUUID().toString();
        assertThat(r.await(id, Duration.ofMillis(200))).isEmpty();
        r.store(TaskResult.started(id, 1, "w@h"));
        assertThat(r.await(id, Duration.ofMillis(200)).orElseThrow().state()).isEqualTo(TaskState.STARTED);
    }

    @Test
    void resultsExpire() throws Exception {
        ResultStore r = results(Duration.ofSeconds(1));
        String id = UUID.randomUUID().toString();
        r.store(TaskResult.success(id, Json.toTree(1), Instant.now()));
        assertThat(r.get(id)).isPresent();
        Thread.sleep(1500);
        assertThat(r.get(id)).isEmpty();
    }

    @Test
    void aForgottenResultIsGone() {
        ResultStore r = results(Duration.ofHours(1));
        String id = UUID.randomUUID().toString();
        r.store(TaskResult.success(id, Json.toTree(1), Instant.now()));
        r.forget(id);
        assertThat(r.get(id)).isEmpty();
    }

    @Test
    void describeNeverShowsAPassword() {
        assertThat(broker().describe()).doesNotContainPattern(":[^:@/]+@");
        assertThat(Set.of(results(Duration.ofHours(1)).describe())).allSatisfy(d -> assertThat(d).doesNotContainPattern(":[^:@/]+@"));
    }
}
