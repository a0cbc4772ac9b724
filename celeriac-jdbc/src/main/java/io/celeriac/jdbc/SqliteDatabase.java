package io.celeriac.jdbc;

import io.celeriac.BrokerException;
import io.celeriac.ConfigException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One SQLite file in WAL mode, shared by every broker and result store this JVM opens on it.
 *
 * <p>SQLite allows one writer at a time per file, across processes. Inside this JVM all writes go
 * through one connection under a lock, so threads queue on the lock instead of on SQLite's busy
 * handler (which sleeps in steps of milliseconds). Other processes are held off by
 * {@code BEGIN IMMEDIATE} and the busy timeout. Reads use a small pool of connections.
 *
 * <p>{@code synchronous=NORMAL} in WAL mode means a committed transaction survives the process
 * being killed (the WAL is in the OS page cache); only a power loss can drop the last commits.
 */
final class SqliteDatabase extends SqlDatabase {
    private static final int SCHEMA_VERSION = 2; // 2: chords and saved groups
    private static final int BUSY_TIMEOUT_MS = 30_000;

    private final Path file;
    private final String jdbcUrl;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Connection writer;
    private final Deque<Connection> readers = new ArrayDeque<>();

    private SqliteDatabase(Path file) throws SQLException {
        this.file = file;
        this.jdbcUrl = "jdbc:sqlite:" + file;
        this.writer = connect();
        try (Statement s = writer.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
        }
        // Autocommit stays on and transactions are opened by hand: in manual-commit mode the driver
        // starts the next transaction right after each commit, so this connection would hold the
        // write lock between writes and lock every other process out.
        migrate();
    }

