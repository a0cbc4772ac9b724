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
 * The result-store contract: results in every state, batches, await, expiry, forget, and a
 * settlement acking its message on {@link #openBroker}'s broker, on a real store.
 */
public abstract class ResultStoreConformanceTest extends ConformanceSupport {

    /** A subclass supplies the store. */
    protected ResultStoreConformanceTest() {
    }

    /**
     * A result store on the shared store.
     *
     * @param expires how long a stored result is kept
     * @return an open result store
     */
    protected abstract ResultStore openResultStore(Duration expires);

    private ResultStore results(Duration expires) {
        return track(openResultStore(expires));
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


    /**
     * A worker's batch: every message acked and every result stored in one commit; a settlement of
     * a message settled already stores nothing; a pending state never replaces a final one, and a
     * SUCCESS stays, in a batch as one at a time.
     */
    @Test
    void aSettledBatchAcksEveryMessageAndStoresEveryResultAndASecondSettlementNothing() throws Exception {
        Broker b = broker();
        ResultStore r = results(Duration.ofHours(1));
        for (int i = 0; i < 40; i++) {
            b.publish(queue, msg("s" + i));
        }
        List<Delivery> ds = b.reserve(List.of(queue), 40, Duration.ofSeconds(10));
        assertThat(ds).hasSize(40);
        String done = "settled-" + queue + "-done";
        r.store(TaskResult.failure(done, ExceptionInfo.of(new RuntimeException("final")), Instant.now()));
        List<io.celeriac.spi.Settlement> batch = new ArrayList<>();
        for (int i = 0; i < 39; i++) {
            batch.add(io.celeriac.spi.Settlement.ack(ds.get(i), TaskResult.success("settled-" + queue + "-" + i, Json.toTree(i),
                    Instant.now())));
        }
        batch.add(io.celeriac.spi.Settlement.ack(ds.get(39), TaskResult.started(done, 1, "w@h"))); // must not replace FAILURE
        r.settle(batch, b);
        assertThat(b.size(queue)).isZero();
        assertThat(b.reserve(List.of(queue), 40, Duration.ZERO)).isEmpty(); // acked, not merely leased
        for (int i = 0; i < 39; i++) {
            assertThat(r.get("settled-" + queue + "-" + i).orElseThrow().result().asInt()).isEqualTo(i);
        }
        assertThat(r.get(done).orElseThrow().state()).isEqualTo(TaskState.FAILURE);

        // the same deliveries settled again (a duplicate run's settlement): nothing of it is applied
        List<io.celeriac.spi.Settlement> again = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            again.add(io.celeriac.spi.Settlement.ack(ds.get(i), TaskResult.failure("settled-" + queue + "-" + i,
                    ExceptionInfo.of(new RuntimeException("duplicate")), Instant.now())));
        }
        String fresh = "settled-" + queue + "-fresh";
        again.add(io.celeriac.spi.Settlement.ack(ds.get(3), TaskResult.success(fresh, Json.toTree(1), Instant.now())));
        r.settle(again, b);
        for (int i = 0; i < 3; i++) {
            assertThat(r.get("settled-" + queue + "-" + i).orElseThrow().state()).isEqualTo(TaskState.SUCCESS);
        }
        assertThat(r.get(fresh)).isEmpty();
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
    void aCustomStateIsStoredAndNeverOverwritesAFinalOne() {
        ResultStore r = results(Duration.ofHours(1));
        String id = UUID.randomUUID().toString();
        r.store(new TaskResult(id, TaskState.parse("PROGRESS"), Json.toTree(java.util.Map.of("current", 1)), null, null, null));
        TaskResult progress = r.get(id).orElseThrow();
        assertThat(progress.state().name()).isEqualTo("PROGRESS");
        assertThat(progress.state().custom()).isTrue();
        assertThat(progress.result().get("current").asInt()).isEqualTo(1);
        r.store(new TaskResult(id, TaskState.parse("PROGRESS"), Json.toTree(java.util.Map.of("current", 2)), null, null, null));
        assertThat(r.get(id).orElseThrow().result().get("current").asInt()).isEqualTo(2);
        r.store(TaskResult.success(id, Json.toTree("done"), Instant.now())); // the final result replaces the progress
        r.store(new TaskResult(id, TaskState.parse("PROGRESS"), Json.toTree(java.util.Map.of("current", 3)), null, null, null));
        r.store(TaskResult.started(id, 1, "w@h"));
        TaskResult done = r.get(id).orElseThrow();
        assertThat(done.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(done.result().asText()).isEqualTo("done");

        String failed = UUID.randomUUID().toString(); // a FAILURE (or REVOKED) is not hidden by a late report either
        r.store(TaskResult.failure(failed, ExceptionInfo.of(new RuntimeException("boom")), Instant.now()));
        r.storeAll(List.of(new TaskResult(failed, TaskState.parse("PROGRESS"), Json.toTree(java.util.Map.of("current", 9)), null, null, null),
                TaskResult.retry(failed, ExceptionInfo.of(new RuntimeException("late")))));
        assertThat(r.get(failed).orElseThrow().state()).isEqualTo(TaskState.FAILURE);
        r.store(TaskResult.success(failed, Json.toTree(1), Instant.now())); // a ready state still replaces a FAILURE, as Celery
        assertThat(r.get(failed).orElseThrow().state()).isEqualTo(TaskState.SUCCESS);
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
        assertThat(Set.of(results(Duration.ofHours(1)).describe())).allSatisfy(d -> assertThat(d).doesNotContainPattern(":[^:@/]+@"));
    }
}
