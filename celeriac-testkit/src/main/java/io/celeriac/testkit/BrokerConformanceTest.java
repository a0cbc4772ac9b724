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
import org.junit.jupiter.api.Test;

/**
 * The broker contract, run against a real instance: queue operations only (publish, reserve, ack,
 * requeue, leases and their renewal, delayed delivery, purge, size, scheduled, payloads). A broker
 * module subclasses this (or {@link ConformanceKit}, for a store that is also a result store and a
 * coordination store) and supplies {@link #openBroker}; every test uses fresh queue names, so one
 * store may serve all tests.
 */
public abstract class BrokerConformanceTest extends ConformanceSupport {

    /** A subclass supplies the broker. */
    protected BrokerConformanceTest() {
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
    void publishAllStoresEveryMessageInOrderOnItsQueueAndEmptiesTheList() throws Exception {
        Broker b = broker();
        List<io.celeriac.spi.Publication> batch = new ArrayList<>();
        List<String> sent = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            sent.add("m" + i);
            batch.add(new io.celeriac.spi.Publication(queue, msg("m" + i, 6)));
        }
        batch.add(new io.celeriac.spi.Publication(queue + "-other", msg("elsewhere")));
        batch.add(new io.celeriac.spi.Publication(queue, msg("first", 0)));
        b.publishAll(batch);
        assertThat(batch).isEmpty();
        List<String> expected = new ArrayList<>(List.of("first"));
        expected.addAll(sent);
        assertThat(drain(b, queue, 7)).containsExactlyElementsOf(expected);
        assertThat(drain(b, queue + "-other", 7)).containsExactly("elsewhere");
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
    void renewHoldsALeasePastItsTimeout() throws Exception {
        Broker holder = broker(Duration.ofMillis(800));
        Broker other = broker(Duration.ofMillis(800));
        holder.publish(queue, msg("long task"));
        Delivery d = holder.reserve(List.of(queue), 1, Duration.ZERO).get(0);
        long end = System.nanoTime() + Duration.ofMillis(2000).toNanos();
        while (System.nanoTime() < end) {
            holder.renew();
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


    // --- describe --------------------------------------------------------------------------------

    @Test
    void describeNeverShowsAPassword() {
        assertThat(broker().describe()).doesNotContainPattern(":[^:@/]+@");
    }
}
