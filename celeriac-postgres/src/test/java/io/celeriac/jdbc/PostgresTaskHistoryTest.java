package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import io.celeriac.testkit.LocalPostgres;
import io.celeriac.testkit.TaskHistoryConformanceTest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The task history kit against PostgreSQL: a database of its own on the local server, its table dropped before each test. */
class PostgresTaskHistoryTest extends TaskHistoryConformanceTest {
    static final LocalPostgres pg = new LocalPostgres();

    @AfterAll
    static void dropDatabases() throws Exception {
        pg.close();
    }

    private final PostgresBackend provider = new PostgresBackend();

    private static String url;

    @Override
    protected String newStore() throws Exception {
        if (url == null) {
            url = pg.createDatabase();
        } else {
            pg.psql(url.substring(url.lastIndexOf('/') + 1), "DROP TABLE IF EXISTS " + SqlTaskHistory.TABLE
                    + "; DELETE FROM celeriac_meta WHERE key = 'task_history_schema'");
        }
        return url;
    }

    @Override
    protected TaskHistory open(String url) {
        return provider.openTaskHistory(url, Config.defaults());
    }

    /** Beyond the kit: a NUL in a text (an exception message), which PostgreSQL's text cannot hold, costs that character, not the batch. */
    @Test
    void aNulCharacterBecomesAReplacementCharacterNotAFailedBatch() throws Exception {
        try (TaskHistory h = open(newStore())) {
            Instant at = Instant.parse("2026-12-01T00:00:00Z");
            h.record(List.of(new TaskRecord("nul", "n", TaskState.FAILURE, "w", null, "[\"\\u0000\"]", null, null, "E: a\u0000b",
                    "tb\u0000", 0, null, null, at, null, null, null, null, null,
                    List.of(new TaskRecord.Step(TaskState.FAILURE, at, "w", 0, "E: a\u0000b"))),
                    new TaskRecord("other", "n", TaskState.SUCCESS, "w", null, null, null, null, null, null, 0, null, null, at,
                            null, null, null, null, null, null)));
            TaskRecord got = h.get("nul").orElseThrow();
            assertThat(got.exception()).isEqualTo("E: a\uFFFDb");
            assertThat(got.traceback()).isEqualTo("tb\uFFFD");
            assertThat(got.args()).isEqualTo("[\"\\u0000\"]");
            assertThat(got.timeline().get(0).detail()).isEqualTo("E: a\u0000b"); // escaped in the timeline's JSON: kept
            assertThat(h.get("other")).isPresent();
        }
    }

    /** Beyond the kit: processes opening one new database at once make the table once, and concurrent writers of one task keep every step. */
    @Test
    void tenOpenersAtOnceAndWritersOfOneTaskLoseNothing() throws Exception {
        String fresh = pg.createDatabase();
        ExecutorService pool = Executors.newFixedThreadPool(10);
        try {
            List<Future<?>> opens = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                // each opener makes the table if it finds none, in its own transaction: the advisory lock lets one do it
                opens.add(pool.submit(() -> {
                    try (TaskHistory h = open(fresh)) {
                        return h.count();
                    }
                }));
            }
            for (Future<?> f : opens) {
                assertThat(f.get()).isEqualTo(0L);
            }
            assertThat(pg.psql(fresh.substring(fresh.lastIndexOf('/') + 1),
                    "SELECT count(*) FROM pg_indexes WHERE tablename = 'celeriac_task_history'")).isEqualTo("6");
            try (TaskHistory h = open(fresh)) {
                Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
                List<Callable<Object>> writers = new ArrayList<>();
                for (int w = 0; w < 8; w++) {
                    int n = w;
                    writers.add(() -> {
                        for (int k = 0; k < 20; k++) {
                            Instant at = t0.plusMillis(n * 100L + k);
                            h.record(List.of(new TaskRecord("shared", "n", TaskState.STARTED, "w" + n, null, null, null, null, null,
                                    null, 0, null, null, at, null, null, null, null, List.of("c" + n),
                                    List.of(new TaskRecord.Step(TaskState.STARTED, at, "w" + n, 0, null)))));
                        }
                        return null;
                    });
                }
                for (Future<Object> f : pool.invokeAll(writers)) {
                    f.get();
                }
                TaskRecord got = h.get("shared").orElseThrow();
                assertThat(got.timeline()).hasSize(160);
                assertThat(got.children()).hasSize(8);
            }
        } finally {
            pool.shutdownNow();
        }
    }
}
