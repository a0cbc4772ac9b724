package io.celeriac.jdbc;

import io.celeriac.TaskState;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Settlement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The common batch of a busy worker in one statement, where the database takes arrays
 * (PostgreSQL): every settlement acks its delivery and stores one result, nothing else (no message
 * to publish, no chord). The deliveries are deleted and the results of those still there stored by
 * one {@code WITH … DELETE … RETURNING} and {@code INSERT … SELECT}, in its own implicit
 * transaction: one round trip and one commit, all or nothing, as {@link SqlResultStore#settle}'s
 * general path, whose rules it keeps (a settlement whose delivery was settled already stores
 * nothing; a stored SUCCESS is final; a state that is not ready never replaces a ready one).
 */
final class SqlPlainSettle {
    /** The ready states ({@link TaskState#ready}), for the SQL. */
    private static final String READY = List.of(TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED).stream()
            .map(s -> "'" + s.name() + "'").collect(Collectors.joining(", "));

    private static final String SQL = "WITH gone AS (DELETE FROM celeriac_messages WHERE id = ANY(?) RETURNING id)"
            + " INSERT INTO celeriac_results (task_id, status, meta, expires_at)"
            + " SELECT r.t, r.s, r.m, ? FROM unnest(?::bigint[], ?::text[], ?::text[], ?::text[]) AS r(mid, t, s, m)"
            + " JOIN gone ON gone.id = r.mid"
            + " ON CONFLICT (task_id) DO UPDATE SET status = excluded.status, meta = excluded.meta,"
            + " expires_at = excluded.expires_at"
            + " WHERE (celeriac_results.status <> 'SUCCESS'"
            + " AND (excluded.status IN (" + READY + ") OR celeriac_results.status NOT IN (" + READY + ")))"
            + " OR celeriac_results.expires_at <= ?";

    private SqlPlainSettle() {
    }

    /** True when {@code batch} is plain: each settlement acks a delivery and stores one result, of a task no other in it names. */
    static boolean applies(SqlDatabase db, List<Settlement> batch) {
        if (!db.arrays()) {
            return false;
        }
        Set<String> tasks = new HashSet<>();
        Set<String> tags = new HashSet<>();
        for (Settlement s : batch) {
            if (!s.acksDelivery() || s.effects().results().size() != 1 || !s.effects().publications().isEmpty()
                    || !s.effects().chordSizes().isEmpty() || !s.chordParts().isEmpty()
                    || !tasks.add(s.effects().results().get(0).taskId()) || !tags.add(s.delivery().tag())) {
                return false;
            }
        }
        return true;
    }

    /** Runs it (the caller checked {@link #applies}). */
    static void run(Connection c, SqlDatabase db, List<Settlement> batch, long now, long expiresAt) throws SQLException {
        int n = batch.size();
        Object[] ids = new Object[n];
        Object[] tasks = new Object[n];
        Object[] states = new Object[n];
        Object[] metas = new Object[n];
        for (int i = 0; i < n; i++) {
            Settlement s = batch.get(i);
            TaskResult r = s.effects().results().get(0);
            ids[i] = Long.parseLong(s.delivery().tag());
            tasks[i] = r.taskId();
            states[i] = r.state().name();
            metas[i] = r.toJson();
        }
        Long[] sorted = Arrays.stream(ids).map(Long.class::cast).sorted().toArray(Long[]::new); // deleted in id order: see renew
        try (PreparedStatement ps = c.prepareStatement(SQL)) {
            ps.setArray(1, c.createArrayOf("bigint", sorted));
            ps.setLong(2, expiresAt);
            ps.setArray(3, c.createArrayOf("bigint", ids));
            ps.setArray(4, c.createArrayOf("text", tasks));
            ps.setArray(5, c.createArrayOf("text", states));
            ps.setArray(6, c.createArrayOf("text", metas));
            ps.setLong(7, now);
            ps.executeUpdate();
        }
    }
}
