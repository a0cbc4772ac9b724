package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.AsyncResult;
import io.celeriac.Canvas;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.Signature;
import io.celeriac.Task;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import io.celeriac.config.Config;
import io.celeriac.config.ConfigLoader;
import io.celeriac.config.Settings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** Rate limits (@Task and task_annotations) and task_routes on real workers sharing one in-memory broker. */
@Tag("integration")
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class TaskOptionsWorkerTest {
    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final int BURST = 30;

    private final String url = "memory://taskopts-" + UUID.randomUUID();
    /** When each run of a paced task started (System.nanoTime). */
    private final ConcurrentLinkedQueue<Long> starts = new ConcurrentLinkedQueue<>();
    private final List<Worker> workers = new ArrayList<>();
    private final List<Celeriac> clients = new ArrayList<>();

    public class Paced {
        @Task(name = "paced", rateLimit = "10/s")
        public long paced() {
            starts.add(System.nanoTime());
            return System.nanoTime();
        }

        /** Declares 1/s; the configuration's task_annotations raise it. */
        @Task(name = "slow_declared", rateLimit = "1/s")
        public String slowDeclared() {
            return "ran";
        }
    }

    private TaskRegistry registry() {
        return new TaskRegistry().register(new Paced())
                .register(Tasks.task("plain", () -> {
                    starts.add(System.nanoTime());
                    return "plain";
                }))
                .register(Tasks.task("add", int.class, int.class, (x, y) -> x + y).params("x", "y"))
                .register(Tasks.task("where", () -> io.celeriac.TaskContext.current().hostname()))
                .register(Tasks.task("own_queue", () -> io.celeriac.TaskContext.current().hostname()).queue("celery"));
    }

    private Config.Builder base(String node, String... queues) {
        return Config.builder().set(Settings.BROKER_URL, url).set(Settings.WORKER_POOL, "threads")
                .set(Settings.WORKER_CONCURRENCY, 4).set(Settings.WORKER_HOSTNAME, node)
                .set(Settings.WORKER_HEARTBEAT_INTERVAL, Duration.ofMillis(100))
                .set(Settings.WORKER_QUEUES, List.of(queues));
    }

    private Celeriac start(Config c) {
        TaskRegistry registry = registry();
        Celeriac client = Celeriac.open(c, registry);
        Worker w = new Worker(WorkerOptions.from(c), registry, client.broker(), client.results(), Clock.systemUTC());
        w.start();
        workers.add(w);
        clients.add(client);
        return client;
    }

    @AfterEach
    void stop() throws InterruptedException {
        for (Worker w : workers) {
            w.shutdown();
            w.awaitTermination(WAIT);
        }
        clients.forEach(Celeriac::close);
    }

    /** Sends a burst, waits for all, and checks no {@code n + 1} starts fell within 0.9 s. */
    private void burstIsPaced(Celeriac client, String task, int perSecond) {
        starts.clear();
        List<AsyncResult> rs = new ArrayList<>();
        for (int i = 0; i < BURST; i++) {
            rs.add(client.send(task));
        }
        rs.forEach(r -> r.get(WAIT));
        List<Long> sorted = new ArrayList<>(starts);
        sorted.sort(null);
        assertThat(sorted).hasSize(BURST);
        // slots are 1/rate apart from the first start; a late start (a busy machine) only widens the gaps
        for (int i = 0; i + perSecond + 1 < sorted.size(); i++) {
            long windowMs = TimeUnit.NANOSECONDS.toMillis(sorted.get(i + perSecond + 1) - sorted.get(i));
            assertThat(windowMs).as("starts %d..%d of %s", i, i + perSecond + 1, task).isGreaterThanOrEqualTo(900);
        }
    }

    @Test
    void theAnnotationsRateLimitHoldsAcrossABurst() {
        Celeriac client = start(base("paced@host", "celery").build());
        burstIsPaced(client, "paced", 10);
        // the control command still overrides it while the worker runs
        RateLimits limits = workers.get(0).handler().rateLimits;
        assertThat(limits.intervals()).containsEntry("paced", 100_000_000L);
        limits.set("paced", "0");
        assertThat(limits.intervals()).doesNotContainKey("paced");
    }

    @Test
    void taskAnnotationsFromYamlSetARateLimitAndOverrideTheTasksOwn(@TempDir Path dir) throws Exception {
        Path yaml = dir.resolve("celeriac.yaml");
        Files.writeString(yaml, """
                task_annotations:
                  plain:
                    rate_limit: 10/s
                  slow_declared: {rate_limit: 50/s}
                """);
        Config file = ConfigLoader.load(yaml, dir, Map.of(), Map.of());
        Config c = base("annotated@host", "celery").build();
        Config.Builder merged = c.toBuilder();
        merged.setRaw("task_annotations", file.get(Settings.TASK_ANNOTATIONS), yaml.toString());
        Celeriac client = start(merged.build());
        burstIsPaced(client, "plain", 10);
        RateLimits limits = workers.get(0).handler().rateLimits;
        assertThat(limits.intervals()).containsEntry("slow_declared", 20_000_000L); // 50/s over @Task's 1/s
        assertThat(limits.intervals()).containsEntry("plain", 100_000_000L);
    }

    @Test
    void aRoutedTaskLandsOnItsQueueFromClientsAndFromWorkers() {
        Map<String, Object> routes = Map.of("where", Map.of("queue", "hipri"), "own_*", "hipri");
        Config.Builder celery = base("celery@host", "celery");
        celery.setRaw("task_routes", routes, "test");
        Config.Builder hipri = base("hipri@host", "hipri");
        hipri.setRaw("task_routes", routes, "test");
        Celeriac client = start(celery.build());
        start(hipri.build());

        assertThat(client.send("where").get(WAIT, String.class)).isEqualTo("hipri@host");
        // the call's queue comes first, then the task's own queue (as Celery: options, task attribute, route)
        assertThat(client.send("where", List.of(), Map.of(), SendOptions.NONE.withQueue("celery"))
                .get(WAIT, String.class)).isEqualTo("celery@host");
        assertThat(client.send("own_queue").get(WAIT, String.class)).isEqualTo("celery@host");
        // a worker sending the next step of a chain routes it the same way
        AsyncResult chain = client.apply(Canvas.chain(Signature.of("add", 1, 2), Signature.of("where").immutable()));
        assertThat(chain.get(WAIT, String.class)).isEqualTo("hipri@host");
        assertThat(client.send("add", 2, 2).get(WAIT, Integer.class)).isEqualTo(4); // unrouted: task_default_queue
    }
}
