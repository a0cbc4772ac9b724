package io.celeriac.jdbc;

import io.celeriac.BrokerException;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.ResultStore;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Results in the SQL database (SQLite or PostgreSQL), in Celery's JSON form ({@code celeriac_results.meta}).
 * Expired rows are invisible at once and deleted at most once a minute by whichever process stores.
 */
final class SqlResultStore implements ResultStore {
    private static final long SWEEP_EVERY_MS = 60_000;

    private final SqlDatabase db;
    private final Duration expires;
    private final Clock clock;
    private final String url;
    private final AtomicLong nextSweep = new AtomicLong();

    SqlResultStore(SqlDatabase db, Duration expires, Clock clock, String url) {
        this.db = db;
        this.expires = expires;
        this.clock = clock;
        this.url = url;
    }

    @Override
    public void store(TaskResult r) {
        storeAll(List.of(r));
    }

    @Override
    public void storeAll(List<TaskResult> results) {
        storeAndAck(results, null, List.of());
    }

    /**
     * When the broker is the same database, results and acks go in one transaction: the task's
     * result and the removal of its message become durable together.
     */
    @Override
    public void storeAndAck(List<TaskResult> results, Broker broker, List<Delivery> deliveries) {
        if (!deliveries.isEmpty() && !(broker instanceof SqlBroker sb && sb.database() == db)) {
            storeAll(results);
            broker.ack(deliveries);
            return;
        }
        if (results.isEmpty() && deliveries.isEmpty()) {
            return;
        }
        long now = clock.millis();
        // In task-id order, so two batches never lock the same rows in opposite orders; the sort is
        // stable, so two states of one task still apply in the order given.
        List<TaskResult> ordered = results.stream().sorted(java.util.Comparator.comparing(TaskResult::taskId)).toList();
        List<String> json = ordered.stream().map(TaskResult::toJson).toList();
        try {
            db.write(c -> {
                // A stored SUCCESS is final (a duplicate run must not overwrite it) unless it expired.
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO celeriac_results (task_id, status, meta, expires_at) VALUES (?, ?, ?, ?)"
                                + " ON CONFLICT (task_id) DO UPDATE SET status = excluded.status, meta = excluded.meta,"
                                + " expires_at = excluded.expires_at"
                                + " WHERE celeriac_results.status <> 'SUCCESS' OR celeriac_results.expires_at <= ?")) {
                    for (int i = 0; i < ordered.size(); i++) {
                        TaskResult r = ordered.get(i);
                        ps.setString(1, r.taskId());
                        ps.setString(2, r.state().name());
                        ps.setString(3, json.get(i));
                        ps.setLong(4, now + expires.toMillis());
                        ps.setLong(5, now);
                        ps.executeUpdate(); // one at a time: two states of one task in a batch apply in order
                    }
                }
                SqlBroker.delete(c, deliveries);
                long due = nextSweep.get();
                if (now >= due && nextSweep.compareAndSet(due, now + SWEEP_EVERY_MS)) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM celeriac_results WHERE expires_at <= ?")) {
                        ps.setLong(1, now);
                        ps.executeUpdate();
                    }
                }
                return null;
            }, !results.isEmpty());
        } catch (SQLException e) {
            throw new BrokerException(url + ": storing " + results.size() + " result(s) and acking " + deliveries.size()
                    + " message(s) failed: " + SqlDatabase.explain(e), true, e);
        }
    }

    @Override
    public Optional<TaskResult> get(String taskId) {
        try {
            return db.read(c -> get(c, taskId));
        } catch (SQLException e) {
            throw failure(taskId, e);
        }
    }

    private Optional<TaskResult> get(Connection c, String taskId) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT meta FROM celeriac_results WHERE task_id = ? AND expires_at > ?")) {
            ps.setString(1, taskId);
            ps.setLong(2, clock.millis());
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(TaskResult.fromJson(rs.getString(1))) : Optional.empty();
            }
        }
    }

    @Override
    public Optional<TaskResult> await(String taskId, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Connection watch;
        try {
            watch = db.borrow();
        } catch (SQLException e) {
            throw failure(taskId, e);
        }
        try {
            long seen = Long.MIN_VALUE;
            Optional<TaskResult> last = Optional.empty();
            while (true) {
                long version = db.dataVersion(watch);
                if (version != seen) { // read again only when something was committed
                    seen = version;
                    last = get(watch, taskId);
                    if (last.isPresent() && last.get().state().ready()) {
                        return last;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return last;
                }
                db.awaitChange(Math.min(left, db.pollNanos()));
            }
        } catch (SQLException e) {
            throw failure(taskId, e);
        } finally {
            db.giveBack(watch);
        }
    }

    @Override
    public void forget(String taskId) {
        try {
            db.write(c -> {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM celeriac_results WHERE task_id = ?")) {
                    ps.setString(1, taskId);
                    return ps.executeUpdate();
                }
            }, false);
        } catch (SQLException e) {
            throw failure(taskId, e);
        }
    }

    private BrokerException failure(String taskId, SQLException e) {
        return new BrokerException(url + ": reading the result of task " + taskId + " failed: " + SqlDatabase.explain(e), true, e);
    }

    @Override
    public String describe() {
        return url;
    }

    @Override
    public void close() {
        db.release();
    }
}
