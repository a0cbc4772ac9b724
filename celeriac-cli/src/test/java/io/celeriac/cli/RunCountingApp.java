package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import redis.clients.jedis.JedisPooled;

/**
 * A test app whose task {@code counted(i, sleep_ms)} returns {@code 2 * i} (after sleeping) and counts each time it runs, in
 * the Redis hash {@code test.runs} (task id → runs) of the server named by the environment
 * variable {@code RUNS_REDIS_PORT}: how the chaos tests count duplicate executions.
 */
public final class RunCountingApp implements CeleriacApp {
    private static volatile JedisPooled runs;

    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(Tasks.raw("counted", ctx -> {
            long i = ctx.args().get(0).asLong();
            long sleepMs = ctx.args().path(1).asLong(0);
            runs().hincrBy("test.runs", ctx.id(), 1); // counted when it starts: a run cut off by a kill counts
            if (sleepMs > 0) {
                Thread.sleep(sleepMs);
            }
            return 2 * i;
        }));
    }

    private static JedisPooled runs() {
        JedisPooled r = runs;
        if (r == null) {
            synchronized (RunCountingApp.class) {
                if (runs == null) {
                    runs = new JedisPooled("127.0.0.1", Integer.parseInt(System.getenv("RUNS_REDIS_PORT")));
                }
                r = runs;
            }
        }
        return r;
    }
}
