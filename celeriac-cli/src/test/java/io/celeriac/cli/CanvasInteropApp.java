package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.TaskContext;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import io.celeriac.protocol.Json;
import io.celeriac.testkit.CanvasConformanceTest;
import redis.clients.jedis.JedisPooled;

/**
 * The canvas suite's tasks for a worker process, with the names and arguments of the Python
 * interop app's (add, mul, tsum, fail, on_error, flaky_add, slow_add, echo), and {@code progress} (updateState), counting their runs and
 * errbacks in the Redis hashes {@code test.runs} and {@code test.errbacks} at {@code RUNS_REDIS_URL},
 * as the Python tasks do.
 */
public final class CanvasInteropApp implements CeleriacApp {
    private static volatile JedisPooled redis;

    /** The counter on the Redis at {@code url}: what the Python tasks write, read by the tests too. */
    static CanvasConformanceTest.Counter counter(JedisPooled r) {
        return new CanvasConformanceTest.Counter() {
            @Override
            public void run(String key) {
                r.hincrBy("test.runs", key, 1);
            }

            @Override
            public void errback(String failedTaskId, String errbackId) {
                r.hset("test.errbacks", failedTaskId, errbackId);
            }
        };
    }

    @Override
    public void register(TaskRegistry tasks) {
        TaskRegistry suite = CanvasConformanceTest.tasks(counter(redis()));
        suite.names().forEach(n -> tasks.register(suite.find(n).orElseThrow()));
        tasks.register(Tasks.task("slow_add", long.class, long.class, (x, y) -> {
            Thread.sleep(50);
            return x + y;
        }).params("x", "y"));
        tasks.register(Tasks.task("step", long.class, long.class, (x, y) -> { // a chain step that counts its runs
            TaskContext ctx = TaskContext.current();
            redis().hincrBy("test.step_runs", ctx.id(), 1);
            if (!ctx.redelivered()) {
                redis().hincrBy("test.first_runs", ctx.id(), 1);
            }
            Thread.sleep(40);
            return x + y;
        }).params("x", "y"));
        tasks.register(Tasks.raw("retry_once", ctx -> { // retried once, 5 s later: a retry parked in the broker
            if (ctx.retries() == 0) {
                throw ctx.retry(null, java.time.Duration.ofSeconds(5));
            }
            return ctx.args().get(0).asLong() * 2;
        }).maxRetries(3));
        tasks.register(Tasks.task("slow", double.class, secs -> {
            TaskContext.current().sleep(java.time.Duration.ofMillis((long) (secs * 1000)));
            return secs;
        }).params("seconds"));
        tasks.register(Tasks.raw("progress", ctx -> { // reports PROGRESS i of n, each time waiting for test.go.<id>.<i>
            int steps = ctx.args().get(0).asInt();
            awaitKey("test.go." + ctx.id() + ".0");
            for (int i = 1; i <= steps; i++) {
                ctx.updateState("PROGRESS", java.util.Map.of("current", i, "total", steps));
                awaitKey("test.go." + ctx.id() + "." + i);
            }
            return "done " + steps;
        }));
        tasks.register(Tasks.raw("echo", ctx -> {
            TaskContext c = TaskContext.current();
            var o = Json.NODES.objectNode();
            o.set("args", c.args());
            o.set("kwargs", c.kwargs());
            return o;
        }));
    }

    /** Waits (up to a minute) until the test sets {@code key} in the Redis at {@code RUNS_REDIS_URL}. */
    private static void awaitKey(String key) throws InterruptedException {
        long deadline = System.nanoTime() + java.time.Duration.ofMinutes(1).toNanos();
        while (!redis().exists(key) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    private static JedisPooled redis() {
        if (redis == null) {
            synchronized (CanvasInteropApp.class) {
                if (redis == null) {
                    redis = new JedisPooled(java.net.URI.create(System.getenv("RUNS_REDIS_URL")));
                }
            }
        }
        return redis;
    }
}
