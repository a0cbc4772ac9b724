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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 *
 * <p>Space is given back: the file uses incremental auto-vacuum (set before the tables are created;
 * a file made without it is converted by one {@code VACUUM} when it is opened), and a maintenance
 * thread checks the free-page count every second; past {@value #VACUUM_TRIGGER_BYTES} bytes free it
 * runs {@code PRAGMA incremental_vacuum} in steps of {@value #VACUUM_STEP_BYTES} bytes, each its own
 * short write transaction, so the one writer (and other processes) wait a few milliseconds at a
 * time, never for a whole {@code VACUUM}. It keeps {@value #VACUUM_KEEP_BYTES} bytes free for the
 * next inserts. The WAL is truncated after a burst ({@code wal_checkpoint(TRUNCATE)} once it is
 * past {@value #WAL_TRUNCATE_BYTES} bytes, and {@code journal_size_limit} on every reset).
 */
final class SqliteDatabase extends SqlDatabase {
    private static final int SCHEMA_VERSION = 3; // 2: chords and saved groups; 3: leases in leased_until
    private static final int BUSY_TIMEOUT_MS = 30_000;
    static final int WRITER_CACHE_KIB = 64 * 1024;
    private static final Logger log = LoggerFactory.getLogger("celeriac.broker");
    // Maintenance (space given back): how often it looks, when it starts, how much per step, what it leaves.
    static final long MAINTENANCE_INTERVAL_MS = 1_000;
    static final long VACUUM_TRIGGER_BYTES = 4L << 20;
    static final long VACUUM_STEP_BYTES = 1L << 20;
    static final long VACUUM_KEEP_BYTES = 1L << 20;
    static final long WAL_TRUNCATE_BYTES = 4L << 20;
    /** The maintenance connection waits this long for other processes' locks, then tries again next round. */
    private static final int MAINTENANCE_BUSY_TIMEOUT_MS = 250;

    private final Path file;
    private final String jdbcUrl;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Connection writer;
    /** The writer's prepared statements, kept between transactions (used under {@link #writeLock}). */
    private final SqliteStatements statements;
    private final Deque<Connection> readers = new ArrayDeque<>();
    private final Connection maintenance;
    private final Thread maintainer;
    private volatile boolean closed;

    private SqliteDatabase(Path file) throws SQLException {
        this.file = file;
        this.jdbcUrl = "jdbc:sqlite:" + file;
        // journal_mode by hand here, after auto_vacuum: switching to WAL writes the file's header, which fixes the mode
        this.writer = connect(BUSY_TIMEOUT_MS, false);
        try (Statement s = writer.createStatement()) {
            // Only takes effect in a new file; an older file is converted below.
            s.execute("PRAGMA auto_vacuum=INCREMENTAL");
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("PRAGMA journal_size_limit=" + WAL_TRUNCATE_BYTES);
            // The writer's page cache (default 2 MiB): big enough for the hot index pages of a large
            // task history (its primary key of random task ids is written all over), grown only as used.
            s.execute("PRAGMA cache_size=-" + WRITER_CACHE_KIB);
        }
        this.statements = new SqliteStatements(writer);
        // Autocommit stays on and transactions are opened by hand: in manual-commit mode the driver
        // starts the next transaction right after each commit, so this connection would hold the
        // write lock between writes and lock every other process out.
        migrate();
        convertToIncrementalVacuum();
        this.maintenance = connect(MAINTENANCE_BUSY_TIMEOUT_MS, true);
        try (Statement s = maintenance.createStatement()) {
            s.execute("PRAGMA journal_size_limit=" + WAL_TRUNCATE_BYTES);
        }
        this.maintainer = new Thread(this::maintainLoop, "celeriac-sqlite-vacuum");
        maintainer.setDaemon(true);
        maintainer.start();
    }

    /**
     * A file made without incremental auto-vacuum (by an older Celeriac) never shrinks: one
     * {@code VACUUM} converts it. It copies only the live rows, so a big file that is mostly free
     * space converts quickly. Should it fail (the disk is full, another process holds the file),
     * the file is used as it is and the next open tries again.
     */
    private void convertToIncrementalVacuum() {
        writeLock.lock();
        try (Statement s = writer.createStatement()) {
            long mode = pragma(writer, "auto_vacuum");
            if (mode != 0) {
                return; // 1 full, 2 incremental: space is given back already
            }
            long bytes = pragma(writer, "page_count") * pragma(writer, "page_size");
            log.info("{}: converting the file to incremental auto-vacuum (a one-time VACUUM of {} MiB)", file,
                    String.format("%.1f", bytes / 1048576.0));
            s.execute("PRAGMA auto_vacuum=INCREMENTAL");
            s.execute("VACUUM");
        } catch (SQLException e) {
            log.warn("{}: could not convert the file to incremental auto-vacuum ({}); it does not shrink until a later open"
                    + " converts it", file, e.getMessage());
        } finally {
            writeLock.unlock();
        }
    }

    private void maintainLoop() {
        while (!closed) {
            try {
                Thread.sleep(MAINTENANCE_INTERVAL_MS);
                maintain();
            } catch (InterruptedException e) {
                return;
            } catch (SQLException | RuntimeException e) {
                // busy (another process writes), a full disk, a closing database: next round
                log.debug("{}: maintenance: {}", file, e.getMessage());
            }
        }
    }

    /**
     * One round of giving space back: free pages past the trigger are vacuumed away in steps, then
     * the WAL is checkpointed and truncated once it has grown past its limit.
     */
    void maintain() throws SQLException, InterruptedException {
        long pageSize = pragma(maintenance, "page_size");
        long free = pragma(maintenance, "freelist_count");
        if (free * pageSize >= VACUUM_TRIGGER_BYTES && pragma(maintenance, "auto_vacuum") == 2) {
            long keep = VACUUM_KEEP_BYTES / pageSize;
            long step = Math.max(1, VACUUM_STEP_BYTES / pageSize);
            while (!closed && free > keep) {
                long n = Math.min(step, free - keep);
                underWriteLock(() -> {
                    try (Statement s = maintenance.createStatement()) {
                        // executeUpdate steps the pragma to its end (execute would free one page only)
                        s.executeUpdate("PRAGMA incremental_vacuum(" + n + ")");
                    }
                });
                free = pragma(maintenance, "freelist_count");
                Thread.sleep(1); // let the writers of this JVM in between steps
            }
        }
        // The file itself shrinks when the WAL is checkpointed: do it when it would give space back
        // (the file is longer than the database, after a vacuum or the conversion) or the WAL grew big.
        long shrinkable = sizeOf(file) - pragma(maintenance, "page_count") * pageSize;
        long walBytes = sizeOf(Path.of(file + "-wal"));
        if (!closed && (walBytes > WAL_TRUNCATE_BYTES || shrinkable >= VACUUM_STEP_BYTES)) {
            underWriteLock(() -> {
                try (Statement s = maintenance.createStatement();
                     ResultSet rs = s.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
                    rs.next(); // busy = 1 when a reader held on: the next round tries again
                }
            });
        }
    }

    private interface SqlStep {
        void run() throws SQLException;
    }

    private void underWriteLock(SqlStep step) throws SQLException {
        writeLock.lock();
        try {
            if (!closed) {
                step.run();
            }
        } finally {
            writeLock.unlock();
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (java.io.IOException e) {
            return 0; // none (a WAL checkpointed and removed meanwhile)
        }
    }

    private static long pragma(Connection c, String name) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("PRAGMA " + name)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    /** Opens (or joins) the database at {@code file}; every open needs a {@link #release()}. */
    static SqliteDatabase acquire(Path file, String url) {
        Path key = file.toAbsolutePath().normalize();
        Path dir = key.getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            throw new ConfigException("'" + url + "': directory " + dir + " does not exist");
        }
        return acquire(key, () -> new SqliteDatabase(key),
                e -> new BrokerException("'" + url + "': cannot open SQLite database " + key + ": " + explain(e), false, e));
    }

    @Override
    void close() {
        closed = true;
        maintainer.interrupt();
        writeLock.lock();
        try {
            closeQuietly(maintenance);
            statements.close();
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

    private Connection connect(int busyTimeoutMs, boolean wal) throws SQLException {
        java.util.Properties p = new java.util.Properties();
        if (wal) {
            p.setProperty("journal_mode", "WAL");
        }
        p.setProperty("synchronous", "NORMAL");
        p.setProperty("busy_timeout", Integer.toString(busyTimeoutMs));
        p.setProperty("foreign_keys", "false");
        return DriverManager.getConnection(jdbcUrl, p);
    }

    private void migrate() throws SQLException {
        write(c -> {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
                // available_at: epoch ms from when the message may be delivered (its ETA); leased_until:
                // the end of its lease while reserved. A lapsed lease therefore makes it deliverable
                // again with no sweeper. AUTOINCREMENT keeps ids (the ack tags) from ever being reused.
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_messages ("
                        + " id INTEGER PRIMARY KEY AUTOINCREMENT,"
                        + " queue TEXT NOT NULL,"
                        + " priority INTEGER NOT NULL,"
                        + " available_at INTEGER NOT NULL,"
                        + " owner TEXT,"
                        + " deliveries INTEGER NOT NULL DEFAULT 0,"
                        + " task_id TEXT,"
                        + " payload TEXT NOT NULL,"
                        + " leased_until INTEGER)");
                boolean hasLease = false; // schema 2's table: add the lease column
                try (ResultSet cols = s.executeQuery("PRAGMA table_info(celeriac_messages)")) {
                    while (cols.next()) {
                        hasLease |= "leased_until".equals(cols.getString("name"));
                    }
                }
                if (!hasLease) {
                    s.execute("ALTER TABLE celeriac_messages ADD COLUMN leased_until INTEGER");
                }
                // Covering index for the claim (skips leased/parked rows without touching the table)
                // and a second one for "when is the next message due"; leases are renewed by id.
                s.execute("DROP INDEX IF EXISTS celeriac_messages_queue");
                s.execute("DROP INDEX IF EXISTS celeriac_messages_owner");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_messages_claim"
                        + " ON celeriac_messages (queue, priority, id, available_at, leased_until)");
                s.execute("CREATE INDEX IF NOT EXISTS celeriac_messages_due ON celeriac_messages (queue, available_at)");
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
                s.execute("CREATE TABLE IF NOT EXISTS celeriac_counters (key TEXT PRIMARY KEY, value INTEGER NOT NULL, expires_at INTEGER NOT NULL) WITHOUT ROWID");
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
            // BEGIN, COMMIT and the work's statements are prepared once and kept (SqliteStatements)
            statements.get("BEGIN IMMEDIATE").execute();
            try {
                T out = work.run(statements.connection());
                statements.get("COMMIT").execute();
                return out;
            } catch (SQLException | RuntimeException e) {
                // a failed transaction (a full disk, a busy file) drops every kept statement, so none
                // is left stepped and unreset (holding the file's lock) into the rollback and after
                statements.close();
                try (Statement tx = writer.createStatement()) {
                    tx.execute("ROLLBACK");
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
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
        Connection c = connect(BUSY_TIMEOUT_MS, true);
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
