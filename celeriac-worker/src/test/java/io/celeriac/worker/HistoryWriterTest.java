package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.TaskState;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** What {@link HistoryWriter} makes of observed events, how it batches them, and what a failing store costs. */
@Timeout(value = 30, unit = TimeUnit.SECONDS)
class HistoryWriterTest {
    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");
    private static final String NODE = "w1@host";

    /** A store that keeps each batch it is given; fails while {@code failing} is set; may hold its first call. */
    private static final class Batches implements TaskHistory {
        final List<List<TaskRecord>> batches = new CopyOnWriteArrayList<>();
        final AtomicInteger prunes = new AtomicInteger();
        final AtomicInteger settles = new AtomicInteger();
        /** How many batches had been written at each settle. */
        final List<Integer> writtenAtSettle = new CopyOnWriteArrayList<>();
        volatile boolean failing;
        volatile CountDownLatch hold;
        final CountDownLatch entered = new CountDownLatch(1);
        volatile boolean closed;

        @Override
        public void record(List<TaskRecord> batch) {
            entered.countDown();
            CountDownLatch h = hold;
            if (h != null) {
                try {
                    h.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (failing) {
                throw new IllegalStateException("database is locked");
            }
            batches.add(List.copyOf(batch));
        }

        int written() {
            return batches.stream().mapToInt(List::size).sum();
        }

        @Override
        public Optional<TaskRecord> get(String id) {
            return Optional.empty();
        }

        @Override
        public Page find(Query query) {
            return new Page(List.of(), null);
        }

        @Override
        public void settle() {
            settles.incrementAndGet();
            writtenAtSettle.add(batches.size());
        }

        @Override
        public long prune(Instant olderThan, long max) {
            prunes.incrementAndGet();
            return 0;
        }

        @Override
        public long count() {
            return written();
        }

        @Override
        public String describe() {
            return "test history";
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private static TaskMessage message(String id, int retries) {
        return TaskMessage.builder("add").id(id).args(Json.NODES.arrayNode().add(2).add(3)).retries(retries)
                .parentId("parent-1").rootId("root-1").group("group-1").build();
    }

    private static Delivery delivery() {
        return new Delivery("celery", "{}", "tag", 1);
    }

    private static TaskObserver.Finished finished(TaskMessage m, TaskObserver.Fate fate, TaskState state, ExceptionInfo exc,
                                                  Instant started, Instant at, List<String> children) {
        return new TaskObserver.Finished(m, m.id(), m.task(), "celery", fate, state, fate == TaskObserver.Fate.SUCCESS
                ? Json.NODES.numberNode(5) : null, exc, null, false, started, started == null ? null : 0.25, children, at);
    }

    @Test
    void aRunsThreeEventsMergeIntoOneRecordWithItsTimelineAndChildren() {
        TaskMessage m = message("t1", 0);
        TaskRecord succeeded = HistoryWriter.record(finished(m, TaskObserver.Fate.SUCCESS, TaskState.SUCCESS, null,
                T0.plusMillis(10), T0.plusMillis(260), List.of("child-1", "child-2")), NODE);
        TaskRecord received = new TaskRecord("t1", "add", TaskState.RECEIVED, NODE, "celery", "[2,3]", "{}", null, null, null,
                0, T0, null, T0, null, "parent-1", "root-1", "group-1", List.of(),
                List.of(new TaskRecord.Step(TaskState.RECEIVED, T0, NODE, 0, null)));
        TaskRecord started = new TaskRecord("t1", "add", TaskState.STARTED, NODE, "celery", null, null, null, null, null,
                0, null, T0.plusMillis(10), T0.plusMillis(10), null, "parent-1", "root-1", "group-1", List.of(),
                List.of(new TaskRecord.Step(TaskState.STARTED, T0.plusMillis(10), NODE, 0, null)));
        // out of order within the batch: the SUCCESS (ready) is not replaced by the STARTED after it in the batch
        List<TaskRecord> merged = HistoryWriter.merged(List.of(received, succeeded, started));
        assertThat(merged).hasSize(1);
        TaskRecord r = merged.get(0);
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(r.result()).isEqualTo("5");
        assertThat(r.args()).isEqualTo("[2,3]");
        assertThat(r.kwargs()).isEqualTo("{}");
        assertThat(r.received()).isEqualTo(T0);
        assertThat(r.started()).isEqualTo(T0.plusMillis(10));
        assertThat(r.runtime()).isEqualTo(0.25);
        assertThat(r.worker()).isEqualTo(NODE);
        assertThat(r.parentId()).isEqualTo("parent-1");
        assertThat(r.rootId()).isEqualTo("root-1");
        assertThat(r.groupId()).isEqualTo("group-1");
        assertThat(r.children()).containsExactly("child-1", "child-2");
        assertThat(r.timeline()).extracting(TaskRecord.Step::state)
                .containsExactly(TaskState.RECEIVED, TaskState.STARTED, TaskState.SUCCESS);
    }

    @Test
    void theOutcomeLeavesTheArgsToItsReceivedRecordAndKeepsItsRuntimeToTheMicrosecond() {
        TaskMessage m = message("t4", 0);
        TaskRecord succeeded = HistoryWriter.record(new TaskObserver.Finished(m, m.id(), m.task(), "celery",
                TaskObserver.Fate.SUCCESS, TaskState.SUCCESS, Json.NODES.nullNode(), null, null, false, T0, 0.123456789, null,
                T0.plusSeconds(1)), NODE);
        assertThat(succeeded.args()).isNull();
        assertThat(succeeded.kwargs()).isNull();
        assertThat(succeeded.result()).isEqualTo("null");
        assertThat(succeeded.runtime()).isEqualTo(0.123457);
        TaskRecord received = new TaskRecord("t4", "add", TaskState.RECEIVED, NODE, "celery", m.argsJson(), m.kwargsJson(),
                null, null, null, 0, T0, null, T0, null, null, null, null, List.of(),
                List.of(new TaskRecord.Step(TaskState.RECEIVED, T0, NODE, 0, null)));
        TaskRecord r = HistoryWriter.merged(List.of(received, succeeded)).get(0);
        assertThat(r.args()).isEqualTo("[2,3]");
        assertThat(r.kwargs()).isEqualTo("{}");
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
    }

    @Test
    void smallResultsAreWrittenWithoutTheMapperAsTheMapperWouldWriteThem() throws Exception {
        for (com.fasterxml.jackson.databind.JsonNode n : List.of(Json.NODES.nullNode(), Json.NODES.booleanNode(true),
                Json.NODES.numberNode(-7), Json.NODES.numberNode(Long.MAX_VALUE), Json.NODES.numberNode(new java.math.BigInteger("123456789012345678901234567890")),
                Json.NODES.numberNode(2.5), Json.NODES.textNode("a\"b"), Json.read("{\"a\":[1,2]}"))) {
            assertThat(HistoryWriter.resultJson(n)).isEqualTo(Json.write(n));
        }
    }

    @Test
    void retriesShowAsATimelineAndAFailureKeepsItsExceptionAndTraceback() {
        TaskMessage first = message("t2", 0);
        TaskMessage second = message("t2", 1);
        ExceptionInfo cause = new ExceptionInfo("IOError", "builtins", "source timed out", "Traceback: 1");
        ExceptionInfo boom = new ExceptionInfo("ValueError", "builtins", "bad input", "Traceback: 2");
        TaskRecord retry = HistoryWriter.record(finished(first, TaskObserver.Fate.RETRY, TaskState.RETRY, cause,
                T0, T0.plusMillis(100), null), NODE);
        TaskRecord failure = HistoryWriter.record(finished(second, TaskObserver.Fate.FAILURE, TaskState.FAILURE, boom,
                T0.plusMillis(300), T0.plusMillis(400), null), NODE);
        TaskRecord r = HistoryWriter.merged(List.of(retry, failure)).get(0);
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
        assertThat(r.exception()).isEqualTo("ValueError: bad input");
        assertThat(r.traceback()).isEqualTo("Traceback: 2");
        assertThat(r.retries()).isEqualTo(1);
        assertThat(r.timeline()).extracting(TaskRecord.Step::state, TaskRecord.Step::retries, TaskRecord.Step::detail)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(TaskState.RETRY, 0, "IOError: source timed out"),
                        org.assertj.core.groups.Tuple.tuple(TaskState.FAILURE, 1, "ValueError: bad input"));
    }

    @Test
    void whatIsNotKeptMakesNoRecord() {
        TaskMessage m = message("t3", 0);
        assertThat(HistoryWriter.record(finished(m, TaskObserver.Fate.DEFERRED, null, null, null, T0, null), NODE)).isNull();
        assertThat(HistoryWriter.record(finished(m, TaskObserver.Fate.SKIPPED, null, null, null, T0, null), NODE)).isNull();
        TaskObserver.Finished undecodable = new TaskObserver.Finished(null, null, null, "celery", TaskObserver.Fate.REJECTED,
                null, null, null, "malformed message: not JSON", true, null, null, null, T0);
        assertThat(HistoryWriter.record(undecodable, NODE)).isNull();
        TaskRecord lost = HistoryWriter.record(new TaskObserver.Finished(m, m.id(), m.task(), "celery", TaskObserver.Fate.LOST,
                null, null, null, "Worker exited prematurely: signal 9", false, T0, 1.0, null, T0.plusSeconds(1)), NODE);
        assertThat(lost.state()).isEqualTo(HistoryWriter.LOST);
        assertThat(lost.exception()).isEqualTo("Worker exited prematurely: signal 9");
    }

    @Test
    void recordsAreWrittenInBatchesOfAtMostFiveHundredWithEachIdOnce() throws Exception {
        Batches store = new Batches();
        store.hold = new CountDownLatch(1); // the writer waits in its first write while 1,200 more are queued
        HistoryWriter w = new HistoryWriter(store, NODE, Duration.ofDays(7), 1000, Clock.systemUTC());
        w.received(delivery(), message("first", 0), T0);
        assertThat(store.entered.await(5, TimeUnit.SECONDS)).isTrue(); // the writer waits in the store
        for (int i = 0; i < 600; i++) {
            TaskMessage m = message("id-" + i, 0);
            w.received(delivery(), m, T0.plusMillis(i));
            w.started(m, "celery", T0.plusMillis(i + 1));
        }
        store.hold.countDown();
        w.close(); // flushes what is queued
        assertThat(store.closed).isTrue();
        assertThat(store.batches).allSatisfy(b -> {
            assertThat(b.size()).isLessThanOrEqualTo(HistoryWriter.BATCH);
            assertThat(b.stream().map(TaskRecord::id).distinct().count()).isEqualTo(b.size());
        });
        assertThat(store.batches.stream().flatMap(List::stream).map(TaskRecord::id).distinct().count()).isEqualTo(601);
        assertThat(store.batches.size()).isGreaterThanOrEqualTo(2); // 601 records: at least two calls of 500
        // each still running at close is written as it stands: STARTED, with both steps and its args
        assertThat(store.batches.stream().flatMap(List::stream).filter(r -> r.id().startsWith("id-"))).hasSize(600).allSatisfy(r -> {
            assertThat(r.state()).isEqualTo(TaskState.STARTED);
            assertThat(r.timeline()).extracting(TaskRecord.Step::state).containsExactly(TaskState.RECEIVED, TaskState.STARTED);
            assertThat(r.args()).isEqualTo("[2,3]");
        });
        assertThat(w.dropped()).isZero();
    }

    @Test
    void aRunSettledWithinTheLingerIsWrittenOnceWithItsArgsAndEveryStep() {
        Batches store = new Batches();
        HistoryWriter w = new HistoryWriter(store, NODE, Duration.ofDays(7), 1000, Clock.systemUTC());
        TaskMessage m = message("quick", 0);
        w.received(delivery(), m, T0);
        w.started(m, "celery", T0.plusMillis(1));
        w.finished(finished(m, TaskObserver.Fate.SUCCESS, TaskState.SUCCESS, null, T0.plusMillis(1), T0.plusMillis(2), null));
        w.close();
        assertThat(store.batches).hasSize(1);
        TaskRecord r = store.batches.get(0).get(0);
        assertThat(store.batches.get(0)).hasSize(1);
        assertThat(r.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(r.args()).isEqualTo("[2,3]");
        assertThat(r.received()).isEqualTo(T0);
        assertThat(r.timeline()).extracting(TaskRecord.Step::state).containsExactly(TaskState.RECEIVED, TaskState.STARTED, TaskState.SUCCESS);
    }

    @Test
    void aRunsOneRecordIsWhatMergingItsThreeRecordsWouldMake() {
        ExceptionInfo boom = new ExceptionInfo("ValueError", "builtins", "boom", "Traceback: ...");
        for (TaskObserver.Fate fate : List.of(TaskObserver.Fate.SUCCESS, TaskObserver.Fate.FAILURE, TaskObserver.Fate.RETRY)) {
            for (boolean started : new boolean[] {true, false}) {
                for (long outcomeMillis : new long[] {5, -5}) { // -5: the outcome's clock behind the receipt's
                    TaskMessage m = message("w-" + fate + started + outcomeMillis, 1);
                    HistoryWriter.Pending p = new HistoryWriter.Pending(delivery(), m, T0);
                    Instant start = started ? T0.plusMillis(1) : null;
                    p.started = start;
                    TaskState state = fate == TaskObserver.Fate.SUCCESS ? TaskState.SUCCESS
                            : fate == TaskObserver.Fate.FAILURE ? TaskState.FAILURE : TaskState.RETRY;
                    TaskRecord r = HistoryWriter.record(finished(m, fate, state, fate == TaskObserver.Fate.SUCCESS ? null : boom,
                            start, T0.plusMillis(outcomeMillis), List.of("child-1")), NODE);
                    TaskRecord before = HistoryWriter.receivedRecord(p, NODE);
                    if (started) {
                        before = TaskRecord.merge(before, HistoryWriter.startedRecord(m, "celery", start, NODE));
                    }
                    assertThat(HistoryWriter.whole(p, r, NODE)).as("%s started=%s", fate, started).isEqualTo(TaskRecord.merge(before, r));
                }
            }
        }
    }

    @Test
    void aRunStillGoingAfterTheLingerIsWrittenAsItStandsThenAsItEnds() {
        Batches store = new Batches();
        HistoryWriter w = new HistoryWriter(store, NODE, Duration.ofDays(7), 1000, Clock.systemUTC());
        try {
            TaskMessage waiting = message("waiting", 0);
            TaskMessage running = message("running", 0);
            w.received(delivery(), waiting, T0);
            w.received(delivery(), running, T0);
            w.started(running, "celery", T0.plusMillis(1));
            await().atMost(Duration.ofSeconds(5)).until(() -> store.written() == 2); // neither settled: each as it stands
            assertThat(store.batches.stream().flatMap(List::stream)).extracting(TaskRecord::id, TaskRecord::state)
                    .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple("waiting", TaskState.RECEIVED),
                            org.assertj.core.groups.Tuple.tuple("running", TaskState.STARTED));
            w.started(waiting, "celery", T0.plusSeconds(1)); // starts after its RECEIVED was written: STARTED at once
            await().atMost(Duration.ofSeconds(5)).until(() -> store.written() == 3);
            w.finished(finished(running, TaskObserver.Fate.SUCCESS, TaskState.SUCCESS, null, T0.plusMillis(1), T0.plusSeconds(2), null));
            await().atMost(Duration.ofSeconds(5)).until(() -> store.written() == 4);
            TaskRecord last = store.batches.get(store.batches.size() - 1).get(0);
            assertThat(last.state()).isEqualTo(TaskState.SUCCESS);
            assertThat(last.timeline()).extracting(TaskRecord.Step::state).containsExactly(TaskState.SUCCESS); // the rest was written
            assertThat(store.batches.get(store.batches.size() - 2).get(0)).extracting(TaskRecord::id, TaskRecord::state)
                    .containsExactly("waiting", TaskState.STARTED);
        } finally {
            w.close();
        }
    }

    @Test
    void theStoreIsSettledOnceEachTimeTheWriterGoesIdleAfterWriting() {
        Batches store = new Batches();
        HistoryWriter w = new HistoryWriter(store, NODE, Duration.ofDays(7), 1000, Clock.systemUTC());
        try {
            w.received(delivery(), message("a", 0), T0);
            await().atMost(Duration.ofSeconds(5)).until(() -> store.settles.get() == 1);
            assertThat(store.writtenAtSettle).containsExactly(1); // after the write, not before
            w.received(delivery(), message("b", 0), T0);
            await().atMost(Duration.ofSeconds(5)).until(() -> store.settles.get() == 2);
            assertThat(store.writtenAtSettle).containsExactly(1, 2);
            await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(2)).until(() -> store.settles.get() == 2); // idle with nothing new: no more
        } finally {
            w.close();
        }
    }

    @Test
    void aFailingStoreCostsTheBatchCountedNeverTheCaller() {
        Batches store = new Batches();
        store.failing = true;
        HistoryWriter w = new HistoryWriter(store, NODE, Duration.ofDays(7), 1000, Clock.systemUTC());
        for (int i = 0; i < 50; i++) {
            w.received(delivery(), message("lost-" + i, 0), T0);
        }
        await().atMost(Duration.ofSeconds(5)).until(() -> w.dropped() == 50);
        store.failing = false;
        w.received(delivery(), message("kept", 0), T0);
        w.close();
        assertThat(store.batches).hasSize(1);
        assertThat(store.batches.get(0)).extracting(TaskRecord::id).containsExactly("kept");
        assertThat(w.dropped()).isEqualTo(50);
    }

    @Test
    void aFullQueueDropsInsteadOfBlocking() throws Exception {
        Batches store = new Batches();
        store.hold = new CountDownLatch(1);
        HistoryWriter w = new HistoryWriter(store, NODE, Duration.ofDays(7), 1000, Clock.systemUTC());
        w.received(delivery(), message("held", 0), T0);
        assertThat(store.entered.await(5, TimeUnit.SECONDS)).isTrue(); // the writer waits in the store
        long t0 = System.nanoTime();
        // with "held", QUEUE messages are unsettled and wait; QUEUE more are queued at once (far too many unsettled); 100 are dropped
        for (int i = 0; i < 2 * HistoryWriter.QUEUE + 99; i++) {
            w.received(delivery(), message("m-" + i, 0), T0);
        }
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
        assertThat(w.dropped()).isEqualTo(100);
        store.hold.countDown();
        w.close();
        assertThat(store.written()).isEqualTo(2 * HistoryWriter.QUEUE);
    }

    @Test
    void prunesWithRetentionAndMaxOnceAMinute() {
        Batches store = new Batches();
        io.celeriac.testkit.ManualClock clock = new io.celeriac.testkit.ManualClock(T0);
        HistoryWriter w = new HistoryWriter(store, NODE, Duration.ofDays(7), 1000, clock);
        await().during(Duration.ofMillis(600)).atMost(Duration.ofSeconds(2)).until(() -> store.prunes.get() == 0);
        clock.advance(Duration.ofSeconds(61));
        await().atMost(Duration.ofSeconds(5)).until(() -> store.prunes.get() == 1);
        w.close();
    }
}
