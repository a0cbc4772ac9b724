package io.celeriac.jdbc;

import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.NodeBeat;
import io.celeriac.spi.Revocation;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Presence ({@code celeriac_nodes}), revocations ({@code celeriac_revoked}), counters
 * ({@code celeriac_counters}), locks and records in the SQL database. A lock is a row with its owner and lease end, taken with
 * one conditional upsert (it succeeds only when the lock is free, lapsed or already the taker's);
 * a fenced publish locks that row for its transaction, so the lock cannot change hands meanwhile.
 */
final class SqlCoordination implements Coordination {
    private final SqlDatabase db;
    private final Clock clock;
    private final String url;

    SqlCoordination(SqlDatabase db, Clock clock, String url) {
        this.db = db;
        this.clock = clock;
        this.url = url;
    }

    @Override
    public boolean tryLock(String lock, String owner, Duration lease) {
        long now = clock.millis();
        return run("take lock '" + lock + "'", () -> db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_locks (name, owner, until) VALUES (?, ?, ?)"
                    + " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until"
                    + " WHERE celeriac_locks.owner = excluded.owner OR celeriac_locks.until <= ?")) {
                ps.setString(1, lock);
                ps.setString(2, owner);
                ps.setLong(3, now + lease.toMillis());
                ps.setLong(4, now);
                return ps.executeUpdate() == 1;
            }
        }, false));
    }

    private Optional<String[]> lockRow(Connection c, String lock, boolean forUpdate) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT owner, until FROM celeriac_locks WHERE name = ?"
                + (forUpdate ? db.lockRows() : ""))) {
            ps.setString(1, lock);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new String[] {rs.getString(1), Long.toString(rs.getLong(2))}) : Optional.empty();
            }
        }
    }

    private boolean holds(Connection c, String lock, String owner) throws SQLException {
        Optional<String[]> row = lockRow(c, lock, true);
        return row.isPresent() && row.get()[0].equals(owner) && Long.parseLong(row.get()[1]) > clock.millis();
    }

    @Override
    public void unlock(String lock, String owner) {
        run("release lock '" + lock + "'", () -> db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM celeriac_locks WHERE name = ? AND owner = ?")) {
                ps.setString(1, lock);
                ps.setString(2, owner);
                return ps.executeUpdate();
            }
        }, false));
    }

    @Override
    public Optional<String> holder(String lock) {
        long now = clock.millis();
        return run("read lock '" + lock + "'", () -> db.read(c -> lockRow(c, lock, false)
                .filter(r -> Long.parseLong(r[1]) > now).map(r -> r[0])));
    }

    @Override
    public Optional<String> get(String key) {
        return run("read record '" + key + "'", () -> db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT value FROM celeriac_records WHERE key = ?")) {
                ps.setString(1, key);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(rs.getString(1)) : Optional.<String>empty();
                }
            }
        }));
    }

    @Override
    public Map<String, String> getAll(String prefix) {
        return run("read records '" + prefix + "*'", () -> db.read(c -> {
            Map<String, String> out = new TreeMap<>();
            // the prefix compared as it is, not LIKE (which would treat _ and % in it as wildcards)
            try (PreparedStatement ps = c.prepareStatement("SELECT key, value FROM celeriac_records WHERE substr(key, 1, ?) = ?")) {
                ps.setInt(1, prefix.codePointCount(0, prefix.length()));
                ps.setString(2, prefix);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.put(rs.getString(1), rs.getString(2));
                    }
                }
            }
            return out;
        }));
    }

    @Override
    public void put(String key, String value) {
        run("write record '" + key + "'", () -> db.write(c -> {
            putRecord(c, key, value);
            return null;
        }, false));
    }

    private static void putRecord(Connection c, String key, String value) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_records (key, value) VALUES (?, ?)"
                + " ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
            ps.setString(1, key);
            ps.setString(2, value);
            ps.executeUpdate();
        }
    }

    @Override
    public boolean publishIfHolder(String lock, String owner, Broker broker, String queue, BrokerMessage message, String key,
                                   String value) {
        if (!(broker instanceof SqlBroker sb && sb.database() == db)) {
            return Coordination.publishThenRecord(this, lock, owner, broker, queue, message, key, value);
        }
        long now = clock.millis();
        return run("publish under lock '" + lock + "'", () -> db.write(c -> {
            if (!holds(c, lock, owner)) {
                return false;
            }
            if (message != null) {
                SqlBroker.insert(c, queue, message, now);
            }
            putRecord(c, key, value);
            return true;
        }, message != null));
    }

    @Override
    public void keepAlive(String node, String heartbeatJson) {
        long now = clock.millis();
        run(heartbeatJson == null ? "remove node heartbeat" : "record node heartbeat", () -> db.write(c -> {
            if (heartbeatJson == null) {
                try (PreparedStatement ps = c.prepareStatement("DELETE FROM celeriac_nodes WHERE node = ?")) {
                    ps.setString(1, node);
                    return ps.executeUpdate();
                }
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_nodes (node, beat, at) VALUES (?, ?, ?)"
                    + " ON CONFLICT (node) DO UPDATE SET beat = excluded.beat, at = excluded.at")) {
                ps.setString(1, node);
                ps.setString(2, heartbeatJson);
                ps.setLong(3, now);
                return ps.executeUpdate();
            }
        }, false));
    }

    @Override
    public Map<String, NodeBeat> nodes() {
        return run("read node heartbeats", () -> db.read(c -> {
            Map<String, NodeBeat> out = new HashMap<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT node, beat, at FROM celeriac_nodes");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.put(rs.getString(1), new NodeBeat(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3))));
                }
            }
            return out;
        }));
    }

    @Override
    public void revoke(String taskId, boolean terminate, Instant expires) {
        long now = clock.millis();
        run("revoke task " + taskId, () -> db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_revoked (task_id, terminate, at, expires_at)"
                    + " VALUES (?, ?, ?, ?) ON CONFLICT (task_id) DO UPDATE SET terminate ="
                    + " CASE WHEN celeriac_revoked.terminate > excluded.terminate THEN celeriac_revoked.terminate ELSE excluded.terminate END,"
                    + " at = excluded.at, expires_at = excluded.expires_at")) {
                ps.setString(1, taskId);
                ps.setInt(2, terminate ? 1 : 0);
                ps.setLong(3, now);
                ps.setLong(4, expires.toEpochMilli());
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM celeriac_revoked WHERE expires_at <= ?")) {
                ps.setLong(1, now);
                ps.executeUpdate();
            }
            return null;
        }, false));
    }

    @Override
    public List<Revocation> revocations(Instant since) {
        long now = clock.millis();
        return run("read revocations", () -> db.read(c -> {
            List<Revocation> out = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT task_id, terminate, at FROM celeriac_revoked"
                    + " WHERE at >= ? AND expires_at > ? ORDER BY at")) {
                ps.setLong(1, since.toEpochMilli());
                ps.setLong(2, now);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Revocation(rs.getString(1), rs.getInt(2) != 0, Instant.ofEpochMilli(rs.getLong(3))));
                    }
                }
            }
            return out;
        }));
    }

    @Override
    public long increment(String key, long delta, Duration ttl) {
        long now = clock.millis();
        return run("increment counter '" + key + "'", () -> db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_counters (key, value, expires_at) VALUES (?, ?, ?)"
                    + " ON CONFLICT (key) DO UPDATE SET value = CASE WHEN celeriac_counters.expires_at <= ? THEN excluded.value"
                    + " ELSE celeriac_counters.value + excluded.value END, expires_at = excluded.expires_at RETURNING value")) {
                ps.setString(1, key);
                ps.setLong(2, delta);
                ps.setLong(3, ttl == null ? Long.MAX_VALUE : now + ttl.toMillis());
                ps.setLong(4, now);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }, false));
    }

    @Override
    public void close() {
        db.release();
    }

    private <T> T run(String what, SqlBroker.SqlCall<T> call) {
        try {
            return call.call();
        } catch (SQLException e) {
            throw SqlDatabase.failure(url + ": " + what + " failed: " + SqlDatabase.explain(e), e);
        }
    }
}
