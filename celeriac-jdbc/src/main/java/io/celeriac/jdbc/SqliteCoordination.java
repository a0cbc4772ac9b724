package io.celeriac.jdbc;

import io.celeriac.BrokerException;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Coordination;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Locks and records in the embedded SQLite file. A lock is a row with its owner and lease end;
 * every check and change happens in one write transaction, which SQLite serialises across processes.
 */
final class SqliteCoordination implements Coordination {
    private final SqliteDatabase db;
    private final Clock clock;
    private final String url;

    SqliteCoordination(SqliteDatabase db, Clock clock, String url) {
        this.db = db;
        this.clock = clock;
        this.url = url;
    }

    @Override
    public boolean tryLock(String lock, String owner, Duration lease) {
        long now = clock.millis();
        return run("take lock '" + lock + "'", () -> db.write(c -> {
            Optional<String[]> held = lockRow(c, lock);
            if (held.isPresent() && Long.parseLong(held.get()[1]) > now && !held.get()[0].equals(owner)) {
                return false;
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO celeriac_locks (name, owner, until) VALUES (?, ?, ?)"
                    + " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until")) {
                ps.setString(1, lock);
                ps.setString(2, owner);
                ps.setLong(3, now + lease.toMillis());
                ps.executeUpdate();
            }
            return true;
        }));
    }

    private static Optional<String[]> lockRow(Connection c, String lock) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT owner, until FROM celeriac_locks WHERE name = ?")) {
            ps.setString(1, lock);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new String[] {rs.getString(1), Long.toString(rs.getLong(2))}) : Optional.empty();
            }
        }
    }

    private boolean holds(Connection c, String lock, String owner) throws SQLException {
        Optional<String[]> row = lockRow(c, lock);
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
        }));
    }

    @Override
    public Optional<String> holder(String lock) {
        long now = clock.millis();
        return run("read lock '" + lock + "'", () -> db.read(c -> lockRow(c, lock)
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
            // a range scan on the key, not LIKE (which would treat _ and % in the prefix as wildcards)
            try (PreparedStatement ps = c.prepareStatement("SELECT key, value FROM celeriac_records WHERE key >= ? AND key < ?")) {
                ps.setString(1, prefix);
                ps.setString(2, prefix + Character.MAX_VALUE);
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
        }));
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
    public boolean publishIfHolder(String lock, String owner, String queue, BrokerMessage message, String key, String value) {
        long now = clock.millis();
        return run("publish under lock '" + lock + "'", () -> db.write(c -> {
            if (!holds(c, lock, owner)) {
                return false;
            }
            if (message != null) {
                SqliteBroker.insert(c, queue, message, now);
            }
            putRecord(c, key, value);
            return true;
        }));
    }

    @Override
    public void close() {
        db.release();
    }

    private <T> T run(String what, SqliteBroker.SqlCall<T> call) {
        try {
            return call.call();
        } catch (SQLException e) {
            throw new BrokerException(url + ": " + what + " failed: " + e.getMessage(), true, e);
        }
    }
}
