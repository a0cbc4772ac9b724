package io.celeriac.jdbc;

import io.celeriac.BrokerException;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import io.celeriac.spi.Settlement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The SQL broker: {@code sqlite:PATH} (the embedded one) and {@code postgresql://…}.
 *
 * <ul>
 *   <li>Features: priorities (lower first), ETA parking, leases with redelivery after
 *       {@code broker_recovery_timeout} (node heartbeats and revocations are {@link SqlCoordination}'s).</li>
 *   <li>A message is a row, deliverable once {@code available_at} (its ETA) has passed and it has no
 *       live lease: {@code leased_until} in the future. A lapsed lease makes it deliverable again with
 *       no sweeper. A claim writes only {@code owner}, {@code leased_until} and {@code deliveries},
 *       columns no PostgreSQL index holds, so it is a HOT update (no index entry written; the table
 *       keeps free room in each page for it): the indexes change only when a message is published
 *       or deleted. Leases are renewed by the ids this broker holds, not by an index on the owner.</li>
 *   <li>Reservation is one write transaction: the candidates are selected (on PostgreSQL with
 *       {@code FOR UPDATE SKIP LOCKED}, so consumers never wait on each other's rows; SQLite has one
 *       writer at a time) and claimed with one {@code UPDATE … RETURNING}, so two consumers can never
 *       hold the same message.</li>
 *   <li>Idle consumers wait for a change (SQLite: the file's change counter; PostgreSQL: a
 *       {@code NOTIFY} sent with each publish) or for the next ETA or lease to come due.</li>
 * </ul>
 */
final class SqlBroker implements Broker {
    private final SqlDatabase db;
    private final Duration lease;
    private final Clock clock;
    private final String url;
    private final String owner = UUID.randomUUID().toString();
    /** The ids this broker claimed and has not acked or given back (ids settled elsewhere drop out at the next renewal). */
    private final java.util.Set<Long> held = java.util.concurrent.ConcurrentHashMap.newKeySet();

    SqlBroker(SqlDatabase db, Duration lease, Clock clock, String url) {
        this.db = db;
        this.lease = lease;
        this.clock = clock;
        this.url = url;
    }

    private long now() {
        return clock.millis();
    }

    @Override
    public void publish(String queue, BrokerMessage m) {
        long now = now();
        run("publish to queue '" + queue + "'", () -> db.writeOne(c -> {
            insert(c, queue, m, now);
            return null;
        }, true));
    }

    /** All in one transaction: on PostgreSQL one INSERT of arrays, elsewhere one JDBC batch. */
    @Override
    public void publishAll(List<io.celeriac.spi.Publication> publications) {
        if (publications.isEmpty()) {
            return;
        }
        long now = now();
        run("publish " + publications.size() + " messages", () -> db.writeOne(c -> {
            insertAll(c, db, publications, now);
            return null;
        }, true));
        publications.clear();
    }

    /** Inserts messages inside the caller's transaction (or as one statement, on PostgreSQL). */
    static void insertAll(Connection c, SqlDatabase db, List<io.celeriac.spi.Publication> ps, long now) throws SQLException {
        if (ps.size() == 1) {
            insert(c, ps.get(0).queue(), ps.get(0).message(), now);
            return;
        }
        if (!db.arrays()) {
            try (PreparedStatement st = c.prepareStatement(
                    "INSERT INTO celeriac_messages (queue, priority, available_at, task_id, payload) VALUES (?, ?, ?, ?, ?)")) {
                for (io.celeriac.spi.Publication p : ps) {
                    bindMessage(st, p.queue(), p.message(), now);
                    st.addBatch();
                }
                st.executeBatch();
            }
            return;
        }
        int n = ps.size();
        Object[] queues = new Object[n];
        Object[] priorities = new Object[n];
        Object[] ats = new Object[n];
        Object[] taskIds = new Object[n];
        Object[] payloads = new Object[n];
        for (int i = 0; i < n; i++) {
            BrokerMessage m = ps.get(i).message();
            queues[i] = ps.get(i).queue();
            priorities[i] = m.priority();
            ats[i] = m.eta() == null ? now : Math.max(now, m.etaMillis());
            taskIds[i] = m.taskId();
            payloads[i] = m.payload();
        }
        // WITH ORDINALITY keeps the list's order in the ids (delivery order among equal priorities)
        try (PreparedStatement st = c.prepareStatement("INSERT INTO celeriac_messages (queue, priority, available_at, task_id, payload)"
                + " SELECT q, p, a, t, b FROM unnest(?::text[], ?::int[], ?::bigint[], ?::text[], ?::text[])"
                + " WITH ORDINALITY AS m(q, p, a, t, b, o) ORDER BY o")) {
            st.setArray(1, c.createArrayOf("text", queues));
            st.setArray(2, c.createArrayOf("integer", priorities));
            st.setArray(3, c.createArrayOf("bigint", ats));
            st.setArray(4, c.createArrayOf("text", taskIds));
            st.setArray(5, c.createArrayOf("text", payloads));
            st.executeUpdate();
        }
    }

    private static void bindMessage(PreparedStatement ps, String queue, BrokerMessage m, long now) throws SQLException {
        long at = m.eta() == null ? now : Math.max(now, m.etaMillis());
        ps.setString(1, queue);
        ps.setInt(2, m.priority());
        ps.setLong(3, at);
        ps.setString(4, m.taskId());
        ps.setString(5, m.payload());
    }

    /** Inserts a message inside the caller's transaction. */
    static void insert(Connection c, String queue, BrokerMessage m, long now) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO celeriac_messages (queue, priority, available_at, task_id, payload) VALUES (?, ?, ?, ?, ?)")) {
            bindMessage(ps, queue, m, now);
            ps.executeUpdate();
        }
    }

    @Override
    public List<Delivery> reserve(List<String> queues, int max, Duration wait) throws InterruptedException {
        if (queues.isEmpty() || max <= 0) {
            return List.of();
        }
        long deadline = System.nanoTime() + wait.toNanos();
        Connection watch;
        try {
            watch = db.borrow();
        } catch (SQLException e) {
            throw failure("reserve", e);
        }
        try {
            // Under load the queue is rarely empty: claim straight away. Only when that finds
            // nothing does the loop below poll, cheaply, for a change.
            List<Delivery> first = claim(queues, max);
            if (!first.isEmpty()) {
                return first;
            }
            long seenVersion = Long.MIN_VALUE;
            long nextDueMs = Long.MIN_VALUE;
            while (true) {
                long version = db.dataVersion(watch);
                // Only query when something was committed since the last look, or a parked
                // message / lapsed lease has come due: an idle poll is one cheap PRAGMA.
                if (version != seenVersion || now() >= nextDueMs) {
                    seenVersion = version;
                    Long due = nextDue(watch, queues);
                    if (due != null && due <= now()) {
                        List<Delivery> got = claim(queues, max);
                        if (!got.isEmpty()) {
                            return got;
                        }
                        continue; // another consumer won the race: look again
                    }
                    nextDueMs = due == null ? now() + 1000 : due;
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return List.of();
                }
                long untilDue = SqlDatabase.millisToNanos(Math.max(1, nextDueMs - now()));
                db.awaitChange(Math.min(left, Math.min(untilDue, db.pollNanos())));
            }
        } catch (SQLException e) {
            throw failure("reserve from " + queues, e);
        } finally {
            db.giveBack(watch);
        }
    }

    /**
     * When the queues' next message may be delivered — the earliest ETA of a message not leased, or
     * the earliest end of a lease — or null when they are empty. Two indexed probes per queue (SQLite's
     * min() shortcut does not apply across an IN list): the due index from its start, past the few
     * leased rows; and the leases, which are all among the rows already due (a message is claimed
     * only once due), a range that holds nothing else when no message could be claimed.
     */
    private Long nextDue(Connection c, List<String> queues) throws SQLException {
        Long min = null;
        long now = now();
        try (PreparedStatement eta = c.prepareStatement("SELECT available_at FROM celeriac_messages"
                + " WHERE queue = ? AND leased_until IS NULL ORDER BY available_at LIMIT 1");
             PreparedStatement leases = c.prepareStatement("SELECT MIN(leased_until) FROM celeriac_messages"
                     + " WHERE queue = ? AND available_at <= ? AND leased_until IS NOT NULL")) {
            for (String q : queues) {
                eta.setString(1, q);
                try (ResultSet rs = eta.executeQuery()) {
                    if (rs.next() && (min == null || rs.getLong(1) < min)) {
                        min = rs.getLong(1);
                    }
                }
                leases.setString(1, q);
                leases.setLong(2, now);
                try (ResultSet rs = leases.executeQuery()) {
                    if (rs.next()) {
                        long v = rs.getLong(1);
                        if (!rs.wasNull() && (min == null || v < min)) {
                            min = v;
                        }
                    }
                }
            }
        }
        return min;
    }

    private List<Delivery> claim(List<String> queues, int max) throws SQLException {
        long now = now();
        if (queues.size() == 1) {
            return db.writeOne(c -> claimOne(c, queues.get(0), max, now), false);
        }
        return db.write(c -> {
            // Candidates per queue in delivery order, then the best `max` of them overall; all inside
            // one write transaction, so no other consumer can claim them in between.
            List<long[]> candidates = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT priority, id FROM celeriac_messages"
                    + " WHERE queue = ? AND " + DELIVERABLE + " ORDER BY priority, id LIMIT ?" + db.lockSkipLocked())) {
                for (String q : queues) {
                    ps.setString(1, q);
                    ps.setLong(2, now);
                    ps.setLong(3, now);
                    ps.setInt(4, max);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            candidates.add(new long[] {rs.getLong(1), rs.getLong(2)});
                        }
                    }
                }
            }
            candidates.sort(Comparator.<long[]>comparingLong(o -> o[0]).thenComparingLong(o -> o[1]));
            List<long[]> chosen = candidates.subList(0, Math.min(max, candidates.size()));
            List<Delivery> out = new ArrayList<>(chosen.size());
            if (chosen.isEmpty()) {
                return out;
            }
            Map<Long, Delivery> byId = new HashMap<>();
            long[] ids = chosen.stream().mapToLong(cand -> cand[1]).toArray();
            try (PreparedStatement ps = c.prepareStatement("UPDATE celeriac_messages"
                    + " SET owner = ?, leased_until = ?, deliveries = deliveries + 1 WHERE id" + idIn(db, ids.length)
                    + " RETURNING id, queue, deliveries, payload" + db.leaseCommit())) {
                ps.setString(1, owner);
                ps.setLong(2, now + lease.toMillis());
                bindIds(c, db, ps, 3, ids);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        long id = rs.getLong(1);
                        held.add(id);
                        byId.put(id, new Delivery(rs.getString(2), rs.getString(4), Long.toString(id), rs.getInt(3)));
                    }
                }
            }
            for (long[] cand : chosen) { // RETURNING has no order: hand them out in queue order
                Delivery d = byId.get(cand[1]);
                if (d != null) {
                    out.add(d);
                }
            }
            return out;
        }, false);
    }

    @Override
    public void ack(List<Delivery> deliveries) {
        if (deliveries.isEmpty()) {
            return;
        }
        run("ack", () -> db.write(c -> {
            delete(c, deliveries);
            return null;
        }, false));
    }

    /**
     * The deliveries {@code batch} acked were deleted (by a settlement committed on this database):
     * no longer this broker's to renew (else they would be looked for by each renewal until then).
     */
    void settled(List<Settlement> batch) {
        for (Settlement s : batch) {
            if (s.acksDelivery()) {
                held.remove(Long.parseLong(s.delivery().tag()));
            }
        }
    }

    /** How many deliveries this broker renews (for tests). */
    int heldCount() {
        return held.size();
    }

    /** Deletes acked messages inside the caller's transaction. */
    void delete(Connection c, List<Delivery> deliveries) throws SQLException {
        long[] ids = deliveries.stream().mapToLong(d -> Long.parseLong(d.tag())).toArray();
        deleteReturning(c, db, ids);
        for (long id : ids) {
            held.remove(id);
        }
    }

    /**
     * Deletes the messages {@code ids} inside the caller's transaction, in id order (see renew), in
     * one statement; returns the ids that were still there.
     */
    static java.util.Set<Long> deleteReturning(Connection c, SqlDatabase db, long[] ids) throws SQLException {
        java.util.Set<Long> gone = new java.util.HashSet<>();
        if (ids.length == 0) {
            return gone;
        }
        long[] sorted = java.util.Arrays.stream(ids).sorted().distinct().toArray();
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM celeriac_messages WHERE id" + idIn(db, sorted.length)
                + " RETURNING id")) {
            bindIds(c, db, ps, 1, sorted);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    gone.add(rs.getLong(1));
                }
            }
        }
        return gone;
    }

    /**
     * Claims up to {@code max} due messages of one queue in a single statement (on PostgreSQL one
     * round trip in autocommit: the subquery locks its rows with SKIP LOCKED, the UPDATE takes them).
     */
    private List<Delivery> claimOne(Connection c, String queue, int max, long now) throws SQLException {
        List<long[]> order = new ArrayList<>();
        Map<Long, Delivery> byId = new HashMap<>();
        try (PreparedStatement ps = c.prepareStatement("UPDATE celeriac_messages"
                + " SET owner = ?, leased_until = ?, deliveries = deliveries + 1 WHERE id IN (SELECT id FROM celeriac_messages"
                + " WHERE queue = ? AND " + DELIVERABLE + " ORDER BY priority, id LIMIT ?" + db.lockSkipLocked() + ")"
                + " RETURNING id, queue, deliveries, payload, priority" + db.leaseCommit())) {
            ps.setString(1, owner);
            ps.setLong(2, now + lease.toMillis());
            ps.setString(3, queue);
            ps.setLong(4, now);
            ps.setLong(5, now);
            ps.setInt(6, max);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long id = rs.getLong(1);
                    held.add(id);
                    order.add(new long[] {rs.getLong(5), id});
                    byId.put(id, new Delivery(rs.getString(2), rs.getString(4), Long.toString(id), rs.getInt(3)));
                }
            }
        }
        order.sort(Comparator.<long[]>comparingLong(o -> o[0]).thenComparingLong(o -> o[1])); // RETURNING has no order
        List<Delivery> out = new ArrayList<>(order.size());
        order.forEach(o -> out.add(byId.get(o[1])));
        return out;
    }

    /** {@code " = ANY(?)"} where the database takes arrays (one prepared statement for any count), else {@code " IN (?, …)"}. */
    static String idIn(SqlDatabase db, int n) {
        return db.arrays() ? " = ANY(?)" : " IN (" + marks(n) + ")";
    }

    /** Binds {@code ids} from parameter {@code first} on, for {@link #idIn}. */
    static void bindIds(Connection c, SqlDatabase db, PreparedStatement ps, int first, long[] ids) throws SQLException {
        if (db.arrays()) {
            Long[] boxed = java.util.Arrays.stream(ids).boxed().toArray(Long[]::new);
            ps.setArray(first, c.createArrayOf("bigint", boxed));
            return;
        }
        for (int i = 0; i < ids.length; i++) {
            ps.setLong(first + i, ids[i]);
        }
    }

    SqlDatabase database() {
        return db;
    }

    @Override
    public void requeue(Delivery d) {
        long now = now();
        run("requeue", () -> db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "UPDATE celeriac_messages SET owner = NULL, leased_until = NULL,"
                    + " available_at = CASE WHEN available_at > ? THEN ? ELSE available_at END WHERE id = ? AND owner = ?")) {
                ps.setLong(1, now); // an ETA passed stays as it is (a HOT update); only a pre-lease row's is moved to now
                ps.setLong(2, now);
                ps.setLong(3, Long.parseLong(d.tag()));
                ps.setString(4, owner);
                return ps.executeUpdate();
            }
        }, true));
        held.remove(Long.parseLong(d.tag()));
    }

    @Override
    public void renew() {
        long now = now();
        long[] ids = held.stream().mapToLong(Long::longValue).sorted().toArray();
        if (ids.length == 0) {
            return;
        }
        java.util.Set<Long> live = run("renew leases", () -> db.write(c -> {
            // Only live leases are renewed: a lapsed one may already be another consumer's.
            // Rows are locked in id order (as acks delete them), so a renewal and an ack of the same
            // consumer on two connections cannot deadlock.
            java.util.Set<Long> renewed = new java.util.HashSet<>();
            for (int from = 0; from < ids.length; from += RENEW_CHUNK) {
                long[] part = java.util.Arrays.copyOfRange(ids, from, Math.min(ids.length, from + RENEW_CHUNK));
                try (PreparedStatement ps = c.prepareStatement("UPDATE celeriac_messages SET leased_until = ? WHERE id IN"
                        + " (SELECT id FROM celeriac_messages WHERE id" + idIn(db, part.length) + " AND owner = ? AND leased_until > ?"
                        + " ORDER BY id" + db.lockRows() + ") RETURNING id")) {
                    ps.setLong(1, now + lease.toMillis());
                    bindIds(c, db, ps, 2, part);
                    int next = db.arrays() ? 3 : 2 + part.length;
                    ps.setString(next, owner);
                    ps.setLong(next + 1, now);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            renewed.add(rs.getLong(1));
                        }
                    }
                }
            }
            return renewed;
        }, false));
        for (long id : ids) { // settled (or lapsed and taken) since: no longer this broker's to renew
            if (!live.contains(id)) {
                held.remove(id);
            }
        }
    }

    /** Ids per renewal statement (SQLite binds each as a parameter). */
    private static final int RENEW_CHUNK = 500;

    /**
     * A message that may be delivered now (two parameters, both now): its ETA passed and no live
     * lease. A row leased before {@code leased_until} existed (schema 2) has its lease end in
     * {@code available_at}, which the first half covers.
     */
    static final String DELIVERABLE = "available_at <= ? AND (leased_until IS NULL OR leased_until <= ?)";
    /** A message not in flight (one parameter, now): never claimed, given back, or its lease lapsed. */
    static final String WAITING = "(owner IS NULL OR COALESCE(leased_until, available_at) <= ?)";

    @Override
    public long purge(String queue) {
        long now = now();
        return run("purge queue '" + queue + "'", () -> db.write(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM celeriac_messages WHERE queue = ? AND " + WAITING)) {
                ps.setString(1, queue);
                ps.setLong(2, now);
                return (long) ps.executeUpdate();
            }
        }, false));
    }

    @Override
    public List<Scheduled> scheduled(String queue, int limit) {
        long now = now();
        return run("scheduled messages of queue '" + queue + "'", () -> db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT payload, available_at FROM celeriac_messages"
                    + " WHERE queue = ? AND owner IS NULL AND available_at > ? ORDER BY available_at LIMIT ?")) {
                ps.setString(1, queue);
                ps.setLong(2, now);
                ps.setInt(3, limit);
                List<Scheduled> out = new ArrayList<>();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        out.add(new Scheduled(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2))));
                    }
                }
                return out;
            }
        }));
    }

    @Override
    public long size(String queue) {
        long now = now();
        return run("size of queue '" + queue + "'", () -> db.read(c -> {
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT COUNT(*) FROM celeriac_messages WHERE queue = ? AND " + WAITING)) {
                ps.setString(1, queue);
                ps.setLong(2, now);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        }));
    }

    /** A claim or renewal at t holds until t + broker_recovery_timeout (renew renews only leases that have not lapsed). */
    @Override
    public Duration lease() {
        return lease;
    }

    @Override
    public String describe() {
        return url;
    }

    @Override
    public void close() {
        db.release();
    }

    private static String marks(int n) {
        return "?" + ",?".repeat(n - 1);
    }

    interface SqlCall<T> {
        T call() throws SQLException;
    }

    private <T> T run(String what, SqlCall<T> call) {
        try {
            return call.call();
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    private BrokerException failure(String what, SQLException e) {
        return SqlDatabase.failure(url + ": " + what + " failed: " + SqlDatabase.explain(e), e);
    }
}
