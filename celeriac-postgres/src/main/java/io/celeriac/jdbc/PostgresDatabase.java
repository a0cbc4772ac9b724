package io.celeriac.jdbc;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.celeriac.BrokerException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One PostgreSQL database, shared by every broker, result store and coordination this JVM opens
 * on it: a small HikariCP pool, and one connection that LISTENs on {@code celeriac} so that waiting
 * consumers wake the moment any process publishes a message or stores a result (the NOTIFY is sent
 * after the commit, coalesced, by {@link PostgresNotifier}, so it arrives only once the change is
 * visible). A lost listener connection is reopened, and waiters look again, since a notification
 * may have been missed meanwhile.
 */
final class PostgresDatabase extends SqlDatabase {
    private static final Logger log = LoggerFactory.getLogger("celeriac.broker");
    /** Percent of each page of celeriac_messages that inserts fill: the rest is room for the new versions a claim writes (HOT updates), for every row of a page at once, as a batch claim can update them in one statement */
    static final int MESSAGES_FILLFACTOR = 40;
    private static final int SCHEMA_VERSION = 3; // 2: chords and saved groups; 3: leases in leased_until (claims are HOT updates)
    static final String CHANNEL = "celeriac";

    private final String jdbcUrl;
    private final Properties props;
    private final HikariDataSource pool;
    private final AtomicLong version = new AtomicLong();
    private final Thread listener;
    private final PostgresNotifier notifier;
    private volatile boolean closed;

    private PostgresDatabase(String jdbcUrl, Properties props) throws SQLException {
        this.jdbcUrl = jdbcUrl;
        this.props = props;
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        hc.setDataSourceProperties(props);
        hc.setPoolName("celeriac-postgres");
        hc.setMaximumPoolSize(16);
        hc.setMinimumIdle(1);
        hc.setConnectionTimeout(5_000);
        hc.setValidationTimeout(3_000); // a pooled connection to a server that stopped answering is found out quickly
        hc.setInitializationFailTimeout(-1); // an unreachable server is reported by the first use, below
        this.pool = new HikariDataSource(hc);
        try {
            ensureSchema();
        } catch (SQLException e) {
            // A server that is down (or restarting) is waited for like any outage: the schema is
            // made on first use. A wrong password, database or option is an error now.
            if (!unreachable(e)) {
                pool.close();
                throw e;
            }
        } catch (RuntimeException e) {
            pool.close();
            throw e;
        }
        this.notifier = new PostgresNotifier(jdbcUrl, props, CHANNEL);
        this.listener = new Thread(this::listen, "celeriac-postgres-listen");
        listener.setDaemon(true);
        listener.start();
    }

    /** Opens (or joins) the database; every open needs a {@link #release()}. */
    static PostgresDatabase acquire(String jdbcUrl, Properties props, String url) {
        String key = jdbcUrl + "|" + props.getProperty("user");
        return acquire(key, () -> new PostgresDatabase(jdbcUrl, props),
                e -> new BrokerException("'" + io.celeriac.config.Secrets.redact(url) + "': cannot use the PostgreSQL database: "
                        + explain(e), false, e));
    }

    @Override
    void close() {
        closed = true;
        listener.interrupt();
        notifier.close();
        pool.close();
    }

    private volatile boolean schemaReady;

    /** Creates the tables once, before the first use that finds the server up. */
    private void ensureSchema() throws SQLException {
        if (schemaReady) {
            return;
        }
        synchronized (this) {
            if (!schemaReady) {
                migrate();
                schemaReady = true;
            }
        }
    }

    /** The schema version the database has, 0 when it has no Celeriac tables yet. */
    private static int schemaVersion(Statement s) throws SQLException {
        try (var rs = s.executeQuery("SELECT to_regclass('celeriac_meta') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                return 0;
            }
        }
        try (var rs = s.executeQuery("SELECT value FROM celeriac_meta WHERE key = 'schema_version'")) {
            return rs.next() ? Integer.parseInt(rs.getString(1)) : 0;
        }
    }