    /** Opens (or joins) the database at {@code file}; every open needs a {@link #release()}. */
    static SqliteDatabase acquire(Path file, String url) {
        Path key = file.toAbsolutePath().normalize();
        Path dir = key.getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new ConfigException("'" + url + "': directory " + dir + " does not exist");
        }
        return acquire(key, () -> new SqliteDatabase(key),
                e -> new BrokerException("'" + url + "': cannot open SQLite database " + key + ": " + e.getMessage(), false, e));
    }

    @Override
    void close() {
        writeLock.lock();
        try {
            closeQuietly(writer);
            synchronized (readers) {
                readers.forEach(SqliteDatabase::closeQuietly);
                readers.clear();
            }
        } finally {
            writeLock.unlock();
        }
    }

    Path file() {
        return file;
    }

    private Connection connect() throws SQLException {
        java.util.Properties p = new java.util.Properties();
        p.setProperty("journal_mode", "WAL");
        p.setProperty("synchronous", "NORMAL");
        p.setProperty("busy_timeout", Integer.toString(BUSY_TIMEOUT_MS));
        p.setProperty("foreign_keys", "false");
        return DriverManager.getConnection(jdbcUrl, p);
    }

    private void migrate() throws SQLException {
        write(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                // available_at: epoch ms when the message may next be delivered: its ETA while it waits,
                // its lease end while reserved. A lapsed lease therefore makes it deliverable again with
                // no sweeper. AUTOINCREMENT keeps ids (the ack tags) from ever being reused.
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_messages ("
                        + " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                        + " queue TEXT NOT NULL,"
                        + " priority INTEGER NOT NULL,"
                        + " available_at INTEGER NOT NULL,"
                        + " owner TEXT,"
                        + " deliveries INTEGER NOT NULL DEFAULT 0,"
                        + " task_id TEXT,"
                        + " payload TEXT NOT NULL)");
                // Covering index for the claim (skips leased/parked rows without touching the table)
                // and a second one for "when is the next message due".
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_messages_queue ON celeriac_messages (queue, priority, id, available_at)");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_messages_due ON celeriac_messages (queue, available_at)");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_messages_owner ON celeriac_messages (owner) WHERE owner IS NOT NULL");
                // Keyed by task id alone (no rowid): one b-tree to write per result instead of two.
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_results ("
                        + " task_id TEXT PRIMARY KEY,"
                        + " status TEXT NOT NULL,"
                        + " meta TEXT NOT NULL,"
                        + " expires_at INTEGER NOT NULL) WITHOUT ROWID");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_results_expiry ON celeriac_results (expires_at)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_revoked ("
                        + " task_id TEXT PRIMARY KEY, terminate INTEGER NOT NULL, at INTEGER NOT NULL,"
                        + " expires_at INTEGER NOT NULL) WITHOUT ROWID");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_revoked_at ON celeriac_revoked (at)");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_locks ("
                        + " name TEXT PRIMARY KEY, owner TEXT NOT NULL, until INTEGER NOT NULL) WITHOUT ROWID");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_records ("
                        + " key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_nodes ("
                        + " node TEXT PRIMARY KEY, beat TEXT NOT NULL, at INTEGER NOT NULL)");
                // chords: a header's size (set when the chord is sent) and its finished parts, counted
                // and read in the transaction that records the last one; saved groups (GroupResult.save)
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_chords ("
                        + " group_id TEXT PRIMARY KEY, size INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_chord_parts (group_id TEXT NOT NULL, task_id TEXT NOT NULL,"
                        + " group_index INTEGER, state TEXT NOT NULL, result TEXT NOT NULL, expires_at INTEGER NOT NULL,"
                        + " PRIMARY KEY (group_id, task_id)) WITHOUT ROWID");
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_groups ("
                        + " group_id TEXT PRIMARY KEY, meta TEXT NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID");
                try (ResultSet rs = s.executeQuery("SELECT value FROM celeriac_meta WHERE key = 'schema_version'")) {
                    if (rs.next()) {
                        int v = Integer.parseInt(rs.getString(1));
                        if (v > SCHEMA_VERSION) {
                            throw new SQLException("the file was written by a newer Celeriac (schema " + v
                                    + ", this one knows " + SCHEMA_VERSION + ")");
                        }
                        if (v < SCHEMA_VERSION) {
                            s.execute("UPDATE celeriac_meta SET value = '" + SCHEMA_VERSION + "' WHERE key = 'schema_version'");
                        }
                    } else {
                        s.execute("INSERT INTO celeriac_meta (key, value) VALUES ('schema_version', '" + SCHEMA_VERSION + "')");
                    }
                }
            }
            return null;
        }, false);
    }

    /**
     * Runs {@code work} in one write transaction ({@code BEGIN IMMEDIATE}), then wakes local waiters
     * (other processes see the change in the file's change counter).
     */
    @Override
    <T> T write(Work<T> work, boolean wake) throws SQLException {
        writeLock.lock();
        try {
            try (Statement tx = writer.createStatement()) {
                tx.execute("BEGIN IMMEDIATE");
                try {
                    T out = work.run(writer);
                    tx.execute("COMMIT");
                    return out;
                } catch (SQLException | RuntimeException e) {
                    try {
                        tx.execute("ROLLBACK");
                    } catch (SQLException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                    throw e;
                }
            }
        } finally {
            writeLock.unlock();
            signal();
        }
    }

    /** A pooled read connection (autocommit: each statement sees the latest commit). */
    @Override
    Connection borrow() throws SQLException {
        synchronized (readers) {
            Connection c = readers.poll();
            if (c != null) {
                return c;
            }
        }
        Connection c = connect();
        c.setAutoCommit(true);
        return c;
    }

    @Override
    void giveBack(Connection c) {
        synchronized (readers) {
            if (readers.size() < 8) {
                readers.push(c);
                return;
            }
        }
        closeQuietly(c);
    }

    /**
     * SQLite's change counter for the file as seen from {@code c}: it moves when any other
     * connection (in any process) commits. Polling it costs no table read.
     */
    @Override
    long dataVersion(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA data_version")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Other processes' commits are polled for: every millisecond (one PRAGMA, no table read). */
    @Override
    long pollNanos() {
        return millisToNanos(1);
    }

    @Override
    String lockSkipLocked() {
        return ""; // one writer at a time: a write transaction's reads are already exclusive
    }

    @Override
    String lockRows() {
        return "";
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // closing: nothing useful to do
        }
    }
}
