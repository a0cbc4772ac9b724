package io.celeriac.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The writer connection's prepared statements, kept: a write transaction's code prepares and closes
 * its statements as usual ({@code try (PreparedStatement ps = c.prepareStatement(sql))}), and on the
 * connection this hands out a {@code prepareStatement} returns the statement prepared for that SQL
 * the last time, its {@code close} only clearing parameters and batch. SQLite compiles a statement
 * on every prepare (the JFR profile of a draining worker had a tenth of its SQLite time in
 * {@code sqlite3_prepare}); a busy worker runs the same few statements over and over. Used only
 * under the database's write lock (one thread at a time); the least recently used past
 * {@value #SIZE} are closed, and a transaction that fails closes them all before its rollback.
 */
final class SqliteStatements {
    static final int SIZE = 64;

    private final Connection writer;
    private final Connection keeping;
    private final Map<String, PreparedStatement> kept = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
            if (size() <= SIZE) {
                return false;
            }
            closeQuietly(eldest.getValue());
            return true;
        }
    };

    SqliteStatements(Connection writer) {
        this.writer = writer;
        this.keeping = (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(), new Class<?>[] {Connection.class},
                this::onConnection);
    }

    /** The writer, with its {@code prepareStatement(String)} served from the kept statements. */
    Connection connection() {
        return keeping;
    }

    /** The kept statement for {@code sql} (prepared now if it is not kept yet), to run and not to close. */
    PreparedStatement get(String sql) throws SQLException {
        PreparedStatement ps = kept.get(sql);
        if (ps == null) {
            ps = writer.prepareStatement(sql);
            kept.put(sql, ps);
        }
        return ps;
    }

    /** Closes every kept statement (before the writer itself is closed). */
    void close() {
        kept.values().forEach(SqliteStatements::closeQuietly);
        kept.clear();
    }

    private Object onConnection(Object proxy, Method m, Object[] args) throws Throwable {
        if (m.getName().equals("prepareStatement") && args != null && args.length == 1 && args[0] instanceof String sql) {
            PreparedStatement ps = get(sql);
            return Proxy.newProxyInstance(PreparedStatement.class.getClassLoader(), new Class<?>[] {PreparedStatement.class},
                    new Kept(ps));
        }
        return invoke(writer, m, args);
    }

    /** A kept statement as its user sees it: closing it clears it for the next user instead. */
    private final class Kept implements InvocationHandler {
        private final PreparedStatement ps;
        private boolean closed;

        Kept(PreparedStatement ps) {
            this.ps = ps;
        }

        @Override
        public Object invoke(Object proxy, Method m, Object[] args) throws Throwable {
            switch (m.getName()) {
                case "close":
                    if (!closed) {
                        closed = true;
                        ps.clearBatch();
                        ps.clearParameters();
                    }
                    return null;
                case "isClosed":
                    return closed;
                case "getConnection":
                    return keeping;
                default:
                    if (closed) {
                        throw new SQLException("statement is closed");
                    }
                    return SqliteStatements.invoke(ps, m, args);
            }
        }
    }

    private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    private static void closeQuietly(PreparedStatement ps) {
        try {
            ps.close();
        } catch (SQLException ignored) {
            // closing: nothing useful to do
        }
    }
}