    private void migrate() throws SQLException {
        // Tables already there: nothing to lock. (DDL on tables in use would take locks that
        // running workers' transactions wait on, and could deadlock with them.)
        int found = transaction(c -> {
            try (Statement s = c.createStatement()) {
                return schemaVersion(s);
            }
        });
        if (found == SCHEMA_VERSION) {
            return;
        }
        transaction(c -> {
            try (Statement s = c.createStatement()) {
                // Processes starting together must not race to create the same tables: the first
                // creates them, the others find them made.
                s.execute("SELECT pg_advisory_xact_lock(hashtext('celeriac schema'))");
                int v = schemaVersion(s);
                if (v > SCHEMA_VERSION) {
                    throw new SQLException("the database was written by a newer Celeriac (schema " + v
                            + ", this one knows " + SCHEMA_VERSION + ")");
                }
                if (v == SCHEMA_VERSION) {
                    return null;
                }
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                // available_at: epoch ms from when the message may be delivered (its ETA); leased_until: the
                // end of its lease while reserved. Identity ids are never reused, so ack tags stay unique.
                // A claim writes owner, leased_until and deliveries only, which no index holds, into room
                // the fill factor leaves in each page: a HOT update, with no index entry written.
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_messages ("
                        + " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                        + " queue TEXT NOT NULL,"
                        + " priority INTEGER NOT NULL,"
                        + " available_at BIGINT NOT NULL,"
                        + " owner TEXT,"
                        + " deliveries INTEGER NOT NULL DEFAULT 0,"
                        + " task_id TEXT,"
                        + " payload TEXT NOT NULL,"
                        + " leased_until BIGINT) WITH (fillfactor = " + MESSAGES_FILLFACTOR + ")");
                // schema 2's table: the lease column, the room for HOT updates, and no index on the owner
                s.execute("ALTER TABLE celeriac_messages ADD COLUMN IF NOT EXISTS leased_until BIGINT");
                s.execute("ALTER TABLE celeriac_messages SET (fillfactor = " + MESSAGES_FILLFACTOR + ")");
                s.execute("DROP INDEX IF EXISTS celeriac_messages_owner");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_messages_queue ON celeriac_messages (queue, priority, id)");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_messages_due ON celeriac_messages (queue, available_at)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_results ("
                        + " task_id TEXT PRIMARY KEY, status TEXT NOT NULL, meta TEXT NOT NULL, expires_at BIGINT NOT NULL)");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_results_expiry ON celeriac_results (expires_at)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_revoked ("
                        + " task_id TEXT PRIMARY KEY, terminate INTEGER NOT NULL, at BIGINT NOT NULL, expires_at BIGINT NOT NULL)");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_revoked_at ON celeriac_revoked (at)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_locks (name TEXT PRIMARY KEY, owner TEXT NOT NULL, until BIGINT NOT NULL)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_records (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_nodes (node TEXT PRIMARY KEY, beat TEXT NOT NULL, at BIGINT NOT NULL)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_counters (key TEXT PRIMARY KEY, value BIGINT NOT NULL, expires_at BIGINT NOT NULL)");
                // chords: a header's size (set when the chord is sent) and its finished parts, counted
                // and read in the transaction that records the last one; saved groups (GroupResult.save)
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_chords (group_id TEXT PRIMARY KEY, size INTEGER NOT NULL, expires_at BIGINT NOT NULL)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_chord_parts (group_id TEXT NOT NULL, task_id TEXT NOT NULL,"
                        + " group_index INTEGER, state TEXT NOT NULL, result TEXT NOT NULL, expires_at BIGINT NOT NULL,"
                        + " PRIMARY KEY (group_id, task_id))");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_groups (group_id TEXT PRIMARY KEY, meta TEXT NOT NULL, expires_at BIGINT NOT NULL)");
                s.execute("INSERT INTO celeriac_meta (key, value) VALUES ('schema_version', '" + SCHEMA_VERSION + "')"
                        + " ON CONFLICT (key) DO UPDATE SET value = excluded.value");
            }
            return null;
        });
    }

    @Override
    <T> T write(Work<T> work, boolean wake) throws SQLException {
        return retried(() -> transaction(work), wake);
    }

    /** One statement in its own implicit transaction: one round trip, no BEGIN and COMMIT of its own. */
    @Override
    <T> T writeOne(Work<T> work, boolean wake) throws SQLException {
        return retried(() -> {
            try (Connection c = pool.getConnection()) {
                return work.run(c);
            }
        }, wake);
    }

    private interface Attempt<T> {
        T run() throws SQLException;
    }

