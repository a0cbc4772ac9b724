package io.celeriac.jdbc;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Sends this process's {@code NOTIFY}s, coalesced: one thread on a connection of its own, at most
 * one notification in flight, however many commits asked for one meanwhile.
 *
 * <p>Why not {@code NOTIFY} inside each writing transaction: PostgreSQL serialises the commits of
 * transactions that issued a NOTIFY on one database-wide lock (the {@code object} lock on the
 * database, taken in {@code PreCommit_Notify} and held through the commit's WAL flush), so
 * every publish and result commit would wait its turn for everybody else's fsync. Sent after the
 * commit instead, the change is visible when the notification arrives (as before), the writers'
 * commits flush together, and the notification's own transaction commits with
 * {@code synchronous_commit = off} (a lost notification costs a waiter at most its one-second
 * poll, never data).
 */
final class PostgresNotifier {
    private final String jdbcUrl;
    private final Properties props;
    private final String channel;
    private final Thread thread;
    private boolean pending; // guarded by this
    private volatile boolean closed;

    PostgresNotifier(String jdbcUrl, Properties props, String channel) {
        this.jdbcUrl = jdbcUrl;
        this.props = props;
        this.channel = channel;
        this.thread = new Thread(this::run, "celeriac-postgres-notify");
        thread.setDaemon(true);
        thread.start();
    }

    /** Asks for one notification after this call; requests made while one is being sent collapse into the next. */
    synchronized void request() {
        if (!pending) {
            pending = true;
            notifyAll();
        }
    }

    void close() {
        closed = true;
        thread.interrupt();
    }

    private synchronized void awaitRequest() throws InterruptedException {
        while (!pending) {
            wait();
        }
        pending = false;
    }

    private void run() {
        long backoffMs = 100;
        while (!closed) {
            try (Connection c = DriverManager.getConnection(jdbcUrl, props); Statement s = c.createStatement()) {
                s.execute("SET synchronous_commit = off");
                backoffMs = 100;
                while (!closed) {
                    awaitRequest();
                    s.execute("NOTIFY " + channel);
                }
            } catch (InterruptedException e) {
                return;
            } catch (SQLException e) {
                if (closed) {
                    return;
                }
                // waiters fall back to their poll meanwhile; the request that failed is sent again
                request();
                backoffMs = PostgresDatabase.reconnectPause("notifier", e, backoffMs);
                if (backoffMs < 0) {
                    return;
                }
            }
        }
    }
}
