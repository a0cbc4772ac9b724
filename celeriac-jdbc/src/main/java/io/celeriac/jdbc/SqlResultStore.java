package io.celeriac.jdbc;

import io.celeriac.BrokerException;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.ChordPart;
import io.celeriac.spi.Publication;
import io.celeriac.spi.ResultStore;
import io.celeriac.spi.Settle;
import io.celeriac.spi.Settlement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
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
        List<Settlement> batch = new ArrayList<>();
        results.forEach(r -> batch.add(Settlement.ack(null, r))); // settle orders them by task id
        settle(batch, null);
    }

    /**
     * One transaction for the batch. When the broker is the same database, each settlement's
     * messages, results, chord counting and ack commit together: the delivery's row is deleted
     * first, and a settlement whose row is already gone (settled by an earlier run or a retried
     * commit) is skipped whole, so a continuation is published once. A chord's row is locked before
     * its part is counted, so two workers finishing its last two parts at once cannot both miss
     * (or both fire) the body. With another broker, its messages are published after the commit
     * and its acks sent last.
     */
    @Override
    public void settle(List<Settlement> batch, Broker broker) {
        if (batch.isEmpty()) {
            return;
        }
        boolean same = broker instanceof SqlBroker sb && sb.database() == db;
        Settle.Elsewhere later = new Settle.Elsewhere();
        // In delivery-id order (the rows are deleted, and so locked, in that order, as renew locks
        // them), then task-id order for results without a delivery: two transactions never take the
        // same rows in opposite orders. The sort is stable: a settlement's own order is kept.
        List<Settlement> ordered = batch.stream().sorted(java.util.Comparator
                .comparingLong((Settlement st) -> st.delivery() == null ? Long.MAX_VALUE : Long.parseLong(st.delivery().tag()))
                .thenComparing(st -> st.effects().results().isEmpty() ? "" : st.effects().results().get(0).taskId())).toList();
        long now = clock.millis();
        boolean wake = batch.stream().anyMatch(st -> !st.effects().results().isEmpty() || !st.effects().publications().isEmpty()
                || !st.chordParts().isEmpty());
        try {
            if (same && now < nextSweep.get() && SqlPlainSettle.applies(db, ordered)) {
                db.writeOne(c -> {
                    SqlPlainSettle.run(c, db, ordered, now, now + expires.toMillis());
                    return null;
                }, wake);
                ((SqlBroker) broker).settled(ordered);
                return;
            }
            db.write(c -> {
                later.clear();
                // every delivery of the batch claimed (deleted) by one statement, the results stored by one batch
                java.util.Set<Long> live = same ? SqlBroker.deleteReturning(c, db, ordered.stream()
                        .filter(Settlement::acksDelivery).mapToLong(st -> Long.parseLong(st.delivery().tag())).toArray()) : null;
                try (SqlTx tx = new SqlTx(c, now, live, later)) {
                    for (Settlement st : ordered) {
                        Settle.apply(tx, st);
                    }
                    tx.flush();
                } catch (Unchecked u) {
                    throw (SQLException) u.getCause(); // a deadlock is retried by the database, the rest reported
                }
                sweep(c, now);
                return null;
            }, wake);
            if (same) {
                ((SqlBroker) broker).settled(ordered);
            }
        } catch (SQLException e) {
            throw SqlDatabase.failure(url + ": committing " + batch.size() + " finished message(s) failed: "
                    + SqlDatabase.explain(e), e);
        }
        later.send(broker);
    }

    /** The steps of {@link Settle} inside one SQL transaction. */
    private final class SqlTx implements Settle.Tx, AutoCloseable {
        private final Connection c;
        private final long now;
        private final boolean same;
        private final java.util.Set<Long> live;
        private final Settle.Elsewhere later;
        private PreparedStatement stores; // results batched, sent by flush
        private final List<Publication> publications = new ArrayList<>(); // messages, sent by flush
        private int batched;

        /** {@code live}: the batch's deliveries that were still there when deleted, or null when the broker is elsewhere. */
        SqlTx(Connection c, long now, java.util.Set<Long> live, Settle.Elsewhere later) {
            this.c = c;
            this.now = now;
            this.same = live != null;
            this.live = live;
            this.later = later;
        }

        @Override
        public boolean claim(Delivery d) {
            return !same || live.remove(Long.parseLong(d.tag())); // a second settlement of one delivery finds it gone
        }

        @Override
        public void store(TaskResult r) {
            // A stored SUCCESS is final (a duplicate run must not overwrite it), and a state that is not
            // ready (STARTED, RETRY, progress) never replaces a ready one, unless that expired.
            try {
                if (stores == null) {
                    // a ready state replaces anything but SUCCESS; a pending one only a pending one
                    stores = c.prepareStatement("INSERT INTO celeriac_results (task_id, status, meta, expires_at) VALUES (?, ?, ?, ?)"
                            + " ON CONFLICT (task_id) DO UPDATE SET status = excluded.status, meta = excluded.meta,"
                            + " expires_at = excluded.expires_at"
                            + " WHERE (celeriac_results.status <> 'SUCCESS'"
                            + " AND (? = 1 OR celeriac_results.status NOT IN ('FAILURE', 'REVOKED')))"
                            + " OR celeriac_results.expires_at <= ?");
                }
                stores.setString(1, r.taskId());
                stores.setString(2, r.state().name());
                stores.setString(3, r.toJson());
                stores.setLong(4, now + expires.toMillis());
                stores.setInt(5, r.state().ready() ? 1 : 0);
                stores.setLong(6, now);
                stores.addBatch();
                batched++;
            } catch (SQLException e) {
                throw new Unchecked(e);
            }
        }

        /** Sends the batched messages, then the results (in the order stored: a later state of one task after an earlier). */
        void flush() throws SQLException {
            if (!publications.isEmpty()) {
                SqlBroker.insertAll(c, db, publications, now);
                publications.clear();
            }
            if (batched > 0) {
                stores.executeBatch();
                batched = 0;
            }
        }

        @Override
        public void close() throws SQLException {
            if (stores != null) {
                stores.close();
            }
        }

        @Override
        public void publish(Publication p) {
            if (!same) {
                later.publish(p);
                return;
            }
            publications.add(p); // sent by flush, all in one statement
        }

        @Override
        public void chordSize(String groupId, int size) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_chords (group_id, size, expires_at) VALUES (?, ?, ?)"
                    + " ON CONFLICT (group_id) DO UPDATE SET size = excluded.size, expires_at = excluded.expires_at")) {
                ps.setString(1, groupId);
                ps.setInt(2, size);
                ps.setLong(3, now + expires.toMillis());
                ps.executeUpdate();
            } catch (SQLException e) {
                throw new Unchecked(e);
            }
        }

        @Override
        public Optional<List<Settle.Part>> addPart(ChordPart part) {
            try {
                Integer size = null;
                try (PreparedStatement ps = c.prepareStatement("SELECT size FROM celeriac_chords WHERE group_id = ?" + db.lockRows())) {
                    ps.setString(1, part.groupId());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (rs.next()) {
                            size = rs.getInt(1);
                        }
                    }
                }
                int added;
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_chord_parts"
                        + " (group_id, task_id, group_index, state, result, expires_at) VALUES (?, ?, ?, ?, ?, ?)"
                        + " ON CONFLICT (group_id, task_id) DO NOTHING")) {
                    ps.setString(1, part.groupId());
                    ps.setString(2, part.taskId());
                    if (part.groupIndex() == null) {
                        ps.setNull(3, java.sql.Types.INTEGER);
                    } else {
                        ps.setInt(3, part.groupIndex());
                    }
                    ps.setString(4, part.state().name());
                    ps.setString(5, io.celeriac.protocol.Json.write(part.result()));
                    ps.setLong(6, now + expires.toMillis());
                    added = ps.executeUpdate();
                }
                if (size == null || added == 0) {
                    return Optional.empty(); // size not known (yet), or a duplicate run of a part: counted once
                }
                List<Settle.Part> parts = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT task_id, state, result FROM celeriac_chord_parts"
                        + " WHERE group_id = ? ORDER BY CASE WHEN group_index IS NULL THEN 1 ELSE 0 END, group_index, task_id")) {
                    ps.setString(1, part.groupId());
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            parts.add(new Settle.Part(rs.getString(1), io.celeriac.TaskState.parse(rs.getString(2)),
                                    io.celeriac.protocol.Json.read(rs.getString(3))));
                        }
                    }
                }
                if (parts.size() != size) {
                    return Optional.empty();
                }
                for (String table : List.of("celeriac_chord_parts", "celeriac_chords")) {
                    try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE group_id = ?")) {
                        ps.setString(1, part.groupId());
                        ps.executeUpdate();
                    }
                }
                return Optional.of(parts);
            } catch (SQLException e) {
                throw new Unchecked(e);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException("a stored chord part is not JSON: " + e.getOriginalMessage(), e);
            }
        }

        @Override
        public void ack(Delivery d) {
            if (!same) {
                later.ack(d);
            }
        }
    }

    /** Carries an SQLException out of a {@link Settle.Tx} step, to be unwrapped by {@link #settle}. */
    private static final class Unchecked extends RuntimeException {
        Unchecked(SQLException cause) {
            super(cause);
        }
    }

    /** Deletes expired results, chords and groups, at most once a minute, in the caller's transaction. */
    private void sweep(Connection c, long now) throws SQLException {
        long due = nextSweep.get();
        if (now >= due && nextSweep.compareAndSet(due, now + SWEEP_EVERY_MS)) {
            for (String table : List.of("celeriac_results", "celeriac_chords", "celeriac_chord_parts", "celeriac_groups")) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE expires_at <= ?")) {
                    ps.setLong(1, now);
                    ps.executeUpdate();
                }
            }
        }
    }

    @Override
    public void saveGroup(String groupId, com.fasterxml.jackson.databind.JsonNode tuple) {
        long now = clock.millis();
        com.fasterxml.jackson.databind.node.ObjectNode meta = io.celeriac.protocol.Json.NODES.objectNode();
        meta.set("result", tuple);
        try {
            db.write(c -> {
                try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_groups (group_id, meta, expires_at) VALUES (?, ?, ?)"
                        + " ON CONFLICT (group_id) DO UPDATE SET meta = excluded.meta, expires_at = excluded.expires_at")) {
                    ps.setString(1, groupId);
                    ps.setString(2, io.celeriac.protocol.Json.write(meta));
                    ps.setLong(3, now + expires.toMillis());
                    return ps.executeUpdate();
                }
            }, false);
        } catch (SQLException e) {
            throw new BrokerException(url + ": saving group " + groupId + " failed: " + SqlDatabase.explain(e), true, e);
        }
    }

    @Override
    public Optional<com.fasterxml.jackson.databind.JsonNode> group(String groupId) {
        try {
            return db.read(c -> {
                try (PreparedStatement ps = c.prepareStatement("SELECT meta FROM celeriac_groups WHERE group_id = ? AND expires_at > ?")) {
                    ps.setString(1, groupId);
                    ps.setLong(2, clock.millis());
                    try (ResultSet rs = ps.executeQuery()) {
                        if (!rs.next()) {
                            return Optional.empty();
                        }
                        try {
                            return Optional.ofNullable(io.celeriac.protocol.Json.read(rs.getString(1)).get("result"));
                        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                            return Optional.empty();
                        }
                    }
                }
            });
        } catch (SQLException e) {
            throw new BrokerException(url + ": reading group " + groupId + " failed: " + SqlDatabase.explain(e), true, e);
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
