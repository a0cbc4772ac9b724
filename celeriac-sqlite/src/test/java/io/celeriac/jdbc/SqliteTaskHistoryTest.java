package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.spi.TaskRecord;
import io.celeriac.spi.TaskHistory;
import io.celeriac.testkit.TaskHistoryConformanceTest;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The task history kit against real SQLite files, a new one per test. */
class SqliteTaskHistoryTest extends TaskHistoryConformanceTest {
    @TempDir
    static Path dir;
    private static final AtomicInteger FILES = new AtomicInteger();

    private final SqliteBackend provider = new SqliteBackend();

    @Override
    protected String newStore() {
        return "sqlite:" + dir.resolve("history-" + FILES.incrementAndGet() + ".db");
    }

    @Override
    protected TaskHistory open(String url) {
        return provider.openTaskHistory(url, Config.defaults());
    }

    private static long rows(String url, String table) throws Exception {
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:" + url);
             java.sql.ResultSet rs = c.createStatement().executeQuery("SELECT COUNT(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static final java.time.Instant T = java.time.Instant.parse("2026-12-03T10:00:00Z");

    private static TaskRecord done(String id, TaskState state) {
        return new TaskRecord(id, "n", state, "w", null, null, null, null, null, null, 0, null, null, T, null, null, null, null, null, null);
    }

    /** Recording inserts one log row and no indexed row; the next read folds it in and empties the log. */
    @Test
    void aBatchIsOneLogRowUntilTheNextRead() throws Exception {
        String url = newStore();
        try (TaskHistory h = open(url)) {
            h.record(java.util.List.of(done("a", TaskState.SUCCESS), done("b", TaskState.FAILURE)));
            assertThat(rows(url, SqlTaskHistory.LOG)).isEqualTo(1);
            assertThat(rows(url, SqlTaskHistory.TABLE)).isZero();
            assertThat(h.get("b")).get().extracting(TaskRecord::state).isEqualTo(TaskState.FAILURE);
            assertThat(rows(url, SqlTaskHistory.LOG)).isZero();
            assertThat(rows(url, SqlTaskHistory.TABLE)).isEqualTo(2);
        }
    }

    /** A store made by the schema before the log (1) gets its log table when opened, and keeps what it held. */
    @Test
    void aStoreOfTheSchemaBeforeTheLogIsBroughtUpToDate() throws Exception {
        String url = newStore();
        try (TaskHistory h = open(url)) {
            h.record(java.util.List.of(done("kept", TaskState.SUCCESS)));
            assertThat(h.count()).isEqualTo(1);
        }
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:" + url)) {
            c.createStatement().execute("DROP TABLE " + SqlTaskHistory.LOG);
            c.createStatement().execute("UPDATE celeriac_meta SET value = '1' WHERE key = 'task_history_schema'");
        }
        try (TaskHistory h = open(url)) {
            assertThat(h.get("kept")).isPresent();
            h.record(java.util.List.of(done("new", TaskState.SUCCESS)));
            assertThat(h.count()).isEqualTo(2);
        }
    }
}
