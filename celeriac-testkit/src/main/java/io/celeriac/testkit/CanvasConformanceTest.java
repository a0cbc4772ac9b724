package io.celeriac.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Canvas;
import io.celeriac.Celeriac;
import io.celeriac.GroupResult;
import io.celeriac.Signature;
import io.celeriac.TaskContext;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.Tasks;
import io.celeriac.canvas.Ref;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Celery's canvas — chain, group, chord, link, link_error, chunks, starmap — built in Java and run
 * by a real worker on a real broker: the contract every broker meets. A broker module subclasses it
 * once, supplying the broker URL and a way to start a worker; every test uses fresh queue names,
 * and executions are counted by the tasks themselves.
 */
@Tag("integration")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
public abstract class CanvasConformanceTest {
    protected static final Duration WAIT = Duration.ofSeconds(30);

    /** Executions per task name and first argument, counted by the tasks as they run. */
    protected static final Map<String, AtomicInteger> RUNS = new ConcurrentHashMap<>();
    /** What errbacks were called with. */
    protected static final Map<String, String> ERRBACKS = new ConcurrentHashMap<>();

    /** The broker (and result store) URL the tests share. */
    protected abstract String url();

    /** Starts a worker with {@code config} running {@code tasks}; closing it stops the worker. */
    protected abstract AutoCloseable startWorker(Config config, TaskRegistry tasks) throws Exception;

    private final String freshQueue = "canvas-" + UUID.randomUUID();

    /** The queue the tests send to and the worker consumes: a fresh one per test unless a subclass shares one. */
    protected String queue() {
        return freshQueue;
    }

    /** How many times {@code task} ran with {@code key} (its arguments, as the tasks count them). */
    protected int runs(String task, String key) {
        AtomicInteger n = RUNS.get(task + ":" + key);
        return n == null ? 0 : n.get();
    }

    /** Whether the errback {@code on_error} was called with {@code failedTaskId}. */
    protected boolean errbackCalled(String failedTaskId) {
        return ERRBACKS.containsKey(failedTaskId);
    }
    private final List<AutoCloseable> opened = new ArrayList<>();
    protected Celeriac app;

    /** Where the suite's tasks count their runs and errbacks: this JVM's maps, or a store a worker process shares. */
    public interface Counter {
        void run(String key);

        void errback(String failedTaskId, String errbackId);
    }

    /** This JVM's maps ({@link #RUNS}, {@link #ERRBACKS}). */
    public static final Counter IN_MEMORY = new Counter() {
        @Override
        public void run(String key) {
            RUNS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
        }

        @Override
        public void errback(String failedTaskId, String errbackId) {
            ERRBACKS.put(failedTaskId, errbackId);
        }
    };

    /** The tasks every test uses, counting in this JVM. */
    public static TaskRegistry tasks() {
        return tasks(IN_MEMORY);
    }

    /**
     * The tasks every test uses, with the names and arguments of the Python interop app's, so the
     * suite runs against a Python worker too; they count their runs ("add:1+2") and errbacks in {@code c}.
     */
    public static TaskRegistry tasks(Counter c) {
        return new TaskRegistry()
                .register(Tasks.task("add", long.class, long.class, (x, y) -> {
                    c.run("add:" + x + "+" + y);
                    return x + y;
                }).params("x", "y"))
                .register(Tasks.task("mul", long.class, long.class, (x, y) -> x * y).params("x", "y"))
                .register(Tasks.task("tsum", List.class, numbers -> {
                    c.run("tsum:" + numbers);
                    long sum = 0;
                    for (Object n : numbers) {
                        sum += ((Number) n).longValue();
                    }
                    return sum;
                }).params("numbers"))
                .register(Tasks.raw("fail", ctx -> {
                    c.run("fail:");
                    throw new IllegalStateException(ctx.args().path(0).asText("boom"));
                }))
                .register(Tasks.task("on_error", String.class, taskId -> {
                    c.errback(taskId, TaskContext.current().id());
                    return taskId;
                }).params("task_id"))
                .register(Tasks.task("flaky_add", long.class, long.class, (x, y) -> {
                    TaskContext ctx = TaskContext.current();
                    if (ctx.retries() == 0) {
                        throw ctx.retry(new java.io.IOException("first try fails"), Duration.ofMillis(100));
                    }
                    return x + y;
                }).params("x", "y").maxRetries(2));
    }

