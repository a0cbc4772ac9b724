package io.celeriac.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.TaskState;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskHistory.Page;
import io.celeriac.spi.TaskHistory.Query;
import io.celeriac.spi.TaskRecord;
import io.celeriac.spi.TaskRecord.Step;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The contract every task history must meet ({@link TaskHistory}), run against a real store. A
 * store module subclasses this once and supplies {@link #newStore} (an empty store for each test)
 * and {@link #open} (an instance on it; two calls give two instances on the same store, as two
 * processes would have).
 */
@Tag("integration")
@Timeout(value = 120, unit = TimeUnit.SECONDS)
public abstract class TaskHistoryConformanceTest {

    /** An empty store for one test: its URL (a new file, database, or an emptied server). */
    protected abstract String newStore() throws Exception;

    /** A new task history instance on the store at {@code url}. */
    protected abstract TaskHistory open(String url);

    private static final Instant T0 = Instant.parse("2026-12-01T10:00:00.000001Z");
    private final List<TaskHistory> opened = Collections.synchronizedList(new ArrayList<>());
    private String url;
    private TaskHistory h;

    @BeforeEach
    void openStore() throws Exception {
        url = newStore();
        h = history();
    }

    @AfterEach
    void closeAll() {
        opened.forEach(TaskHistory::close);
    }

    private TaskHistory history() {
        TaskHistory t = open(url);
        opened.add(t);
        return t;
    }

    private static Instant at(long seconds) {
        return T0.plusSeconds(seconds);
    }

    /** A record with the searchable fields set, the rest null. */
    static TaskRecord rec(String id, String name, TaskState state, String worker, Instant updated) {
        return new TaskRecord(id, name, state, worker, "celery", null, null, null, null, null, 0, null, null, updated, null,
                null, null, null, null, List.of(new Step(state, updated, worker, 0, null)));
    }

    private static TaskRecord full(String id, TaskState state, Instant updated, String args, String result, String exception,
                                   List<String> children, List<Step> timeline) {
        return new TaskRecord(id, "tasks.add", state, "celery@a", "celery", args, "{}", result, exception, null, 0,
                T0, updated, updated, 0.5, "parent-1", "root-1", "group-1", children, timeline);
    }

    private List<String> ids(Query q) {
        return h.find(q).records().stream().map(TaskRecord::id).toList();
    }

    private static Query by(String idPrefix, String name, TaskState state, String worker) {
        return new Query(idPrefix, name, state, worker, null, null, 100, null);
    }

    // ---- merging ----

    @Test
    void aRecordIsStoredWholeAndReadBackByIdEqual() {
        TaskRecord r = new TaskRecord("id-1", "tasks.add", TaskState.FAILURE, "celery@a", "q1", "[2,3]", "{\"k\":1}", null,
                "ValueError: bad", "Traceback (most recent call last):\n  boom", 2, at(1), at(2), at(3), 1.25, "p", "r", "g",
                List.of("c1", "c2"), List.of(new Step(TaskState.STARTED, at(2), "celery@a", 2, null),
                        new Step(TaskState.FAILURE, at(3), "celery@a", 2, "ValueError: bad")));
        h.record(List.of(r));
        assertThat(h.get("id-1")).contains(r);
        assertThat(h.get("nope")).isEmpty();
        assertThat(h.count()).isEqualTo(1);
    }

    @Test
    void aReadyStateIsNotReplacedByALaterOneThatIsNot() {
        h.record(List.of(rec("t", "n", TaskState.SUCCESS, "w", at(2))));
        h.record(List.of(rec("t", "n", TaskState.STARTED, "w", at(3))));
        TaskRecord got = h.get("t").orElseThrow();
        assertThat(got.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(got.updated()).isEqualTo(at(3));
        assertThat(h.find(by(null, null, TaskState.SUCCESS, null)).records()).extracting(TaskRecord::id).containsExactly("t");
        assertThat(h.find(by(null, null, TaskState.STARTED, null)).records()).isEmpty();
        // a late non-ready record, older than the stored ready one
        h.record(List.of(rec("u", "n", TaskState.FAILURE, "w", at(5)), rec("u", "n", TaskState.RECEIVED, "w", at(4))));
        assertThat(h.get("u").orElseThrow().state()).isEqualTo(TaskState.FAILURE);
        assertThat(h.get("u").orElseThrow().updated()).isEqualTo(at(5));
        // non-ready after non-ready: the later wins, whichever order they come in
        h.record(List.of(rec("v", "n", TaskState.RETRY, "w", at(7))));
        h.record(List.of(rec("v", "n", TaskState.STARTED, "w", at(6))));
        assertThat(h.get("v").orElseThrow().state()).isEqualTo(TaskState.RETRY);
        h.record(List.of(rec("v", "n", TaskState.SUCCESS, "w", at(8))));
        assertThat(h.get("v").orElseThrow().state()).isEqualTo(TaskState.SUCCESS);
    }

    @Test
    void fieldsANewRecordLeavesNullKeepTheirStoredValues() {
        h.record(List.of(full("t", TaskState.STARTED, at(1), "[1,2]", null, null, List.of(), List.of())));
        TaskRecord later = new TaskRecord("t", null, TaskState.SUCCESS, null, null, null, null, "3", null, null, 0, null, null,
                at(2), 0.75, null, null, null, null, null);
        h.record(List.of(later));
        TaskRecord got = h.get("t").orElseThrow();
        assertThat(got.name()).isEqualTo("tasks.add");
        assertThat(got.args()).isEqualTo("[1,2]");
        assertThat(got.kwargs()).isEqualTo("{}");
        assertThat(got.worker()).isEqualTo("celery@a");
        assertThat(got.queue()).isEqualTo("celery");
        assertThat(got.received()).isEqualTo(T0);
        assertThat(got.started()).isEqualTo(at(1));
        assertThat(got.parentId()).isEqualTo("parent-1");
        assertThat(got.rootId()).isEqualTo("root-1");
        assertThat(got.groupId()).isEqualTo("group-1");
        assertThat(got.result()).isEqualTo("3");
        assertThat(got.runtime()).isEqualTo(0.75);
        assertThat(got.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(got.updated()).isEqualTo(at(2));
    }

    @Test
    void timelinesAreJoinedOldestFirstWithoutDuplicates() {
        Step received = new Step(TaskState.RECEIVED, at(1), "celery@a", 0, null);
        Step started = new Step(TaskState.STARTED, at(2), "celery@a", 0, null);
        Step retry = new Step(TaskState.RETRY, at(3), "celery@a", 0, "IOError: try again");
        Step again = new Step(TaskState.STARTED, at(4), "celery@b", 1, null);
        Step done = new Step(TaskState.SUCCESS, at(5), "celery@b", 1, null);
        h.record(List.of(full("t", TaskState.RETRY, at(3), null, null, "IOError: try again", List.of(), List.of(received, started, retry))));
        // a batch sent again (the worker's commit failed) and the next steps out of order
        h.record(List.of(full("t", TaskState.RETRY, at(3), null, null, null, List.of(), List.of(started, retry))));
        h.record(List.of(full("t", TaskState.SUCCESS, at(5), null, "7", null, List.of(), List.of(done, again, retry))));
        TaskRecord got = h.get("t").orElseThrow();
        assertThat(got.timeline()).containsExactly(received, started, retry, again, done);
        assertThat(got.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(got.result()).isEqualTo("7");
    }

    @Test
    void childrenAreJoinedInOrder() {
        h.record(List.of(full("t", TaskState.SUCCESS, at(1), null, null, null, List.of("c1", "c2"), List.of())));
        h.record(List.of(full("t", TaskState.SUCCESS, at(2), null, null, null, List.of("c2", "c3"), List.of())));
        h.record(List.of(full("t", TaskState.SUCCESS, at(3), null, null, null, List.of(), List.of())));
        assertThat(h.get("t").orElseThrow().children()).containsExactly("c1", "c2", "c3");
    }

    @Test
    void oneIdTwiceInABatchIsMergedInOrder() {
        h.record(List.of(rec("t", "n", TaskState.STARTED, "w", at(1)), rec("t", "n", TaskState.SUCCESS, "w", at(2)),
                rec("t", "n", TaskState.RETRY, "w", at(3))));
        TaskRecord got = h.get("t").orElseThrow();
        assertThat(got.state()).isEqualTo(TaskState.SUCCESS);
        assertThat(got.timeline()).extracting(Step::state).containsExactly(TaskState.STARTED, TaskState.SUCCESS, TaskState.RETRY);
        assertThat(h.count()).isEqualTo(1);
    }

    @Test
    void twoWritersOfTheSameTasksAtOnceLoseNoStep() throws Exception {
        TaskHistory other = history();
        int n = 200;
        java.util.concurrent.CountDownLatch go = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Future<?> a = pool.submit(() -> {
                go.await();
                for (int i = 0; i < n; i += 5) { // batches of 5: started by one worker...
                    List<TaskRecord> batch = new ArrayList<>();
                    for (int k = i; k < i + 5; k++) {
                        batch.add(rec("c" + k, "n", TaskState.STARTED, "w-a", at(1)));
                    }
                    h.record(batch);
                }
                return null;
            });
            java.util.concurrent.Future<?> b = pool.submit(() -> {
                go.await();
                for (int i = 0; i < n; i++) { // ...and, at the same time, finished as another saw it
                    other.record(List.of(rec("c" + i, "n", TaskState.SUCCESS, "w-b", at(2))));
                }
                return null;
            });
            go.countDown();
            a.get(60, java.util.concurrent.TimeUnit.SECONDS);
            b.get(60, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(h.count()).isEqualTo(n);
        for (int i = 0; i < n; i++) {
            TaskRecord got = h.get("c" + i).orElseThrow();
            assertThat(got.state()).as("c%d", i).isEqualTo(TaskState.SUCCESS);
            assertThat(got.worker()).as("c%d", i).isEqualTo("w-b");
            assertThat(got.timeline()).as("c%d", i).extracting(Step::state).containsExactly(TaskState.STARTED, TaskState.SUCCESS);
        }
        assertThat(allPages(new Query(null, null, null, "w-b", null, null, 50, null))).hasSize(n);
        assertThat(allPages(new Query(null, null, null, "w-a", null, null, 50, null))).isEmpty();
        assertThat(allPages(new Query(null, null, TaskState.STARTED, null, null, null, 50, null))).isEmpty();
        assertThat(allPages(new Query(null, null, TaskState.SUCCESS, null, null, null, 50, null))).hasSize(n);
    }

    /**
     * Many small batches from two writers (enough for a log-structured store to index in the background, in both at
     * once) while a third instance reads: every reader sees every batch recorded before it asked, and at the end every
     * task is there once, whole.
     */
    @Test
    void manyBatchesFromTwoWritersWhileAReaderReadsAreAllSeenWhole() throws Exception {
        TaskHistory other = history();
        TaskHistory reader = history();
        int n = 320; // more batches from each writer than io.celeriac.spi.LogFolder.FOLD_AT
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
        try {
            java.util.concurrent.Future<?> a = pool.submit(() -> {
                for (int i = 0; i < n; i++) {
                    h.record(List.of(rec("m" + i, "n", TaskState.STARTED, "w-a", at(1))));
                }
                return null;
            });
            java.util.concurrent.Future<?> b = pool.submit(() -> {
                for (int i = 0; i < n; i++) {
                    other.record(List.of(rec("m" + i, "n", TaskState.SUCCESS, "w-b", at(2)), rec("o" + i, "n", TaskState.FAILURE, "w-b", at(3))));
                    if (i % 40 == 0) {
                        assertThat(reader.get("o" + i)).as("o%d, recorded before it was read", i).isPresent();
                    }
                }
                return null;
            });
            a.get(120, java.util.concurrent.TimeUnit.SECONDS);
            b.get(120, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }
        assertThat(reader.count()).isEqualTo(2L * n);
        for (int i = 0; i < n; i += 7) {
            TaskRecord got = reader.get("m" + i).orElseThrow();
            assertThat(got.state()).as("m%d", i).isEqualTo(TaskState.SUCCESS);
            assertThat(got.timeline()).as("m%d", i).extracting(Step::state).containsExactly(TaskState.STARTED, TaskState.SUCCESS);
        }
        assertThat(allPages(new Query(null, null, TaskState.FAILURE, null, null, null, 100, null))).hasSize(n);
        assertThat(allPages(new Query(null, null, TaskState.STARTED, null, null, null, 100, null))).isEmpty();
    }

    // ---- finding ----

    /** 40 tasks: names a/b, states by i % 4, workers w0..w2, ids "id-00".."id-39", updated every second. */
    private void fill() {
        TaskState[] states = {TaskState.SUCCESS, TaskState.FAILURE, TaskState.STARTED, TaskState.RETRY};
        List<TaskRecord> batch = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            batch.add(rec(String.format("id-%02d", i), i % 2 == 0 ? "a" : "b", states[i % 4], "w" + i % 3, at(i)));
        }
        h.record(batch);
    }

    private static List<String> expected(java.util.function.IntPredicate keep) {
        List<String> out = new ArrayList<>();
        for (int i = 39; i >= 0; i--) {
            if (keep.test(i)) {
                out.add(String.format("id-%02d", i));
            }
        }
        return out;
    }

    @Test
    void theLatestComeNewestFirst() {
        fill();
        assertThat(ids(Query.latest(5))).containsExactly("id-39", "id-38", "id-37", "id-36", "id-35");
        assertThat(ids(Query.latest(100))).isEqualTo(expected(i -> true));
        assertThat(h.find(Query.latest(100)).next()).isNull();
        assertThat(h.count()).isEqualTo(40);
    }

    @Test
    void findByEachCriterion() {
        fill();
        assertThat(ids(by(null, "a", null, null))).isEqualTo(expected(i -> i % 2 == 0));
        assertThat(ids(by(null, null, TaskState.FAILURE, null))).isEqualTo(expected(i -> i % 4 == 1));
        assertThat(ids(by(null, null, null, "w2"))).isEqualTo(expected(i -> i % 3 == 2));
        assertThat(ids(by("id-1", null, null, null))).isEqualTo(expected(i -> i >= 10 && i < 20));
        assertThat(ids(by("id-07", null, null, null))).containsExactly("id-07");
        assertThat(ids(by("id-", null, null, null))).hasSize(40);
        assertThat(ids(by("zz", null, null, null))).isEmpty();
        assertThat(ids(by(null, "nosuch", null, null))).isEmpty();
        assertThat(ids(by(null, null, TaskState.REVOKED, null))).isEmpty();
        assertThat(ids(by(null, null, null, "nobody"))).isEmpty();
    }

    @Test
    void anIdPrefixManyIdsHaveIsFoundInTimeOrderToo() {
        List<TaskRecord> batch = new ArrayList<>();
        for (int i = 0; i < 2_600; i++) { // more ids with one prefix than a store may sort at once
            batch.add(rec(String.format("%s-%04d", i % 2 == 0 ? "many" : "more", i), "n" + i % 3, TaskState.SUCCESS, "w", at(i / 4)));
            if (batch.size() == 500) {
                h.record(batch);
                batch.clear();
            }
        }
        h.record(batch);
        List<String> want = new ArrayList<>();
        for (int i = 2_599; i >= 0; i--) {
            want.add(String.format("%s-%04d", i % 2 == 0 ? "many" : "more", i));
        }
        // ties of four per time: within one, the larger id first
        List<String> ordered = new ArrayList<>();
        for (int t = 649; t >= 0; t--) {
            List<String> tie = new ArrayList<>(want.subList((649 - t) * 4, (649 - t) * 4 + 4));
            tie.sort(java.util.Comparator.reverseOrder());
            ordered.addAll(tie);
        }
        assertThat(allPages(new Query("m", null, null, null, null, null, 200, null))).isEqualTo(ordered);
        assertThat(allPages(new Query("many-", null, null, null, null, null, 100, null)))
                .isEqualTo(ordered.stream().filter(id -> id.startsWith("many-")).toList());
        assertThat(allPages(new Query("more-1", "n1", null, null, null, null, 50, null))).isEqualTo(ordered.stream()
                .filter(id -> id.startsWith("more-1") && Integer.parseInt(id.substring(5)) % 3 == 1).toList());
        assertThat(ids(new Query("many-00", null, null, null, null, null, 100, null))).hasSize(50);
    }

    @Test
    void findByCriteriaCombined() {
        fill();
        assertThat(ids(by(null, "a", TaskState.SUCCESS, null))).isEqualTo(expected(i -> i % 4 == 0));
        assertThat(ids(by(null, "b", TaskState.SUCCESS, null))).isEmpty();
        assertThat(ids(by(null, "b", null, "w1"))).isEqualTo(expected(i -> i % 2 == 1 && i % 3 == 1));
        assertThat(ids(by(null, null, TaskState.RETRY, "w0"))).isEqualTo(expected(i -> i % 4 == 3 && i % 3 == 0));
        assertThat(ids(by("id-2", "a", TaskState.STARTED, "w2"))).isEqualTo(expected(i -> i >= 20 && i < 30 && i % 4 == 2 && i % 3 == 2));
        Query ranged = new Query("id-1", "b", null, null, at(12), at(18), 100, null);
        assertThat(ids(ranged)).containsExactly("id-17", "id-15", "id-13");
    }

    @Test
    void timeRangesIncludeFromAndExcludeTo() {
        fill();
        assertThat(ids(new Query(null, null, null, null, at(10), at(15), 100, null)))
                .containsExactly("id-14", "id-13", "id-12", "id-11", "id-10");
        assertThat(ids(new Query(null, null, null, null, at(35), null, 100, null))).isEqualTo(expected(i -> i >= 35));
        assertThat(ids(new Query(null, null, null, null, null, at(3), 100, null))).containsExactly("id-02", "id-01", "id-00");
        assertThat(ids(new Query(null, null, null, null, at(3).plusNanos(1), at(5), 100, null))).containsExactly("id-04");
        assertThat(ids(new Query(null, "a", TaskState.FAILURE, null, at(0), at(40), 100, null))).isEmpty();
        assertThat(ids(new Query(null, null, TaskState.SUCCESS, null, at(8), at(20), 100, null))).containsExactly("id-16", "id-12", "id-08");
    }

    /** Pages until the end; each page at most {@code limit}; returns every id in order. */
    private List<String> allPages(Query first) {
        List<String> out = new ArrayList<>();
        Query q = first;
        for (int pages = 0; pages < 1000; pages++) {
            Page p = h.find(q);
            assertThat(p.records().size()).isLessThanOrEqualTo(first.limit());
            p.records().forEach(r -> out.add(r.id()));
            if (p.next() == null) {
                return out;
            }
            assertThat(p.records()).hasSize(first.limit());
            q = q.withCursor(p.next());
        }
        throw new AssertionError("no last page");
    }

    @Test
    void pagesFollowCursorsOverTiesInUpdated() {
        List<TaskRecord> batch = new ArrayList<>();
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 25; i++) {
            String id = "tie-" + (char) ('a' + i);
            batch.add(rec(id, i % 2 == 0 ? "even" : "odd", TaskState.SUCCESS, "w", at(100))); // all in one microsecond
        }
        batch.add(rec("newer", "even", TaskState.SUCCESS, "w", at(101)));
        batch.add(rec("older", "odd", TaskState.SUCCESS, "w", at(99)));
        h.record(batch);
        want.add("newer");
        for (int i = 24; i >= 0; i--) {
            want.add("tie-" + (char) ('a' + i));
        }
        want.add("older");
        assertThat(allPages(Query.latest(10))).isEqualTo(want);
        assertThat(allPages(Query.latest(1))).isEqualTo(want);
        assertThat(allPages(Query.latest(27))).isEqualTo(want);
        assertThat(allPages(new Query(null, "even", null, null, null, null, 4, null)))
                .isEqualTo(want.stream().filter(id -> id.equals("newer") || (id.startsWith("tie-") && (id.charAt(4) - 'a') % 2 == 0)).toList());
        assertThat(allPages(new Query("tie-", null, TaskState.SUCCESS, "w", null, null, 7, null))).isEqualTo(want.subList(1, 26));
    }

    @Test
    void aCursorStillWorksAfterItsRecordChangedOrWent() {
        fill();
        Page first = h.find(Query.latest(10));
        assertThat(first.records()).extracting(TaskRecord::id).endsWith("id-30");
        h.record(List.of(rec("id-30", "a", TaskState.SUCCESS, "w0", at(1000)))); // moves to the front
        assertThat(ids(Query.latest(3).withCursor(first.next()))).containsExactly("id-29", "id-28", "id-27");
        h.prune(at(31), 1_000_000); // id-30 and the others before at(31) go... except id-30, now newest
        assertThat(ids(Query.latest(3).withCursor(first.next()))).isEmpty();
    }

    @Test
    void aBadCursorOrLimitIsRefused() {
        assertThatThrownBy(() -> h.find(Query.latest(10).withCursor("nonsense"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Query.latest(0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Query.latest(1001)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anEmptyHistoryFindsNothing() {
        Page p = h.find(Query.latest(50));
        assertThat(p.records()).isEmpty();
        assertThat(p.next()).isNull();
        assertThat(h.count()).isZero();
        assertThat(h.prune(at(0), 10)).isZero();
    }

    // ---- pruning ----

    @Test
    void pruneDropsByAgeThenTheOldestBeyondTheCap() {
        fill();
        assertThat(h.prune(at(10), 1_000_000)).isEqualTo(10);
        assertThat(h.count()).isEqualTo(30);
        assertThat(h.get("id-09")).isEmpty();
        assertThat(h.get("id-10")).isPresent();
        assertThat(h.prune(at(0), 25)).isEqualTo(5);
        assertThat(h.count()).isEqualTo(25);
        assertThat(ids(Query.latest(100))).isEqualTo(expected(i -> i >= 15));
        // gone from every index: no criterion finds them
        assertThat(ids(by(null, "b", null, null))).isEqualTo(expected(i -> i >= 15 && i % 2 == 1));
        assertThat(ids(by(null, null, TaskState.SUCCESS, null))).isEqualTo(expected(i -> i >= 15 && i % 4 == 0));
        assertThat(ids(by(null, null, null, "w1"))).isEqualTo(expected(i -> i >= 15 && i % 3 == 1));
        assertThat(ids(by("id-1", null, null, null))).isEqualTo(expected(i -> i >= 15 && i < 20));
        assertThat(h.prune(at(0), 25)).isZero();
        assertThat(h.prune(at(1000), 1_000_000)).isEqualTo(25);
        assertThat(h.count()).isZero();
    }

    @Test
    void theCapDropsTiesByIdOldestFirst() {
        List<TaskRecord> batch = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            batch.add(rec("x" + i, "n", TaskState.SUCCESS, "w", at(5)));
        }
        h.record(batch);
        assertThat(h.prune(at(0), 6)).isEqualTo(4);
        assertThat(ids(Query.latest(100))).containsExactly("x9", "x8", "x7", "x6", "x5", "x4");
    }

    @Test
    void aChangedRecordIsKeptByItsLatestUpdate() {
        fill();
        h.record(List.of(rec("id-00", "a", TaskState.SUCCESS, "w0", at(50))));
        h.prune(at(20), 1_000_000);
        assertThat(h.get("id-00")).isPresent();
        assertThat(ids(by(null, "a", null, null)).get(0)).isEqualTo("id-00");
        assertThat(h.count()).isEqualTo(21);
    }

    // ---- payloads ----

    @Test
    void unicodeIsKeptExactly() {
        String args = "[\"caf\u00e9 \u2615\", \"\u65e5\u672c\u8a9e\", \"\ud83d\ude00 \ud83c\udf89\", \"\\u0000x\\n\\\"q\\\"\"]";
        TaskRecord r = new TaskRecord("\u00fcid-\u4e00", "t\u00e2che.\u00e9t\u00e9", TaskState.FAILURE, "celery@h\u00f4te", "q\u00fc",
                args, "{\"cl\u00e9\": \"\u0432\u0430\u043b\"}", null, "ValueError: \u00e9chec \ud83d\udca5",
                "Traceback:\n  \u00e9", 0, null, null, at(1), null, null, null, null, List.of("\u00e7hild"),
                List.of(new Step(TaskState.FAILURE, at(1), "celery@h\u00f4te", 0, "ValueError: \u00e9chec \ud83d\udca5")));
        h.record(List.of(r));
        assertThat(h.get("\u00fcid-\u4e00")).contains(r);
        assertThat(h.find(by(null, "t\u00e2che.\u00e9t\u00e9", null, null)).records()).containsExactly(r);
        assertThat(h.find(by(null, null, null, "celery@h\u00f4te")).records()).containsExactly(r);
        assertThat(h.find(by("\u00fcid", null, null, null)).records()).containsExactly(r);
        assertThat(history().get("\u00fcid-\u4e00")).contains(r);
    }

    @Test
    void namesAndWorkersWithNewlinesAndBackslashesAreKeptAndFoundExactly() {
        TaskRecord lines = rec("x1", "a\nb\\c", TaskState.SUCCESS, "w\n\\", at(1));
        TaskRecord escaped = rec("x2", "a\\nb\\c", TaskState.SUCCESS, "w\\n\\", at(2)); // what an escape would make of x1's
        TaskRecord empty = rec("x3", "", TaskState.STARTED, "", at(3));
        h.record(List.of(lines, escaped, empty));
        assertThat(h.get("x1")).contains(lines);
        assertThat(h.get("x2")).contains(escaped);
        assertThat(h.get("x3")).contains(empty);
        assertThat(ids(by(null, "a\nb\\c", null, null))).containsExactly("x1");
        assertThat(ids(by(null, "a\\nb\\c", null, null))).containsExactly("x2");
        assertThat(ids(by(null, null, null, "w\n\\"))).containsExactly("x1");
        assertThat(ids(by(null, "a\nb\\c", TaskState.SUCCESS, "w\n\\"))).containsExactly("x1");
        h.record(List.of(rec("x1", "a\nb\\c", TaskState.SUCCESS, "other\nworker", at(4))));
        assertThat(ids(by(null, null, null, "w\n\\"))).isEmpty();
        assertThat(ids(by(null, null, null, "other\nworker"))).containsExactly("x1");
        assertThat(h.prune(at(10), 1000)).isEqualTo(3);
        assertThat(ids(by(null, "a\nb\\c", null, null))).isEmpty();
        assertThat(h.count()).isZero();
    }

    @Test
    void bigArgumentsAreKeptWhole() {
        StringBuilder big = new StringBuilder("[\"");
        java.util.Random random = new java.util.Random(7);
        while (big.length() < 100 * 1024) {
            big.append((char) ('a' + random.nextInt(26)));
        }
        String args = big.append("\"]").toString();
        String kwargs = "{\"blob\": \"" + "\u00e9".repeat(60_000) + "\"}";
        List<TaskRecord> batch = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            batch.add(full("big-" + i, TaskState.SUCCESS, at(i), args, args, null, List.of(), List.of()));
        }
        TaskRecord withKwargs = new TaskRecord("big-k", "tasks.add", TaskState.STARTED, "w", "q", args, kwargs, null, null, null, 0,
                null, null, at(30), null, null, null, null, null, null);
        batch.add(withKwargs);
        h.record(batch);
        assertThat(h.get("big-3").orElseThrow().args()).isEqualTo(args);
        assertThat(h.get("big-3").orElseThrow().result()).isEqualTo(args);
        assertThat(h.get("big-k").orElseThrow().kwargs()).isEqualTo(kwargs);
        Page p = h.find(Query.latest(50));
        assertThat(p.records()).hasSize(21);
        assertThat(p.records()).allSatisfy(r -> assertThat(r.args()).isEqualTo(args));
    }

    // ---- batches and restarts ----

    @Test
    void aBatchOfFiveHundredIsStoredInOneCall() {
        List<TaskRecord> batch = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            batch.add(rec(String.format("b%03d", i), "n" + i % 5, TaskState.SUCCESS, "w" + i % 7, at(i / 10)));
        }
        long start = System.nanoTime();
        h.record(batch);
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isLessThan(Duration.ofSeconds(10));
        assertThat(h.count()).isEqualTo(500);
        assertThat(allPages(new Query(null, "n3", null, null, null, null, 30, null))).hasSize(100);
        assertThat(allPages(Query.latest(77))).hasSize(500).doesNotHaveDuplicates();
    }

    @Test
    void aStoreOpenedAgainStillListsWhatWasRecorded() {
        fill();
        h.record(List.of(full("t", TaskState.SUCCESS, at(100), "[1]", "2", null, List.of("c"),
                List.of(new Step(TaskState.SUCCESS, at(100), "celery@a", 0, null)))));
        TaskRecord before = h.get("t").orElseThrow();
        h.close();
        opened.remove(h);
        TaskHistory again = history();
        assertThat(again.count()).isEqualTo(41);
        assertThat(again.get("t")).contains(before);
        assertThat(again.find(Query.latest(2)).records()).extracting(TaskRecord::id).containsExactly("t", "id-39");
        assertThat(again.find(by(null, "a", TaskState.SUCCESS, null)).records()).hasSize(10);
        // and two instances at once see each other's records
        TaskHistory other = history();
        other.record(List.of(rec("from-other", "n", TaskState.STARTED, "w", at(200))));
        assertThat(again.get("from-other")).isPresent();
        assertThat(again.find(Query.latest(1)).records()).extracting(TaskRecord::id).containsExactly("from-other");
        assertThat(again.describe()).isNotBlank();
    }
}
