package io.celeriac.jdbc;

import io.celeriac.TaskState;
import io.celeriac.spi.LogFolder;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import io.celeriac.spi.TaskRecordText;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The task history in the SQL database (SQLite or PostgreSQL), log-structured: {@link #record} inserts a
 * batch as one row of {@code celeriac_task_history_log}, which has no index but its key; the log is folded
 * into table {@code celeriac_task_history}, one row per task id, later ({@link #fold}): by a background thread
 * after 256 batches ({@link LogFolder}), when the writer goes idle ({@link #settle}), and by every reader before
 * it reads. Both tables are made on first use (on PostgreSQL under an advisory lock, as processes start
 * together). A fold is a transaction of a few log rows: the stored rows of their ids are read, merged in Java
 * ({@link TaskRecord#merge}), written back with one upsert ({@code INSERT ... ON CONFLICT (id) DO UPDATE}) and the
 * log rows deleted; on PostgreSQL the ids are locked first (advisory transaction locks, in hash order) so two
 * folders of the same task do not lose each other's steps, and a background folder skips log rows another holds.
 *
 * <p>{@link #find} is one indexed query per page: every criterion (and name with state) has an
 * index that ends with {@code (updated, id)}, so the rows come in page order with no sort, and the
 * page after a cursor starts at {@code updated <= cursor} in the index (the ties at that edge
 * filtered by id), never at an offset. An id prefix that few ids have is a range of the primary
 * key, sorted; a common one is checked while walking an index in time order.
 */
final class SqlTaskHistory implements TaskHistory {
    static final String TABLE = "celeriac_task_history";
    private static final String SCHEMA_KEY = "task_history_schema";
    /** 1: the table and its indexes; 2: the log beside them. */
    private static final int SCHEMA = 2;
    /** Ids per read of stored rows, and rows per prune step (a short write transaction each). */
    private static final int CHUNK = 500;
    private static final int PRUNE_STEP = 5_000;
    /** An id prefix this many ids or fewer start with is searched on the primary key, a more common one in time order. */
    static final int FEW_WITH_PREFIX = 2_000;
    private static final String COLUMNS = "id, name, state, worker, queue, args, kwargs, result, exception, traceback, retries,"
            + " received, started, updated, runtime, parent_id, root_id, group_id, children, timeline";

    static final String LOG = TABLE + "_log";
    /** Log rows a fold's transaction takes. */
    private static final int FOLD_TAKE = 4;

    private final SqlDatabase db;
    private final String url;
    private final LogFolder folder;
    private volatile boolean ready;

    SqlTaskHistory(SqlDatabase db, String url) {
        this.db = db;
        this.url = url;
        this.folder = new LogFolder(url, this::foldInBackground);
        try {
            ensureTable();
        } catch (SQLException e) {
            if (!SqlDatabase.unreachable(e)) {
                db.release();
                throw SqlDatabase.failure(url + ": cannot make the task history table: " + SqlDatabase.explain(e), e);
            }
            // a server that is down: the table is made on first use
        }
    }

    private void ensureTable() throws SQLException {
        if (ready) {
            return;
        }
        boolean made = db.read(c -> schemaFound(c));
        if (!made) {
            db.write(c -> {
                try (Statement s = c.createStatement()) {
                    db.lockSchema(s, "celeriac task history");
                    if (schemaFound(c)) {
                        return null;
                    }
                    String id = db.bytewiseText();
                    s.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " ("
                            + " id " + id + " PRIMARY KEY, name TEXT, state TEXT NOT NULL, worker TEXT, queue TEXT,"
                            + " args TEXT, kwargs TEXT, result TEXT, exception TEXT, traceback TEXT, retries INTEGER NOT NULL,"
                            + " received BIGINT, started BIGINT, updated BIGINT NOT NULL, runtime DOUBLE PRECISION,"
                            + " parent_id TEXT, root_id TEXT, group_id TEXT, children TEXT, timeline TEXT)");
                    // Each criterion, then the page order: find reads a page straight off one index.
                    s.execute("CREATE INDEX IF NOT EXISTS " + TABLE + "_updated ON " + TABLE + " (updated, id)");
                    s.execute("CREATE INDEX IF NOT EXISTS " + TABLE + "_name ON " + TABLE + " (name, updated, id)");
                    s.execute("CREATE INDEX IF NOT EXISTS " + TABLE + "_state ON " + TABLE + " (state, updated, id)");
                    s.execute("CREATE INDEX IF NOT EXISTS " + TABLE + "_worker ON " + TABLE + " (worker, updated, id)");
                    // the dashboard's usual pair: one task's failures (or successes)
                    s.execute("CREATE INDEX IF NOT EXISTS " + TABLE + "_name_state ON " + TABLE + " (name, state, updated, id)");
                    // batches as recorded, folded into the table later (no index but the key)
                    s.execute("CREATE TABLE IF NOT EXISTS " + LOG + " (seq " + db.serialKey() + ", batch TEXT NOT NULL)");
                    try (PreparedStatement p = c.prepareStatement("INSERT INTO celeriac_meta (key, value) VALUES (?, ?)"
                            + " ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
                        p.setString(1, SCHEMA_KEY);
                        p.setString(2, Integer.toString(SCHEMA));
                        p.executeUpdate();
                    }
                }
                return null;
            }, false);
        }
        ready = true;
    }

    private static boolean schemaFound(Connection c) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT value FROM celeriac_meta WHERE key = ?")) {
            p.setString(1, SCHEMA_KEY);
            try (ResultSet rs = p.executeQuery()) {
                return rs.next() && Integer.parseInt(rs.getString(1).trim()) >= SCHEMA; // an older one is brought up to date
            }
        }
    }

    /**
     * Appends the batch to the log as one row ({@link TaskRecordText#element}): one insert into an unindexed table,
     * so a batch holds the database's write lock (SQLite's one writer) for about as long as one small insert.
     * The log is folded into the indexed table later ({@link #fold}).
     */
    @Override
    public void record(List<TaskRecord> batch) {
        if (batch.isEmpty()) {
            return;
        }
        String element = db.storable(TaskRecordText.element(batch)); // a NUL replaced by one char: the lengths hold
        try {
            ensureTable();
            db.write(c -> {
                try (PreparedStatement p = c.prepareStatement("INSERT INTO " + LOG + " (batch) VALUES (?)")) {
                    p.setString(1, element);
                    p.executeUpdate();
                }
                return null;
            }, false);
        } catch (SQLException e) {
            throw SqlDatabase.failure(url + ": recording " + batch.size() + " task(s) in the task history failed: "
                    + SqlDatabase.explain(e), e);
        }
        folder.appended(-1);
    }

    @Override
    public void settle() {
        folder.settle();
    }

    /** Before a read: the table made, and the log folded (a read sees every batch recorded before it). */
    private void readable() throws SQLException {
        ensureTable();
        boolean logged = db.read(c -> {
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 FROM " + LOG + " LIMIT 1")) {
                return rs.next();
            }
        });
        if (logged) {
            fold(true);
        }
    }

    /**
     * Folds the log into the indexed table, {@value #FOLD_TAKE} rows a transaction: they are read, their records
     * merged into the stored rows ({@link #index}) and deleted, all in one transaction, so a folder that dies leaves
     * them whole for the next. With {@code wait} (a reader) rows another transaction is folding are waited for and
     * it goes on until the log is empty; without (the background), they are skipped and left to that one.
     */
    void fold(boolean wait) throws SQLException {
        while (wait || !folder.closed()) {
            boolean more = db.write(c -> {
                List<Long> seqs = new ArrayList<>();
                List<String> elements = new ArrayList<>();
                try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT seq, batch FROM " + LOG
                        + " ORDER BY seq LIMIT " + FOLD_TAKE + (wait ? db.lockRows() : db.lockSkipLocked()))) {
                    while (rs.next()) {
                        seqs.add(rs.getLong(1));
                        elements.add(rs.getString(2));
                    }
                }
                if (seqs.isEmpty()) {
                    if (!wait) {
                        return false;
                    }
                    // rows another folder held may have gone, and FOR UPDATE then gives fewer: look again unlocked
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 FROM " + LOG + " LIMIT 1")) {
                        return rs.next();
                    }
                }
                List<TaskRecord> records = new ArrayList<>();
                for (TaskRecordText.Item it : TaskRecordText.items(elements, 0)) {
                    records.add(it.record());
                }
                index(c, records);
                try (PreparedStatement p = c.prepareStatement("DELETE FROM " + LOG + " WHERE seq IN ("
                        + "?,".repeat(seqs.size() - 1) + "?)")) {
                    for (int k = 0; k < seqs.size(); k++) {
                        p.setLong(k + 1, seqs.get(k));
                    }
                    p.executeUpdate();
                }
                return true;
            }, false);
            if (!more) {
                return;
            }
        }
    }

    /** The background fold: a failure is the folder's to log. */
    private void foldInBackground() {
        try {
            fold(false);
        } catch (SQLException e) {
            throw failure("indexing recorded tasks", e);
        }
    }

    /**
     * Merges records into the indexed table, in the caller's transaction: the stored rows of their ids are read,
     * merged in Java ({@link TaskRecord#merge}) and written back with one upsert; on PostgreSQL the ids are locked
     * first (advisory transaction locks, in hash order) so two folders of the same task do not lose each other's steps.
     */
    void index(Connection c, List<TaskRecord> batch) throws SQLException {
        if (batch.isEmpty()) {
            return;
        }
        // One record per id, merged in batch order, and the ids in one order for every writer.
        Map<String, TaskRecord> incoming = new LinkedHashMap<>();
        for (TaskRecord r : batch) {
            incoming.merge(r.id(), r, TaskRecord::merge);
        }
        List<String> ids = new ArrayList<>(incoming.keySet());
        ids.sort(Comparator.naturalOrder());
        db.lockKeys(c, "celeriac task history", ids);
        Map<String, TaskRecord> stored = new HashMap<>();
        for (int i = 0; i < ids.size(); i += CHUNK) {
            List<String> part = ids.subList(i, Math.min(ids.size(), i + CHUNK));
            try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM " + TABLE + " WHERE id IN ("
                    + "?,".repeat(part.size() - 1) + "?)")) {
                for (int k = 0; k < part.size(); k++) {
                    p.setString(k + 1, part.get(k));
                }
                try (ResultSet rs = p.executeQuery()) {
                    while (rs.next()) {
                        TaskRecord r = read(rs);
                        stored.put(r.id(), r);
                    }
                }
            }
        }
        try (PreparedStatement p = c.prepareStatement("INSERT INTO " + TABLE + " (" + COLUMNS + ") VALUES ("
                + "?,".repeat(19) + "?) ON CONFLICT (id) DO UPDATE SET name = excluded.name, state = excluded.state,"
                + " worker = excluded.worker, queue = excluded.queue, args = excluded.args, kwargs = excluded.kwargs,"
                + " result = excluded.result, exception = excluded.exception, traceback = excluded.traceback,"
                + " retries = excluded.retries, received = excluded.received, started = excluded.started,"
                + " updated = excluded.updated, runtime = excluded.runtime, parent_id = excluded.parent_id,"
                + " root_id = excluded.root_id, group_id = excluded.group_id, children = excluded.children,"
                + " timeline = excluded.timeline")) {
            for (String id : ids) {
                bind(p, TaskRecord.merge(stored.get(id), incoming.get(id)));
                p.addBatch();
            }
            p.executeBatch();
        }
    }

    private void bind(PreparedStatement p, TaskRecord r) throws SQLException {
        p.setString(1, r.id());
        p.setString(2, db.storable(r.name()));
        p.setString(3, r.state().name());
        p.setString(4, db.storable(r.worker()));
        p.setString(5, db.storable(r.queue()));
        p.setString(6, db.storable(r.args()));
        p.setString(7, db.storable(r.kwargs()));
        p.setString(8, db.storable(r.result()));
        p.setString(9, db.storable(r.exception()));
        p.setString(10, db.storable(r.traceback()));
        p.setInt(11, r.retries());
        setMicros(p, 12, r.received());
        setMicros(p, 13, r.started());
        p.setLong(14, r.updatedMicros());
        if (r.runtime() == null) {
            p.setNull(15, Types.DOUBLE);
        } else {
            p.setDouble(15, r.runtime());
        }
        p.setString(16, r.parentId());
        p.setString(17, r.rootId());
        p.setString(18, r.groupId());
        p.setString(19, r.children().isEmpty() ? null : TaskRecord.childrenJson(r.children()));
        p.setString(20, r.timeline().isEmpty() ? null : db.storable(TaskRecord.timelineJson(r.timeline())));
    }

    private static void setMicros(PreparedStatement p, int i, Instant t) throws SQLException {
        if (t == null) {
            p.setNull(i, Types.BIGINT);
        } else {
            p.setLong(i, TaskRecord.toMicros(t));
        }
    }

    private static TaskRecord read(ResultSet rs) throws SQLException {
        double runtime = rs.getDouble(15);
        Double rt = rs.wasNull() ? null : runtime;
        return new TaskRecord(rs.getString(1), rs.getString(2), TaskState.parse(rs.getString(3)), rs.getString(4),
                rs.getString(5), rs.getString(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                rs.getInt(11), micros(rs, 12), micros(rs, 13), TaskRecord.fromMicros(rs.getLong(14)), rt, rs.getString(16),
                rs.getString(17), rs.getString(18), TaskRecord.parseChildren(rs.getString(19)),
                TaskRecord.parseTimeline(rs.getString(20)));
    }

    private static Instant micros(ResultSet rs, int i) throws SQLException {
        long v = rs.getLong(i);
        return rs.wasNull() ? null : TaskRecord.fromMicros(v);
    }

    @Override
    public Optional<TaskRecord> get(String id) {
        try {
            readable();
            return db.read(c -> {
                try (PreparedStatement p = c.prepareStatement("SELECT " + COLUMNS + " FROM " + TABLE + " WHERE id = ?")) {
                    p.setString(1, id);
                    try (ResultSet rs = p.executeQuery()) {
                        return rs.next() ? Optional.of(read(rs)) : Optional.<TaskRecord>empty();
                    }
                }
            });
        } catch (SQLException e) {
            throw failure("reading task " + id, e);
        }
    }

    @Override
    public Page find(Query q) {
        StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM " + TABLE + " WHERE 1 = 1");
        List<Object> params = new ArrayList<>();
        if (q.name() != null) {
            sql.append(" AND name = ?");
            params.add(q.name());
        }
        if (q.state() != null) {
            sql.append(" AND state = ?");
            params.add(q.state().name());
        }
        if (q.worker() != null) {
            sql.append(" AND worker = ?");
            params.add(q.worker());
        }
        String order = " ORDER BY updated DESC, id DESC LIMIT ";
        if (q.idPrefix() != null && !q.idPrefix().isEmpty()) {
            if (fewWithPrefix(q)) {
                // A range of the primary key, sorted here (an expression is no index's order, so neither
                // planner walks the time index instead, whatever its statistics say).
                String upper = q.idPrefixEnd();
                sql.append(" AND id >= ?");
                params.add(q.idPrefix());
                if (upper != null) {
                    sql.append(" AND id < ?");
                    params.add(upper);
                }
                order = " ORDER BY updated + 0 DESC, id DESC LIMIT ";
            } else {
                // Many ids start so: walking an index in time order meets a page of them soon.
                sql.append(" AND substr(id, 1, ?) = ?");
                params.add(q.idPrefix().codePointCount(0, q.idPrefix().length()));
                params.add(q.idPrefix());
            }
        }
        if (q.from() != null) {
            sql.append(" AND updated >= ?");
            params.add(q.fromMicros());
        }
        if (q.to() != null) {
            sql.append(" AND updated < ?");
            params.add(q.toMicros());
        }
        Cursor after = q.after();
        if (after != null) {
            // "updated <= ?" alone bounds the index range (the OR only filters the ties at its top edge)
            sql.append(" AND updated <= ? AND (updated < ? OR id < ?)");
            params.add(after.updatedMicros());
            params.add(after.updatedMicros());
            params.add(after.id());
        }
        sql.append(order).append(q.limit() + 1);
        try {
            readable();
            List<TaskRecord> rows = db.read(c -> {
                try (PreparedStatement p = c.prepareStatement(sql.toString())) {
                    for (int i = 0; i < params.size(); i++) {
                        p.setObject(i + 1, params.get(i));
                    }
                    List<TaskRecord> out = new ArrayList<>();
                    try (ResultSet rs = p.executeQuery()) {
                        while (rs.next()) {
                            out.add(read(rs));
                        }
                    }
                    return out;
                }
            });
            if (rows.size() <= q.limit()) {
                return new Page(rows, null);
            }
            List<TaskRecord> page = rows.subList(0, q.limit());
            return new Page(page, Cursor.after(page.get(page.size() - 1)).text());
        } catch (SQLException e) {
            throw failure("searching", e);
        }
    }

    /** True when at most {@value #FEW_WITH_PREFIX} ids start with the query's prefix (a count off the primary key, stopped there). */
    private boolean fewWithPrefix(Query q) {
        String upper = q.idPrefixEnd();
        String sql = "SELECT count(*) FROM (SELECT 1 FROM " + TABLE + " WHERE id >= ?" + (upper == null ? "" : " AND id < ?")
                + " LIMIT " + (FEW_WITH_PREFIX + 1) + ") AS few";
        try {
            return db.read(c -> {
                try (PreparedStatement p = c.prepareStatement(sql)) {
                    p.setString(1, q.idPrefix());
                    if (upper != null) {
                        p.setString(2, upper);
                    }
                    try (ResultSet rs = p.executeQuery()) {
                        rs.next();
                        return rs.getLong(1) <= FEW_WITH_PREFIX;
                    }
                }
            });
        } catch (SQLException e) {
            throw failure("searching", e);
        }
    }

    @Override
    public long prune(Instant olderThan, long max) {
        long gone = 0;
        try {
            readable();
            long limit = TaskRecord.toMicros(olderThan);
            // In steps: each a short transaction, so workers recording meanwhile wait milliseconds, not seconds.
            while (true) {
                int n = db.write(c -> {
                    try (PreparedStatement p = c.prepareStatement("DELETE FROM " + TABLE + " WHERE id IN (SELECT id FROM " + TABLE
                            + " WHERE updated < ? ORDER BY updated LIMIT " + PRUNE_STEP + ")")) {
                        p.setLong(1, limit);
                        return p.executeUpdate();
                    }
                }, false);
                gone += n;
                if (n < PRUNE_STEP) {
                    break;
                }
            }
            long excess = count() - max;
            while (excess > 0) {
                long step = Math.min(excess, PRUNE_STEP);
                int n = db.write(c -> {
                    try (PreparedStatement p = c.prepareStatement("DELETE FROM " + TABLE + " WHERE id IN (SELECT id FROM " + TABLE
                            + " ORDER BY updated, id LIMIT " + step + ")")) {
                        return p.executeUpdate();
                    }
                }, false);
                gone += n;
                excess -= step;
                if (n == 0) {
                    break;
                }
            }
            return gone;
        } catch (SQLException e) {
            throw failure("pruning", e);
        }
    }

    @Override
    public long count() {
        try {
            readable();
            return db.read(c -> {
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + TABLE)) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
        } catch (SQLException e) {
            throw failure("counting", e);
        }
    }

    private io.celeriac.BrokerException failure(String what, SQLException e) {
        return new io.celeriac.BrokerException(url + ": task history: " + what + " failed: " + SqlDatabase.explain(e), true, e);
    }

    @Override
    public String describe() {
        return url;
    }

    @Override
    public void close() {
        folder.close();
        db.release();
    }
}
