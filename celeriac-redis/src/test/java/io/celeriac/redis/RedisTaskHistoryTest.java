package io.celeriac.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.config.Config;
import io.celeriac.spi.TaskHistory;
import io.celeriac.testkit.RedisServerExtension;
import io.celeriac.testkit.TaskHistoryConformanceTest;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import redis.clients.jedis.JedisPooled;

/** The task history kit against a real redis-server, emptied before each test; and what only Redis's layout has. */
class RedisTaskHistoryTest extends TaskHistoryConformanceTest {
    @RegisterExtension
    static final RedisServerExtension redis = new RedisServerExtension();

    private final RedisBackend provider = new RedisBackend();

    @Override
    protected String newStore() throws Exception {
        redis.server().flushAll();
        return redis.url();
    }

    @Override
    protected TaskHistory open(String url) {
        return provider.openTaskHistory(url, Config.defaults());
    }

    private final Instant t = Instant.parse("2026-12-03T10:00:00Z");

    /** A client of the test's Redis, emptied first. */
    private static JedisPooled emptied() throws Exception {
        redis.server().flushAll();
        return new JedisPooled("127.0.0.1", redis.server().port());
    }

    private static io.celeriac.spi.TaskRecord rec(String id, io.celeriac.TaskState state, Instant at) {
        return new io.celeriac.spi.TaskRecord(id, "tasks.add", state, "celery@a", "celery", "[1]", "{}", null, null, null, 0,
                at, null, at, null, null, null, null, java.util.List.of(),
                java.util.List.of(new io.celeriac.spi.TaskRecord.Step(state, at, "celery@a", 0, null)));
    }

    /** Recording appends one element to the log and touches no index; the next read indexes it and empties the log. */
    @Test
    void aBatchGoesToTheLogAndTheNextReaderIndexesIt() throws Exception {
        String p = RedisTaskHistory.PREFIX;
        try (JedisPooled j = emptied(); TaskHistory h = open(redis.url())) {
            h.record(java.util.List.of(rec("x", io.celeriac.TaskState.STARTED, t), rec("y", io.celeriac.TaskState.SUCCESS, t)));
            assertThat(j.llen(RedisTaskHistory.LOG)).isEqualTo(1);
            assertThat(j.exists(p + "rec:x")).isFalse();
            assertThat(j.exists(p + "all")).isFalse();
            assertThat(h.get("x")).get().extracting(io.celeriac.spi.TaskRecord::state).isEqualTo(io.celeriac.TaskState.STARTED);
            assertThat(j.llen(RedisTaskHistory.LOG)).isZero();
            assertThat(j.zcard(p + "all")).isEqualTo(2);
            assertThat(j.exists(p + "folding")).isFalse(); // the lease is let go with the log empty
        }
    }

    /** A log that grows to FOLD_AT batches is indexed by the writer's own background thread, with no reader. */
    @Test
    void aLongLogIsIndexedWithoutAReader() throws Exception {
        try (JedisPooled j = emptied(); TaskHistory h = open(redis.url())) {
            for (int i = 0; i < io.celeriac.spi.LogFolder.FOLD_AT; i++) {
                h.record(java.util.List.of(rec("a" + i, io.celeriac.TaskState.SUCCESS, t.plusMillis(i)),
                        rec("b" + i, io.celeriac.TaskState.FAILURE, t.plusMillis(i))));
            }
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                    .until(() -> j.llen(RedisTaskHistory.LOG) == 0 && j.zcard(RedisTaskHistory.PREFIX + "all") == 2L * io.celeriac.spi.LogFolder.FOLD_AT);
        }
    }

    /** settle() indexes what was recorded, in the background, when the writer says it is idle. */
    @Test
    void settleIndexesTheLogInTheBackground() throws Exception {
        try (JedisPooled j = emptied(); TaskHistory h = open(redis.url())) {
            h.record(java.util.List.of(rec("s", io.celeriac.TaskState.SUCCESS, t)));
            h.settle();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10))
                    .until(() -> j.llen(RedisTaskHistory.LOG) == 0 && j.exists(RedisTaskHistory.PREFIX + "rec:s"));
        }
    }

    /**
     * A folder that died mid-step (its batch indexed, not trimmed, its lease still held): a reader waits for the
     * lease, then takes it over and indexes the batch again; the merge makes that harmless (no step twice).
     */
    @Test
    void aReaderTakesOverFromAFolderThatDiedAndIndexingTwiceIsHarmless() throws Exception {
        String p = RedisTaskHistory.PREFIX;
        try (JedisPooled j = emptied(); RedisTaskHistory h = (RedisTaskHistory) open(redis.url())) {
            java.util.List<io.celeriac.spi.TaskRecord> batch = java.util.List.of(rec("d", io.celeriac.TaskState.STARTED, t),
                    rec("d", io.celeriac.TaskState.SUCCESS, t.plusSeconds(1)));
            h.record(batch);
            h.index(batch); // what the dead folder did before it died
            j.psetex(p + "folding", 60_000, "a-folder-that-died");
            io.celeriac.spi.TaskRecord got = h.get("d").orElseThrow();
            assertThat(got.state()).isEqualTo(io.celeriac.TaskState.SUCCESS);
            assertThat(got.timeline()).extracting(io.celeriac.spi.TaskRecord.Step::state)
                    .containsExactly(io.celeriac.TaskState.STARTED, io.celeriac.TaskState.SUCCESS);
            assertThat(j.llen(RedisTaskHistory.LOG)).isZero();
            assertThat(j.exists(p + "folding")).isFalse();
            assertThat(h.count()).isEqualTo(1);
        }
    }

    /** A record of the earlier layout (a hash, task:ID) is pruned with its entries in every set, not left behind. */
    @Test
    void aRecordOfTheEarlierLayoutIsPrunedWithItsSetEntries() throws Exception {
        redis.server().flushAll();
        String p = RedisTaskHistory.PREFIX;
        try (JedisPooled j = new JedisPooled("127.0.0.1", redis.server().port());
             TaskHistory h = open(redis.url())) {
            j.hset(p + "task:old", Map.of("name", "tasks.add", "state", "SUCCESS", "worker", "celery@a", "updated", "5"));
            for (String set : new String[] {"all", "name:tasks.add", "state:SUCCESS", "worker:celery@a"}) {
                j.zadd(p + set, 5, "old");
            }
            j.zadd(p + "ids", 0, "old");
            assertThat(h.count()).isEqualTo(1);
            assertThat(h.prune(Instant.now(), 1000)).isEqualTo(1);
            assertThat(j.keys(p + "*")).isEmpty();
        }
    }
}
