package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.ResultStore;
import io.celeriac.spi.Settlement;
import io.celeriac.testkit.PostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Leases in {@code leased_until}: a claim is a HOT update (no index entry written), and a database
 * of schema 2 (leases in {@code available_at}) is taken over with its messages in flight kept.
 */
class PostgresLeaseTest {
    static PostgresServer pg;

    @BeforeAll
    static void startPostgres() throws Exception {
        pg = PostgresServer.launch();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        pg.close();
    }

    private static Connection jdbc(String db) throws Exception {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + pg.port() + "/" + db + "?user=postgres");
    }

    private static String newDatabase(String name) throws Exception {
        try (Connection c = jdbc("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        return "postgresql://postgres@127.0.0.1:" + pg.port() + "/" + name;
    }

    private static long one(String db, String sql) throws Exception {
        try (Connection c = jdbc(db); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    @Test
    void claimsAreHotUpdates() throws Exception {
        String url = newDatabase("hot");
        try (Broker b = new PostgresBackend().openBroker(url, Config.defaults())) {
            for (int i = 0; i < 300; i++) {
                b.publish("celery", new BrokerMessage("t" + i, "{\"n\": " + i + ", \"pad\": \"" + "x".repeat(900) + "\"}", 0, null));
            }
            List<Delivery> got = new ArrayList<>();
            while (got.size() < 300) {
                got.addAll(b.reserve(List.of("celery"), 16, Duration.ofSeconds(1)));
            }
            // the statistics reach pg_stat_user_tables once the backends report them (within a second or so)
            await().atMost(Duration.ofSeconds(20)).until(() -> one("hot",
                    "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'celeriac_messages'") >= 300);
            long updates = one("hot", "SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'celeriac_messages'");
            long hot = one("hot", "SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relname = 'celeriac_messages'");
            assertThat(updates).isEqualTo(300);
            assertThat(hot).as("HOT updates of the %s claims", updates).isEqualTo(updates);
            b.ack(got);
            assertThat(b.size("celery")).isZero();
        }
        assertThat(one("hot", "SELECT count(*) FROM pg_indexes WHERE tablename = 'celeriac_messages'"))
                .as("the primary key, the queue order and the due time").isEqualTo(3);
    }

    @Test
    void renewalsByTheIdsHeldKeepLeasesPastTheirTimeoutAndForgetWhatWasSettledElsewhere() throws Exception {
        String url = newDatabase("renew");
        Config config = Config.builder().set(Settings.BROKER_RECOVERY_TIMEOUT, Duration.ofSeconds(2)).build();
        try (Broker b = new PostgresBackend().openBroker(url, config);
             Broker other = new PostgresBackend().openBroker(url, config)) {
            for (int i = 0; i < 40; i++) {
                b.publish("celery", new BrokerMessage("t" + i, "m" + i, 0, null));
            }
            List<Delivery> got = new ArrayList<>();
            while (got.size() < 40) {
                got.addAll(b.reserve(List.of("celery"), 16, Duration.ofSeconds(1)));
            }
            try (Connection c = jdbc("renew"); Statement s = c.createStatement()) { // settled by another path (a result store's commit)
                s.execute("DELETE FROM celeriac_messages WHERE payload = 'm0'");
            }
            for (int i = 0; i < 4; i++) { // 3.2 s, past the 2 s lease
                Thread.sleep(800);
                b.renew();
            }
            assertThat(other.reserve(List.of("celery"), 16, Duration.ofMillis(300))).isEmpty();
            b.ack(got);
            assertThat(b.size("celery")).isZero();
            assertThat(one("renew", "SELECT count(*) FROM celeriac_messages")).isZero();
        }
    }

    @Test
    void deliveriesSettledThroughTheResultStoreAreNoLongerRenewed() throws Exception {
        String url = newDatabase("settled");
        try (Broker b = new PostgresBackend().openBroker(url, Config.defaults());
             ResultStore r = new PostgresBackend().openResultStore(url, Config.defaults())) {
            for (int i = 0; i < 30; i++) {
                b.publish("celery", new BrokerMessage("t" + i, "m" + i, 0, null));
            }
            List<Delivery> got = new ArrayList<>();
            while (got.size() < 30) {
                got.addAll(b.reserve(List.of("celery"), 16, Duration.ofSeconds(1)));
            }
            assertThat(((SqlBroker) b).heldCount()).isEqualTo(30);
            List<Settlement> plain = new ArrayList<>(); // one result each: the one-statement path
            for (int i = 0; i < 20; i++) {
                plain.add(Settlement.ack(got.get(i), TaskResult.success("plain-" + i, Json.toTree(i), Instant.now())));
            }
            r.settle(plain, b);
            assertThat(((SqlBroker) b).heldCount()).isEqualTo(10);
            List<Settlement> general = new ArrayList<>(); // two settlements of one task: the general path
            for (int i = 20; i < 30; i++) {
                general.add(Settlement.ack(got.get(i), TaskResult.success("same", Json.toTree(i), Instant.now())));
            }
            r.settle(general, b);
            assertThat(((SqlBroker) b).heldCount()).as("nothing left to renew").isZero();
            assertThat(b.size("celery")).isZero();
        }
    }

    @Test
    void aSchemaTwoDatabaseIsTakenOverWithItsLeasesKept() throws Exception {
        String url = newDatabase("schema2");
        long now = System.currentTimeMillis();
        try (Connection c = jdbc("schema2"); Statement s = c.createStatement()) {
            // the tables as schema 2 made them (only those this test reads), one message leased for a minute, one waiting
            s.execute("CREATE TABLE celeriac_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
            s.execute("INSERT INTO celeriac_meta VALUES ('schema_version', '2')");
            s.execute("CREATE TABLE celeriac_messages (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, queue TEXT NOT NULL,"
                    + " priority INTEGER NOT NULL, available_at BIGINT NOT NULL, owner TEXT, deliveries INTEGER NOT NULL DEFAULT 0,"
                    + " task_id TEXT, payload TEXT NOT NULL)");
            s.execute("CREATE INDEX celeriac_messages_queue ON celeriac_messages (queue, priority, id)");
            s.execute("CREATE INDEX celeriac_messages_due ON celeriac_messages (queue, available_at)");
            s.execute("CREATE INDEX celeriac_messages_owner ON celeriac_messages (owner) WHERE owner IS NOT NULL");
            s.execute("INSERT INTO celeriac_messages (queue, priority, available_at, owner, deliveries, task_id, payload)"
                    + " VALUES ('celery', 0, " + (now + 60_000) + ", 'an-old-worker', 1, 'leased', 'in flight')");
            s.execute("INSERT INTO celeriac_messages (queue, priority, available_at, task_id, payload)"
                    + " VALUES ('celery', 0, " + now + ", 'waiting', 'waiting')");
        }
        try (Broker b = new PostgresBackend().openBroker(url, Config.defaults())) {
            List<Delivery> got = b.reserve(List.of("celery"), 10, Duration.ofSeconds(1));
            assertThat(got).extracting(Delivery::payload).containsExactly("waiting");
            assertThat(b.size("celery")).as("the one in flight is not waiting").isZero();
            assertThat(b.reserve(List.of("celery"), 10, Duration.ofMillis(300))).isEmpty();
            b.ack(got);
        }
        assertThat(one("schema2", "SELECT value::int FROM celeriac_meta WHERE key = 'schema_version'")).isEqualTo(3);
        assertThat(one("schema2", "SELECT count(*) FROM pg_indexes WHERE indexname = 'celeriac_messages_owner'")).isZero();
        assertThat(one("schema2", "SELECT count(*) FROM information_schema.columns WHERE table_name = 'celeriac_messages'"
                + " AND column_name = 'leased_until'")).isEqualTo(1);
    }
}