    @BeforeEach
    void startAWorker() throws Exception {
        String queue = queue();
        Config config = Config.builder()
                .set(Settings.BROKER_URL, url())
                .set(Settings.TASK_DEFAULT_QUEUE, queue)
                .set(Settings.WORKER_QUEUES, List.of(queue))
                .set(Settings.WORKER_CONCURRENCY, 4)
                .set(Settings.WORKER_POOL, "threads")
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(200))
                .set(Settings.WORKER_HOSTNAME, "canvas-" + UUID.randomUUID().toString().substring(0, 8) + "@test")
                .build();
        opened.add(startWorker(config, tasks()));
        app = Celeriac.open(config, tasks());
        opened.add(app);
    }

    @AfterEach
    void stopIt() throws Exception {
        for (int i = opened.size() - 1; i >= 0; i--) {
            opened.get(i).close();
        }
    }

    private static Signature add(long x, long y) {
        return Signature.of("add", x, y);
    }

    private static Signature add(long y) {
        return Signature.of("add", y);
    }

    @Test
    void aChainOfTwoPassesTheFirstResultToTheSecondStep() {
        AsyncResult r = app.apply(Canvas.chain(add(1, 2), add(3)));
        assertThat(r.get(WAIT).asLong()).isEqualTo(6);
        AsyncResult first = r.parent().orElseThrow();
        assertThat(first.get(WAIT).asLong()).isEqualTo(3);
        assertThat(r.meta().orElseThrow().extra().path("parent_id").asText()).isEqualTo(first.id());
        JsonNode children = first.meta().orElseThrow().extra().get("children");
        assertThat(Ref.fromTuple(children.get(0)).id()).isEqualTo(r.id());
    }

    @Test
    void aChainOfFiveRunsEveryStepOnceInOrder() {
        String tag = UUID.randomUUID().toString().substring(0, 6);
        long base = Math.abs(tag.hashCode() % 100_000) * 10L;
        AsyncResult r = app.apply(Canvas.chain(add(base, 1), add(1), add(1), add(1), add(1)));
        assertThat(r.get(WAIT).asLong()).isEqualTo(base + 5);
        for (long i = 1; i <= 4; i++) {
            assertThat(runs("add", (base + i) + "+1")).as("step %d", i + 1).isEqualTo(1);
        }
        List<String> ids = new ArrayList<>();
        for (AsyncResult p = r; p != null; p = p.parent().orElse(null)) {
            ids.add(p.id());
            assertThat(p.state()).isEqualTo(TaskState.SUCCESS);
        }
        assertThat(ids).hasSize(5).doesNotHaveDuplicates();
        String root = ids.get(4);
        assertThat(r.meta().orElseThrow().extra().path("parent_id").asText()).isEqualTo(ids.get(1));
        assertThat(app.results().get(root)).isPresent();
    }

    @Test
    void anImmutableStepIgnoresItsParentsResult() {
        AsyncResult r = app.apply(Canvas.chain(add(1, 2), add(10, 10).immutable(), add(1)));
        assertThat(r.get(WAIT).asLong()).isEqualTo(21);
    }

    @Test
    void aGroupOfTenGathersTheResultsInOrderAndCanBeRestoredById() {
        List<Signature> tasks = IntStream.range(0, 10).mapToObj(i -> add(i, i)).toList();
        GroupResult g = app.applyGroup(Canvas.group(tasks));
        assertThat(g.get(WAIT)).extracting(JsonNode::asLong).containsExactly(0L, 2L, 4L, 6L, 8L, 10L, 12L, 14L, 16L, 18L);
        assertThat(g.ready()).isTrue();
        assertThat(g.completedCount()).isEqualTo(10);
        assertThat(g.successful()).isTrue();
        GroupResult restored = app.restoreGroup(g.id()).orElseThrow();
        assertThat(restored.results()).extracting(AsyncResult::id).containsExactlyElementsOf(
                g.results().stream().map(AsyncResult::id).toList());
        assertThat(g.results().get(3).meta().orElseThrow().extra().path("group_id").asText()).isEqualTo(g.id());
    }

    @Test
    void aChordOfTenRunsItsBodyOnceWithTheHeaderResultsInOrder() {
        long base = Math.abs(UUID.randomUUID().getMostSignificantBits() % 1_000_000) * 100;
        List<Signature> header = IntStream.range(0, 10).mapToObj(i -> add(base + i, 0)).toList();
        AsyncResult r = app.apply(Canvas.chord(header, Signature.of("tsum")));
        long expected = IntStream.range(0, 10).mapToLong(i -> base + i).sum();
        assertThat(r.get(WAIT).asLong()).isEqualTo(expected);
        List<Long> inOrder = IntStream.range(0, 10).mapToObj(i -> base + i).toList();
        await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> runs("tsum", inOrder.toString()) == 1);
        GroupResult h = r.parentGroup().orElseThrow();
        assertThat(h.results()).hasSize(10);
        assertThat(h.get(WAIT)).extracting(JsonNode::asLong).containsExactlyElementsOf(inOrder);
    }

    @Test
    void aChordWhoseHeaderFailsEndsTheBodyInChordErrorAndCallsItsErrback() {
        AsyncResult r = app.apply(Canvas.chord(List.of(add(1, 1), Signature.of("fail")),
                Signature.of("tsum").linkError(Signature.of("on_error"))));
        assertThatThrownBy(() -> r.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class, e -> {
            assertThat(e.excType()).isEqualTo("ChordError");
            assertThat(e.excMessage()).startsWith("Dependency ").contains(" raised ").endsWith("('boom')");
        });
        await().atMost(WAIT).until(() -> errbackCalled(r.id()));
    }

    @Test
    void aLinkedCallbackGetsTheResultAndIsRecordedAsAChild() {
        AsyncResult r = app.apply(add(2, 2).link(Signature.of("mul", 10)));
        assertThat(r.get(WAIT).asLong()).isEqualTo(4);
        await().atMost(WAIT).until(() -> r.meta().map(m -> m.extra().path("children").size() == 1).orElse(false));
        String callback = Ref.fromTuple(r.meta().orElseThrow().extra().get("children").get(0)).id();
        assertThat(app.result(callback).get(WAIT).asLong()).isEqualTo(40);
        assertThat(app.result(callback).meta().orElseThrow().extra().path("parent_id").asText()).isEqualTo(r.id());
    }

    @Test
    void aLinkedErrbackIsCalledWithTheFailedTasksId() {
        AsyncResult r = app.apply(Signature.of("fail").linkError(Signature.of("on_error")));
        assertThatThrownBy(() -> r.get(WAIT)).isInstanceOf(TaskFailedException.class);
        await().atMost(WAIT).until(() -> errbackCalled(r.id()));
    }

    @Test
    void aFailingMiddleStepFailsTheChainAndTheLaterStepsNeverRun() {
        long base = Math.abs(UUID.randomUUID().getMostSignificantBits() % 1_000_000) * 100 + 7;
        AsyncResult r = app.apply(Canvas.chain(add(base, 0), Signature.of("fail").immutable(), add(base, 1).immutable()));
        assertThatThrownBy(() -> r.get(WAIT)).isInstanceOfSatisfying(TaskFailedException.class,
                e -> assertThat(e.excMessage()).isEqualTo("boom"));
        assertThat(r.parent().orElseThrow().state()).isEqualTo(TaskState.FAILURE);
        assertThat(runs("add", base + "+0")).isEqualTo(1);
        assertThat(runs("add", base + "+1")).isZero();
    }

    @Test
    void aGroupInsideAChainBecomesAChordWhoseBodyGetsBothResults() {
        AsyncResult r = app.apply(Canvas.chain(add(1, 1), Canvas.group(add(1), add(2)), Signature.of("tsum")));
        assertThat(r.get(WAIT).asLong()).isEqualTo(7); // (2+1) + (2+2)
    }

    @Test
    void aChordInsideAChainPassesItsResultOn() {
        AsyncResult r = app.apply(Canvas.chain(add(1, 1), Canvas.chord(List.of(add(1), add(2)), Signature.of("tsum")), add(100)));
        assertThat(r.get(WAIT).asLong()).isEqualTo(107);
    }

    @Test
    void chunksSplitTheArgumentsIntoStarmapTasks() {
        List<List<Long>> pairs = IntStream.range(0, 10).mapToObj(i -> List.of((long) i, (long) i)).toList();
        GroupResult g = app.applyGroup(Canvas.chunks(Signature.of("add"), pairs, 3));
        assertThat(g.results()).hasSize(4);
        List<JsonNode> parts = g.get(WAIT);
        assertThat(parts.get(0).toString()).isEqualTo("[0,2,4]");
        assertThat(parts.get(3).toString()).isEqualTo("[18]");
    }

    @Test
    void starmapCallsTheTaskOncePerArgumentList() {
        AsyncResult r = app.apply(Canvas.starmap(Signature.of("mul"), List.of(List.of(2, 3), List.of(4, 5))));
        assertThat(r.get(WAIT).toString()).isEqualTo("[6,20]");
    }

    @Test
    void aStepWithACountdownWaitsInTheBrokerBeforeItRuns() {
        long t0 = System.nanoTime();
        AsyncResult r = app.apply(Canvas.chain(add(1, 1), add(1).set("countdown", 1)));
        assertThat(r.get(WAIT).asLong()).isEqualTo(3);
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(950));
    }

    @Test
    void aRetriedStepCarriesTheRestOfTheChain() {
        AsyncResult r = app.apply(Canvas.chain(Signature.of("flaky_add", 1, 2), add(10)));
        assertThat(r.get(WAIT).asLong()).isEqualTo(13);
        TaskResult first = r.parent().orElseThrow().meta().orElseThrow();
        assertThat(first.extra().path("retries").asInt()).isEqualTo(1);
    }
}
