package io.celeriac.spi;

import io.celeriac.TaskState;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The stored task history: what the dashboard lists and searches, kept in the result store's
 * database or Redis (so it survives a restart), for {@code task_history_retention} and at most
 * {@code task_history_max} records. Unlike results, every task is kept, whatever its
 * {@code ignore_result}. Opened by {@link Backends#openTaskHistory}.
 *
 * <p>Every store merges a record into the stored one of the same id: the later {@code updated}
 * wins for the latest fields, except that a ready state is never replaced by one that is not
 * ({@link ResultStore#replaces}); fields the new record leaves null keep their stored values;
 * timelines are joined (oldest first, no step twice); children are joined. {@link TaskRecord#merge} is that
 * rule (Redis's script does the same in Lua).
 *
 * <p>{@link #find} orders by {@code updated} newest first, then by id (descending) among records
 * updated in the same microsecond, and pages with a keyset {@link Cursor} (never an offset): a
 * page's {@code next} names the last record it gave, and the next page starts after it.
 */
public interface TaskHistory extends AutoCloseable {

    /** Stores (merges) a batch of records; a store that can does it in one round trip or transaction. */
    void record(List<TaskRecord> batch);

    /**
     * Makes what was {@linkplain #record recorded} searchable now rather than later, without blocking the
     * caller: a store that indexes as it records (memory) does nothing; a log-structured one (Redis's, the SQL
     * stores'), which appends batches to a log, starts indexing it. The worker's history writer calls it when it
     * goes idle. Readers
     * need not: {@link #get}, {@link #find}, {@link #count} and {@link #prune} see every record recorded before
     * they were called.
     */
    default void settle() {
    }

    /** The record of one task id. */
    Optional<TaskRecord> get(String id);

    /** Records matching {@code query}, newest {@code updated} first, a page at a time. */
    Page find(Query query);

    /** Drops records last updated before {@code olderThan}, then the oldest beyond {@code max}; returns how many went. */
    long prune(Instant olderThan, long max);

    /** How many records are stored. */
    long count();

    /** What this history is, for messages (its URL with any password masked). */
    String describe();

    @Override
    void close();

    /**
     * A search; every criterion left null matches all.
     *
     * @param idPrefix the task id or its start
     * @param name     the exact task name
     * @param state    the latest state
     * @param worker   the exact node name
     * @param from     updated at or after
     * @param to       updated before
     * @param limit    the page size (1 to 1000)
     * @param cursor   the {@link Page#next} of the page before, or null for the first page
     */
    record Query(String idPrefix, String name, TaskState state, String worker, Instant from, Instant to, int limit, String cursor) {
        public Query {
            if (limit < 1 || limit > 1000) {
                throw new IllegalArgumentException("limit must be 1 to 1000, got " + limit);
            }
        }

        /** The newest {@code limit} records. */
        public static Query latest(int limit) {
            return new Query(null, null, null, null, null, null, limit, null);
        }

        /** This query from {@code next} on (a {@link Page#next}). */
        public Query withCursor(String next) {
            return new Query(idPrefix, name, state, worker, from, to, limit, next);
        }

        /** True when {@code r} meets every criterion (the cursor aside). */
        public boolean matches(TaskRecord r) {
            return (idPrefix == null || r.id().startsWith(idPrefix)) && (name == null || name.equals(r.name()))
                    && (state == null || state.equals(r.state())) && (worker == null || worker.equals(r.worker()))
                    && (from == null || !r.updated().isBefore(from)) && (to == null || r.updated().isBefore(to));
        }

        /** {@code from} in epoch microseconds (rounded up, as records are kept to the microsecond), or null. */
        public Long fromMicros() {
            if (from == null) {
                return null;
            }
            long m = TaskRecord.toMicros(from);
            return from.getNano() % 1000 == 0 ? m : m + 1;
        }

        /** {@code to} in epoch microseconds (rounded up: before {@code to} is before this), or null. */
        public Long toMicros() {
            if (to == null) {
                return null;
            }
            long m = TaskRecord.toMicros(to);
            return to.getNano() % 1000 == 0 ? m : m + 1;
        }

        /**
         * The smallest string above every id that starts with {@link #idPrefix} (in code point
         * order, which is UTF-8's byte order), so that the prefix is the range
         * {@code [idPrefix, idPrefixEnd)}; null when there is no prefix or no such string.
         */
        public String idPrefixEnd() {
            if (idPrefix == null) {
                return null;
            }
            int[] cps = idPrefix.codePoints().toArray();
            for (int i = cps.length - 1; i >= 0; i--) {
                int next = cps[i] + 1;
                if (next >= Character.MIN_SURROGATE && next <= Character.MAX_SURROGATE) {
                    next = Character.MAX_SURROGATE + 1;
                }
                if (next <= Character.MAX_CODE_POINT) {
                    cps[i] = next;
                    return new String(cps, 0, i + 1);
                }
            }
            return null;
        }

        /** The parsed {@link #cursor}, or null on a first page. */
        public Cursor after() {
            return cursor == null ? null : Cursor.parse(cursor);
        }
    }

    /**
     * Where a page ended: the {@code updated} (epoch microseconds) and id of its last record. The
     * next page holds records strictly after it in the order: updated earlier, or updated the same
     * and a smaller id.
     *
     * @param updatedMicros the last record's {@code updated}, in epoch microseconds
     * @param id            the last record's id
     */
    record Cursor(long updatedMicros, String id) {
        /** The cursor after {@code last}. */
        public static Cursor after(TaskRecord last) {
            return new Cursor(last.updatedMicros(), last.id());
        }

        /** The text form, {@code MICROS:ID}, that {@link Page#next} carries. */
        public String text() {
            return updatedMicros + ":" + id;
        }

        /** The cursor of a {@link #text()}; anything else is an {@link IllegalArgumentException}. */
        public static Cursor parse(String text) {
            int colon = text.indexOf(':');
            try {
                if (colon > 0) {
                    return new Cursor(Long.parseLong(text.substring(0, colon)), text.substring(colon + 1));
                }
            } catch (NumberFormatException e) {
                // below
            }
            throw new IllegalArgumentException("not a task history cursor: '" + text + "'");
        }

        /** True when {@code r} comes after this cursor in the order (updated desc, id desc). */
        public boolean admits(TaskRecord r) {
            long u = r.updatedMicros();
            return u < updatedMicros || (u == updatedMicros && r.id().compareTo(id) < 0);
        }
    }

    /**
     * One page. A page may hold fewer than the query's limit and still name a {@code next}: a store
     * that stops at a work budget (Redis, for criteria its sets do not answer alone) says where to
     * go on; only a null {@code next} means there is nothing more.
     *
     * @param records the records, newest first
     * @param next    the cursor of the next page, or null when this was the last
     */
    record Page(List<TaskRecord> records, String next) {
        public Page {
            records = List.copyOf(records);
        }
    }
}
