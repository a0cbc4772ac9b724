package io.celeriac.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A database the SQL broker, result store and coordination run on: SQLite (one file on this
 * machine) or PostgreSQL (a server). The stores are written once against this; a database gives
 * transactions, pooled read connections, row locking in its own dialect, and a way to learn that
 * another process changed something (SQLite: its change counter, polled; PostgreSQL: LISTEN/NOTIFY).
 */
abstract class SqlDatabase {
    interface Work<T> {
        T run(Connection c) throws SQLException;
    }

    /** Every database open in this JVM, by its key (a file, or a server URL and user): brokers and stores share one. */
    private static final java.util.Map<Object, SqlDatabase> OPEN = new java.util.HashMap<>();
    private Object key;
    private int refs;

    interface Opener<D extends SqlDatabase> {
        D open() throws SQLException;
    }

    /** The open database for {@code key}, or a new one from {@code opener}; every acquire needs a {@link #release()}. */
    static <D extends SqlDatabase> D acquire(Object key, Opener<D> opener,
                                             java.util.function.Function<SQLException, RuntimeException> failure) {
        synchronized (OPEN) {
            @SuppressWarnings("unchecked")
            D db = (D) OPEN.get(key);
            if (db == null) {
                try {
                    db = opener.open();
                } catch (SQLException e) {
                    throw failure.apply(e);
                }
                ((SqlDatabase) db).key = key;
                OPEN.put(key, db);
            }
            ((SqlDatabase) db).refs++;
            return db;
        }
    }

    /** Gives up this user's share of the database; the last one closes it. */
    final void release() {
        synchronized (OPEN) {
            if (--refs > 0) {
                return;
            }
            OPEN.remove(key);
        }
        close();
    }

    /** Closes connections and threads: the last user released it. */
    abstract void close();

    // Wake-ups of threads in this JVM that wait for a change (a message to reserve, a result).
    private final ReentrantLock signalLock = new ReentrantLock();
    private final Condition changed = signalLock.newCondition();

    /**
     * Runs {@code work} in one write transaction. With {@code wake}, waiters everywhere (other
     * processes too) learn of it at once: for writes that make a message or a result available.
     */
    abstract <T> T write(Work<T> work, boolean wake) throws SQLException;

    /**
     * Runs {@code work}, a single writing statement, as cheaply as the database can while still
     * atomically: by default in a {@link #write} transaction; on a server, in autocommit.
     */
    <T> T writeOne(Work<T> work, boolean wake) throws SQLException {
        return write(work, wake);
    }

    /**
     * What a claim's {@code RETURNING} list ends with to let its commit skip waiting for the disk
     * (nothing where there is no such choice). A claim is only a lease: lost in a server crash, the
     * message is simply deliverable again, as after a lapsed lease; the settlement that follows is
     * committed durably, and its WAL flush makes the claim durable too.
     */
    String leaseCommit() {
        return "";
    }

    /** True when {@code = ANY(?)} takes an SQL array of ids (one prepared statement for any count). */
    boolean arrays() {
        return false;
    }

    /** Runs {@code work} on a pooled connection outside any explicit transaction. */
    <T> T read(Work<T> work) throws SQLException {
        Connection c = borrow();
        try {
            return work.run(c);
        } finally {
            giveBack(c);
        }
    }

    abstract Connection borrow() throws SQLException;

    abstract void giveBack(Connection c);

    /** A counter that moves whenever another connection may have committed a change, as seen from {@code watch}. */
    abstract long dataVersion(Connection watch) throws SQLException;

    /** How long a waiter sleeps at most before it looks at {@link #dataVersion} again. */
    abstract long pollNanos();

    /** What follows a SELECT to lock its rows, skipping rows another transaction holds (empty where writes are serial). */
    abstract String lockSkipLocked();

    /** What follows a SELECT to lock its rows until the transaction ends (empty where writes are serial). */
    abstract String lockRows();

    /** A BIGINT primary key the database numbers itself, in insertion order, never reusing a number (SQLite's form here). */
    String serialKey() {
        return "INTEGER PRIMARY KEY AUTOINCREMENT";
    }

    /** The column type of text compared byte by byte (code point order), as keyset cursors need; SQLite's TEXT is so. */
    String bytewiseText() {
        return "TEXT";
    }

    /**
     * Holds off other processes that would make the same tables until this transaction ends
     * (nothing where writes are serial already, as on SQLite).
     */
    void lockSchema(Statement s, String name) throws SQLException {
    }

    /**
     * Locks {@code keys} (under {@code space}) until this transaction ends, in one order for every
     * writer, so that a read-merge-write of rows that may not exist yet is not interleaved with
     * another (nothing where writes are serial already, as on SQLite).
     */
    void lockKeys(Connection c, String space, java.util.List<String> keys) throws SQLException {
    }

    /** {@code s} as this database can keep it in a TEXT column (PostgreSQL's text holds no NUL character). */
    String storable(String s) {
        return s;
    }

    /** Wakes this JVM's waiters. */
    final void signal() {
        signalLock.lock();
        try {
            changed.signalAll();
        } finally {
            signalLock.unlock();
        }
    }

    /** Sleeps up to {@code nanos}, or less when a change is signalled. */
    final void awaitChange(long nanos) throws InterruptedException {
        if (nanos <= 0) {
            return;
        }
        signalLock.lock();
        try {
            changed.awaitNanos(nanos);
        } finally {
            signalLock.unlock();
        }
    }

    /**
     * What went wrong, for a log line: the innermost SQL error (a pool's timeout carries the
     * server's or driver's reason as its cause), and "database unreachable" for a lost or refused
     * connection (SQLSTATE class 08, a server shutting down or starting, a pool that timed out).
     */
    static String explain(SQLException e) {
        SQLException root = root(e);
        String message = root.getMessage() == null ? root.toString() : root.getMessage();
        if (full(e)) {
            return "the disk is full (" + message + ")";
        }
        return unreachable(e) ? "database unreachable (" + message + ")" : message;
    }

    /** True when the write failed because the disk is full (SQLite's SQLITE_FULL, PostgreSQL's disk_full 53100). */
    static boolean full(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SQLException s && ("53100".equals(s.getSQLState())
                    || (s.getMessage() != null && s.getMessage().contains("SQLITE_FULL")))) {
                return true;
            }
        }
        return false;
    }

    /** The exception for a failed broker or store call: {@link io.celeriac.StorageFullException} for a full disk. */
    static io.celeriac.BrokerException failure(String message, SQLException e) {
        return full(e) ? new io.celeriac.StorageFullException(message, e) : new io.celeriac.BrokerException(message, true, e);
    }

    /**
     * True when the server could not be reached or went away, which is waited out like any outage;
     * false for errors a wait will not mend (a wrong password or database name, bad SQL).
     */
    static boolean unreachable(SQLException e) {
        SQLException root = root(e);
        String state = root.getSQLState() == null ? "" : root.getSQLState();
        if (!state.isEmpty()) {
            return state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03");
        }
        return root instanceof java.sql.SQLTransientConnectionException || root instanceof java.sql.SQLNonTransientConnectionException
                || "Connection is closed".equals(root.getMessage()); // HikariCP, using a connection it retired after a failure
    }

    private static SQLException root(SQLException e) {
        SQLException root = e;
        for (Throwable t = e.getCause(); t != null && t != t.getCause(); t = t.getCause()) {
            if (t instanceof SQLException s && (s.getSQLState() != null || root.getSQLState() == null)) {
                root = s;
            }
        }
        return root;
    }

    static long millisToNanos(long ms) {
        return TimeUnit.MILLISECONDS.toNanos(ms);
    }
}