    /** Runs a write again after a deadlock or serialization failure (it was rolled back whole); then wakes waiters. */
    private <T> T retried(Attempt<T> attempt, boolean wake) throws SQLException {
        ensureSchema();
        T out;
        for (int n = 1; ; n++) {
            try {
                out = attempt.run();
                break;
            } catch (SQLException e) {
                boolean retry = "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
                if (!retry || n == 3) {
                    throw e;
                }
            }
        }
        if (wake) {
            notifier.request();
            signal();
        }
        return out;
    }

    private <T> T transaction(Work<T> work) throws SQLException {
        T out;
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                out = work.run(c);
                c.commit();
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            } finally {
                try {
                    c.setAutoCommit(true);
                } catch (SQLException ignored) {
                    // a broken connection: the pool drops it; the failure above is the one to report
                }
            }
        }
        return out;
    }

    @Override
    Connection borrow() throws SQLException {
        ensureSchema();
        return pool.getConnection();
    }

    @Override
    void giveBack(Connection c) {
        try {
            c.close(); // back to the pool
        } catch (SQLException ignored) {
            // a broken connection: the pool replaces it
        }
    }

    @Override
    long dataVersion(Connection watch) {
        return version.get();
    }

    /** Notifications wake waiters; the poll is only a safety net. */
    @Override
    long pollNanos() {
        return millisToNanos(1000);
    }

    /** {@code synchronous_commit} off for this transaction only: evaluated for each claimed row, before the commit. */
    @Override
    String leaseCommit() {
        return ", set_config('synchronous_commit', 'off', true)";
    }

    @Override
    boolean arrays() {
        return true;
    }

    @Override
    String lockSkipLocked() {
        return " FOR UPDATE SKIP LOCKED";
    }

    @Override
    String lockRows() {
        return " FOR UPDATE";
    }

    @Override
    String serialKey() {
        return "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY";
    }

    /** Ids compare byte by byte whatever the database's collation, so keyset cursors agree with Java and Redis. */
    @Override
    String bytewiseText() {
        return "TEXT COLLATE \"C\"";
    }

    /** NUL, which PostgreSQL's text cannot hold (a whole batch would fail on it), becomes U+FFFD. */
    @Override
    String storable(String s) {
        return s == null || s.indexOf('\u0000') < 0 ? s : s.replace('\u0000', '\uFFFD');
    }

    @Override
    void lockSchema(Statement s, String name) throws SQLException {
        try (var rs = s.executeQuery("SELECT pg_advisory_xact_lock(hashtext('" + name.replace("'", "''") + "'))")) {
            rs.next();
        }
    }

    /** Advisory transaction locks on the keys' hashes, taken in hash order (two writers never wait on each other in a ring). */
    @Override
    void lockKeys(Connection c, String space, java.util.List<String> keys) throws SQLException {
        try (var p = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtext(?), h) FROM"
                + " (SELECT DISTINCT hashtext(k) AS h FROM unnest(?::text[]) AS k ORDER BY h) AS l")) {
            p.setString(1, space);
            p.setArray(2, c.createArrayOf("text", keys.toArray()));
            try (var rs = p.executeQuery()) {
                while (rs.next()) {
                    // each row is one lock taken
                }
            }
        }
    }

    private void listen() {
        long backoffMs = 100;
        while (!closed) {
            try (Connection c = DriverManager.getConnection(jdbcUrl, props)) {
                try (Statement s = c.createStatement()) {
                    s.execute("LISTEN " + CHANNEL);
                }
                changed(); // anything may have happened while not listening
                backoffMs = 100;
                PGConnection pg = c.unwrap(PGConnection.class);
                while (!closed) {
                    PGNotification[] got = pg.getNotifications(1000);
                    if (got != null && got.length > 0) {
                        changed();
                    }
                }
            } catch (SQLException e) {
                if (closed) {
                    return;
                }
                changed();
                backoffMs = reconnectPause("listener", e, backoffMs);
                if (backoffMs < 0) {
                    return;
                }
            }
        }
    }

    /**
     * After a lost connection of the {@code what} thread: one debug line, a pause of
     * {@code backoffMs}; returns the next pause (doubled, at most 2 s), or -1 when interrupted.
     */
    static long reconnectPause(String what, SQLException e, long backoffMs) {
        log.debug("PostgreSQL {}: {}; reconnecting in {} ms", what, e.getMessage(), backoffMs);
        try {
            Thread.sleep(backoffMs);
        } catch (InterruptedException ie) {
            return -1;
        }
        return Math.min(backoffMs * 2, 2_000);
    }

    private void changed() {
        version.incrementAndGet();
        signal();
    }
}
