package io.celeriac.jdbc;

import io.celeriac.config.Config;
import io.celeriac.spi.TaskHistory;
import io.celeriac.testkit.TaskHistoryConformanceTest;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
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
}
