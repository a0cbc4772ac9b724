package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskContext;
import io.celeriac.TaskFailedException;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskRevokedException;
import io.celeriac.TaskState;
import io.celeriac.Tasks;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The worker end to end on the in-memory broker: real threads, real codec, no mocks. */
@Tag("integration")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class WorkerTest {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private final String url = "memory://worker-" + UUID.randomUUID();
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger flakyCalls = new AtomicInteger();
    private final TaskRegistry registry = new TaskRegistry()
            .register(Tasks.task("add", int.class, int.class, (x, y) -> x + y).params("x", "y"))
            .register(Tasks.task("fail", String.class, m -> {
                throw new IllegalStateException(m);
            }))
            .register(Tasks.task("block", () -> {
                release.await();
                return "released";
            }))
            .register(Tasks.task("flaky", int.class, failures -> {
                TaskContext ctx = TaskContext.current();
                flakyCalls.incrementAndGet();
                if (ctx.retries() < failures) {
                    throw ctx.retry(new java.io.IOException("source timed out"), Duration.ofMillis(50));
                }
                return "ok after " + ctx.retries();
            }).maxRetries(3))
            .register(Tasks.task("spawn", () -> {
                AsyncResult child = client().send("add", 1, 2);
                return child.id();
            }))
            .register(Tasks.task("quiet", () -> "not stored").ignoreResult(true))
            .register(Tasks.raw("echo", ctx -> ctx.args()))
            .register(Tasks.task("soft", () -> {
                try {
                    TaskContext.current().sleep(Duration.ofSeconds(10));
                    return "slept";
                } catch (io.celeriac.SoftTimeLimitExceeded e) {
                    return "cleaned up";
                }
            }).softTimeLimit(Duration.ofMillis(300)))
            .register(Tasks.task("stubborn", () -> {
                long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
                long spins = 0;
                while (System.nanoTime() < end) { // ignores interruption on purpose
                    spins++;
                }
                return spins;
            }).timeLimit(Duration.ofMillis(500)))
            .register(Tasks.task("flaky_auto", () -> {
                TaskContext ctx = TaskContext.current();
                if (ctx.retries() < 2) {
                    throw new java.io.UncheckedIOException(new java.io.IOException("down"));
                }
                return ctx.retries();
            }).autoretryFor(java.io.UncheckedIOException.class).retryBackoff(Duration.ofMillis(50)));

    private Celeriac client;
    private Worker worker;

    private Config config(int concurrency, int prefetch) {
        return Config.builder()
                .set(Settings.BROKER_URL, url)
                .set(Settings.WORKER_CONCURRENCY, concurrency)
                .set(Settings.WORKER_PREFETCH_MULTIPLIER, prefetch)
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(100))
                .set(Settings.WORKER_HOSTNAME, "test@host")
                .set(Settings.WORKER_POOL, "threads")
                .build();
    }

    private Celeriac client() {
        return client;
    }

    private Worker start(int concurrency, int prefetch) {
        return start(config(concurrency, prefetch));
    }

    private Worker start(Config c) {
        client = Celeriac.open(c, registry);
        worker = new Worker(WorkerOptions.from(c), registry, client.broker(), client.results(), Clock.systemUTC());
        worker.start();
        return worker;
    }

    @AfterEach
    void stop() throws InterruptedException {
        release.countDown();
        if (worker != null) {
            worker.shutdown();
            worker.awaitTermination(WAIT);
        }
        if (client != null) {
            client.close();
        }
    }

    @Test
    void observersAreToldEachMessagesFateOnceAndOneThatThrowsBreaksNoRun() throws Exception {
        Config c = config(2, 1);
        client = Celeriac.open(c, registry);
        worker = new Worker(WorkerOptions.from(c), registry, client.broker(), client.results(), Clock.systemUTC());
        java.util.concurrent.atomic.AtomicInteger thrown = new java.util.concurrent.atomic.AtomicInteger();
        worker.observe(new TaskObserver() { // fails on every call: logged once, ignored
            @Override
            public void received(Delivery d, io.celeriac.protocol.TaskMessage m, Instant at) {
                thrown.incrementAndGet();
                throw new IllegalStateException("observer bug");
            }

            @Override
            public void finished(Finished f) {
                thrown.incrementAndGet();
                throw new IllegalStateException("observer bug");
            }
        });
        List<TaskObserver.Finished> fates = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicInteger received = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger started = new java.util.concurrent.atomic.AtomicInteger();
        worker.observe(new TaskObserver() {
            @Override
            public void received(Delivery d, io.celeriac.protocol.TaskMessage m, Instant at) {
                received.incrementAndGet();
            }

            @Override
            public void started(io.celeriac.protocol.TaskMessage m, String queue, Instant at) {
                started.incrementAndGet();
            }

            @Override
            public void finished(Finished f) {
                fates.add(f);
            }
        });
        worker.start();
        AsyncResult ok = client.send("add", 2, 3);
        AsyncResult bad = client.send("fail", "boom");
        AsyncResult flaky = client.send("flaky", 1);
        AsyncResult unknown = client.send("no_such_task");
        AsyncResult expired = client.send("add", List.of(1, 1), Map.of(),
                SendOptions.NONE.withExpires(Instant.now().minusSeconds(5)));
        assertThat(ok.get(WAIT).asInt()).isEqualTo(5);
        assertThat(flaky.get(WAIT).asText()).isEqualTo("ok after 1");
        for (AsyncResult r : List.of(bad, unknown, expired)) {
            await().atMost(WAIT).until(() -> r.state().ready());
        }
        await().atMost(WAIT).until(() -> fates.size() == 6);
        Map<String, List<TaskObserver.Fate>> byId = new java.util.HashMap<>();
        fates.forEach(f -> byId.computeIfAbsent(f.id(), k -> new java.util.ArrayList<>()).add(f.fate()));
        assertThat(byId.get(ok.id())).containsExactly(TaskObserver.Fate.SUCCESS);
        assertThat(byId.get(bad.id())).containsExactly(TaskObserver.Fate.FAILURE);
        assertThat(byId.get(flaky.id())).containsExactly(TaskObserver.Fate.RETRY, TaskObserver.Fate.SUCCESS);
        assertThat(byId.get(unknown.id())).containsExactly(TaskObserver.Fate.REJECTED);
        assertThat(byId.get(expired.id())).containsExactly(TaskObserver.Fate.REVOKED);
        assertThat(received.get()).isEqualTo(6);
        assertThat(started.get()).isEqualTo(4); // add, fail, flaky twice: the unknown and the expired never ran
        TaskObserver.Finished success = fates.stream().filter(f -> f.id().equals(ok.id())).findFirst().orElseThrow();
        assertThat(success.result().asInt()).isEqualTo(5);
        assertThat(success.runtime()).isNotNull();
        assertThat(success.queue()).isEqualTo("celery");
        assertThat(fates.stream().filter(f -> f.id().equals(unknown.id())).findFirst().orElseThrow().deadLettered()).isTrue();
        assertThat(thrown.get()).isEqualTo(12);
        // the stats are fed by the same observer
        assertThat(worker.stats().succeeded()).isEqualTo(2);
        assertThat(worker.stats().failed()).isEqualTo(1);
        assertThat(worker.stats().retried()).isEqualTo(1);
        assertThat(worker.stats().revoked()).isEqualTo(1);
        assertThat(worker.stats().deadLettered()).isEqualTo(1);
        assertThat(worker.stats().received()).isEqualTo(6);
        assertThat(worker.stats().active()).isZero();
    }

    @Test
    void floatsKeepTheirTypeThroughArgumentsAndResults() throws Exception {
        start(1, 1);
        JsonNode back = client.send("echo", 1.0, -0.0, 2.5, 3, Double.NaN).get(WAIT);
        assertThat(Json.write(back)).isEqualTo("[1.0,-0.0,2.5,3,NaN]"); // as Python writes them
    }

    @Test
    void withResultExtendedAResultRecordsNameArgumentsWorkerRetriesAndQueue() throws Exception {
        Config c = Config.builder().set(Settings.BROKER_URL, url).set(Settings.WORKER_HOSTNAME, "test@host")
                .set(Settings.WORKER_POOL, "threads").set(Settings.RESULT_EXTENDED, true).build();
        start(c);
        AsyncResult r = client.send("add", List.of(2), Map.of("y", 3), SendOptions.NONE);
        assertThat(r.get(WAIT).asInt()).isEqualTo(5);
        var extra = r.meta().orElseThrow().extra();
        assertThat(extra.path("name").asText()).isEqualTo("add");
        assertThat(extra.path("args").toString()).isEqualTo("[2]");
        assertThat(extra.path("kwargs").toString()).isEqualTo("{\"y\":3}");
        assertThat(extra.path("worker").asText()).isEqualTo("test@host");
        assertThat(extra.path("retries").asInt()).isZero();
        assertThat(extra.path("queue").asText()).isEqualTo("celery");
    }

    @Test
    void runsTasksAndStoresTheirResults() {
        start(2, 4);
        assertThat(client.send("add", 2, 3).get(WAIT).asInt()).isEqualTo(5);
        AsyncResult byName = client.send("add", List.of(2), Map.of("y", 40), SendOptions.NONE);
        assertThat(byName.get(WAIT, Integer.class)).isEqualTo(42);
        assertThat(byName.state()).isEqualTo(TaskState.SUCCESS);
    }

    @Test
    void aFailingTaskIsRecordedWithItsExceptionAndTraceback() {
        start(1, 1);
        AsyncResult r = client.send("fail", "boom");
        assertThatThrownBy(() -> r.get(WAIT))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                    assertThat(e.excType()).isEqualTo("IllegalStateException");
                    assertThat(e.excModule()).isEqualTo("java.lang");
                    assertThat(e.excMessage()).isEqualTo("boom");
                    assertThat(e.remoteTraceback()).contains("IllegalStateException: boom");
                });
        assertThat(r.state()).isEqualTo(TaskState.FAILURE);
    }

    @Test
    void argumentsThatDoNotFitFailTheTaskAsATypeError() {
        start(1, 1);
        assertThatThrownBy(() -> client.send("add", "two", 3).get(WAIT))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                    assertThat(e.excType()).isEqualTo("TypeError");
                    assertThat(e.excMessage()).isEqualTo("task 'add': argument 'x' must be int, got string \"two\"");
                });
    }

    @Test
    void anUnknownTaskIsDeadLetteredWithItsReasonAndTheWorkerGoesOn() throws Exception {
        start(1, 1);
        AsyncResult unknown = client.send("no_such_task", 1);
        assertThatThrownBy(() -> unknown.get(WAIT))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.excType()).isEqualTo("NotRegistered"));
        assertThat(client.send("add", 1, 1).get(WAIT).asInt()).isEqualTo(2);
        JsonNode dead = deadLetters().get(0);
        assertThat(dead.get("reason").asText()).startsWith("unknown task 'no_such_task'");
        assertThat(dead.get("id").asText()).isEqualTo(unknown.id());
        assertThat(dead.get("queue").asText()).isEqualTo("celery");
        assertThat(worker.stats().deadLettered()).isEqualTo(1);
    }

    @Test
    void aMalformedMessageIsDeadLetteredWithItsReasonAndTheWorkerGoesOn() throws Exception {
        start(1, 1);
        client.broker().publish("celery", new BrokerMessage(null, "{\"this is\": \"not a task\"}", 0, null));
        client.broker().publish("celery", new BrokerMessage(null, "\u0000garbage", 0, null));
        assertThat(client.send("add", 20, 22).get(WAIT).asInt()).isEqualTo(42);
        await().atMost(WAIT).until(() -> client.broker().size("celeriac.dead_letter") == 2);
        List<JsonNode> dead = deadLetters();
        assertThat(dead).extracting(d -> d.get("reason").asText())
                .containsExactlyInAnyOrder("malformed message: message has no headers object",
                        dead.stream().map(d -> d.get("reason").asText()).filter(r -> r.startsWith("malformed message: message is not JSON")).findFirst().orElse("missing"));
        assertThat(dead).extracting(d -> d.get("payload").asText()).contains("\u0000garbage");
    }

    private List<JsonNode> deadLetters() throws Exception {
        List<Delivery> ds = client.broker().reserve(List.of("celeriac.dead_letter"), 100, Duration.ofSeconds(5));
        return ds.stream().map(d -> {
            try {
                return Json.read(d.payload());
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    @Test
    void anExpiredTaskIsRevokedAndNotRun() {
        start(1, 1);
        AsyncResult r = client.send("add", List.of(1, 2), Map.of(),
                SendOptions.options().withExpires(Instant.now().minusSeconds(1)));
        assertThatThrownBy(() -> r.get(WAIT))
                .isInstanceOfSatisfying(TaskRevokedException.class, e -> assertThat(e.reason()).isEqualTo("expired"));
        assertThat(worker.stats().succeeded()).isZero();
    }

    @Test
    void aTaskIsNotRunBeforeItsCountdown() {
        start(1, 1);
        long sent = System.nanoTime();
        AsyncResult r = client.send("add", List.of(1, 2), Map.of(), SendOptions.options().withCountdown(Duration.ofMillis(700)));
        assertThat(r.get(WAIT).asInt()).isEqualTo(3);
        assertThat(Duration.ofNanos(System.nanoTime() - sent)).isGreaterThanOrEqualTo(Duration.ofMillis(700));
    }

    @Test
    void aRetriedTaskRunsAgainWithItsRetryCountAndShowsStateRetry() {
        start(1, 1);
        AsyncResult r = client.send("flaky", 2);
        assertThat(r.get(WAIT).asText()).isEqualTo("ok after 2");
        assertThat(flakyCalls.get()).isEqualTo(3);
        assertThat(worker.stats().retried()).isEqualTo(2);
    }

    @Test
    void whenRetriesAreUsedUpTheTaskFailsWithTheOriginalException() {
        start(1, 1);
        AsyncResult r = client.send("flaky", 10);
        assertThatThrownBy(() -> r.get(WAIT))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> {
                    assertThat(e.excType()).isEqualTo("IOException");
                    assertThat(e.excMessage()).isEqualTo("source timed out");
                });
        assertThat(flakyCalls.get()).isEqualTo(4); // the first run and three retries
    }

    @Test
    void aTaskSentFromATaskIsLinkedToItsParent() {
        start(2, 1);
        AsyncResult parent = client.send("spawn");
        String childId = parent.get(WAIT).asText();
        AsyncResult child = client.result(childId);
        assertThat(child.get(WAIT).asInt()).isEqualTo(3);
        assertThat(child.meta().orElseThrow().extra().get("parent_id").asText()).isEqualTo(parent.id());
    }

    @Test
    void anIgnoredResultIsNotStored() throws Exception {
        start(1, 1);
        AsyncResult r = client.send("quiet");
        await().atMost(WAIT).until(() -> worker.stats().succeeded() == 1);
        assertThat(r.state()).isEqualTo(TaskState.PENDING);
    }

    @Test
    void theWorkerHoldsNoMoreThanItsPrefetchLimit() {
        start(1, 2);
        for (int i = 0; i < 10; i++) {
            client.send("block");
        }
        await().atMost(WAIT).until(() -> worker.stats().active() == 1);
        await().during(Duration.ofMillis(300)).atMost(WAIT).until(() -> client.broker().size("celery") == 8);
    }

    @Test
    void warmShutdownFinishesRunningTasksAndGivesBackTheRest() throws Exception {
        start(1, 3);
        AsyncResult running = client.send("block");
        for (int i = 0; i < 5; i++) {
            client.send("add", i, i);
        }
        await().atMost(WAIT).until(() -> worker.stats().active() == 1);
        worker.shutdown();
        Thread.sleep(200);
        assertThat(worker.awaitTermination(Duration.ofMillis(10))).isFalse(); // still running its task
        release.countDown();
        assertThat(worker.awaitTermination(WAIT)).isTrue();
        assertThat(running.get(WAIT).asText()).isEqualTo("released");
        assertThat(client.broker().size("celery")).isEqualTo(5); // none lost, none run
        assertThat(client.coordination().nodes()).doesNotContainKey("test@host");
    }

    @Test
    void coldShutdownGivesRunningTasksBackToTheQueue() throws Exception {
        start(1, 1);
        AsyncResult running = client.send("block");
        await().atMost(WAIT).until(() -> worker.stats().active() == 1);
        worker.shutdownNow();
        assertThat(worker.awaitTermination(WAIT)).isTrue();
        assertThat(running.state()).isEqualTo(TaskState.PENDING);
        List<Delivery> back = client.broker().reserve(List.of("celery"), 1, Duration.ZERO);
        assertThat(back).hasSize(1);
        assertThat(back.get(0).redelivered()).isTrue();
    }

    @Test
    void theThreadPoolInterruptsATaskAtItsSoftLimitAndTheTaskCanCleanUp() {
        start(1, 1);
        assertThat(client.send("soft").get(WAIT).asText()).isEqualTo("cleaned up");
    }

    @Test
    void theThreadPoolAbandonsATaskAtItsHardLimitAndReportsTheStuckThread() {
        start(1, 1);
        assertThatThrownBy(() -> client.send("stubborn").get(WAIT))
                .isInstanceOfSatisfying(TaskFailedException.class, e -> assertThat(e.excType()).isEqualTo("TimeLimitExceeded"));
        assertThat(client.send("add", 1, 1).get(Duration.ofSeconds(2)).asInt()).isEqualTo(2); // the slot went on
        assertThat(worker.poolStats().get("stuck_threads")).isEqualTo(1);
        await().atMost(WAIT).until(() -> worker.poolStats().get("stuck_threads").equals(0)); // it ended by itself
    }

    @Test
    void anExceptionInAutoretryForRetriesByItself() {
        start(1, 1);
        assertThat(client.send("flaky_auto").get(WAIT).asInt()).isEqualTo(2);
        assertThat(worker.stats().retried()).isEqualTo(2);
    }

    @Test
    void aWorkerAnswersPingAndStatsThroughTheBroker() throws Exception {
        start(1, 1);
        io.celeriac.spi.ControlChannel control = client.control();
        List<String> both = List.of("test@host", "nobody@nowhere");
        Map<String, JsonNode> pong = control.call("ping", null, both, both, Duration.ofSeconds(2));
        assertThat(pong).containsOnlyKeys("test@host");
        assertThat(pong.get("test@host").get("ok").asText()).isEqualTo("pong");
        client.send("add", 1, 1).get(WAIT);
        JsonNode stats = control.call("stats", null, List.of("test@host"), List.of(), Duration.ofSeconds(2)).get("test@host");
        assertThat(stats.get("hostname").asText()).isEqualTo("test@host");
        assertThat(stats.get("succeeded").asLong()).isEqualTo(1);
        JsonNode unknown = control.call("reboot", null, List.of("test@host"), List.of(), Duration.ofSeconds(2)).get("test@host");
        assertThat(unknown.get("error").asText()).isEqualTo("KeyError('reboot')"); // what a Celery 5.2 worker answers
    }

    @Test
    void aWorkerRecordsHeartbeatsWhileItRuns() throws Exception {
        start(1, 1);
        await().atMost(WAIT).until(() -> client.coordination().nodes().containsKey("test@host"));
        JsonNode beat = Json.read(client.coordination().nodes().get("test@host").json());
        assertThat(beat.get("hostname").asText()).isEqualTo("test@host");
        assertThat(beat.get("sw_ident").asText()).isEqualTo("celeriac");
        assertThat(beat.get("registered")).isNotEmpty();
        long first = beat.get("clock").asLong();
        await().atMost(WAIT).until(() -> Json.read(client.coordination().nodes().get("test@host").json()).get("clock").asLong() > first);
    }

    /** coordination_url on a store of its own: heartbeats, revocations and control's look-up go there; the queues stay on the broker. */
    @Test
    void presenceAndRevocationsLiveAtTheCoordinationUrlApartFromTheBroker() throws Exception {
        String elsewhere = "memory://coordination-" + UUID.randomUUID();
        start(config(1, 1).toBuilder().set(Settings.COORDINATION_URL, elsewhere).build());
        io.celeriac.spi.InMemoryBackend memory = new io.celeriac.spi.InMemoryBackend();
        try (io.celeriac.spi.Coordination there = memory.openCoordination(elsewhere, Config.defaults());
             io.celeriac.spi.Coordination brokers = memory.openCoordination(url, Config.defaults())) {
            await().atMost(WAIT).until(() -> there.nodes().containsKey("test@host"));
            assertThat(brokers.nodes()).as("nothing on the broker's store").isEmpty();
            Map<String, JsonNode> pong = client.control().call("ping", null, null, List.of("test@host"), Duration.ofSeconds(5));
            assertThat(pong).containsOnlyKeys("test@host"); // a broadcast: the worker found at the coordination URL
            AsyncResult running = client.send("block");
            await().atMost(WAIT).until(() -> worker.stats().active() == 1);
            AsyncResult queued = client.send("add", 1, 2);
            client.revoke(queued.id(), false);
            assertThat(there.revocations(Instant.EPOCH)).anyMatch(r -> r.taskId().equals(queued.id()));
            assertThat(brokers.revocations(Instant.EPOCH)).isEmpty();
            release.countDown();
            assertThat(running.get(WAIT).asText()).isNotEmpty();
            await().atMost(WAIT).until(() -> queued.state() == TaskState.REVOKED);
        } finally {
            io.celeriac.spi.InMemoryBackend.drop(elsewhere);
        }
    }
}
