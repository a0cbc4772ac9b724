package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.config.Config;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A file of schema 2 (leases in {@code available_at}) is taken over with its messages in flight kept. */
class SqliteLeaseTest {
    @TempDir
    Path dir;

    private static long one(Path file, String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void aSchemaTwoFileIsTakenOverWithItsLeasesKept() throws Exception {
        Path file = dir.resolve("old.db");
        long now = System.currentTimeMillis();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE celeriac_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
            s.execute("INSERT INTO celeriac_meta VALUES ('schema_version', '2')");
            s.execute("CREATE TABLE celeriac_messages (id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL,"
                    + " priority INTEGER NOT NULL, available_at INTEGER NOT NULL, owner TEXT, deliveries INTEGER NOT NULL DEFAULT 0,"
                    + " task_id TEXT, payload TEXT NOT NULL)");
            s.execute("CREATE INDEX celeriac_messages_queue ON celeriac_messages (queue, priority, id, available_at)");
            s.execute("CREATE INDEX celeriac_messages_due ON celeriac_messages (queue, available_at)");
            s.execute("CREATE INDEX celeriac_messages_owner ON celeriac_messages (owner) WHERE owner IS NOT NULL");
            s.execute("INSERT INTO celeriac_messages (queue, priority, available_at, owner, deliveries, task_id, payload)"
                    + " VALUES ('celery', 0, " + (now + 60_000) + ", 'an-old-worker', 1, 'leased', 'in flight')");
            s.execute("INSERT INTO celeriac_messages (queue, priority, available_at, task_id, payload)"
                    + " VALUES ('celery', 0, " + now + ", 'waiting', 'waiting')");
        }
        try (Broker b = new SqliteBackend().openBroker("sqlite:" + file, Config.defaults())) {
            List<Delivery> got = b.reserve(List.of("celery"), 10, Duration.ofSeconds(1));
            assertThat(got).extracting(Delivery::payload).containsExactly("waiting");
            assertThat(b.size("celery")).as("the one in flight is not waiting").isZero();
            assertThat(b.reserve(List.of("celery"), 10, Duration.ofMillis(300))).isEmpty();
            b.requeue(got.get(0)); // given back: waiting again, delivered again
            assertThat(b.reserve(List.of("celery"), 10, Duration.ofSeconds(1))).extracting(Delivery::payload).containsExactly("waiting");
        }
        assertThat(one(file, "SELECT value FROM celeriac_meta WHERE key = 'schema_version'")).isEqualTo(3);
        assertThat(one(file, "SELECT count(*) FROM pragma_table_info('celeriac_messages') WHERE name = 'leased_until'")).isEqualTo(1);
        assertThat(one(file, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name IN"
                + " ('celeriac_messages_owner', 'celeriac_messages_queue')")).isZero();
    }
}
