package io.celeriac.redis;

import io.celeriac.TaskState;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The task history in Redis, under {@value #PREFIX}, log-structured: {@link #record} appends a batch to a
 * list ({@code log}) as one element and touches no index, so a task recorded costs Redis about nothing on the
 * task's path; the log is folded into the indexed layout later ({@link #fold}): by a background thread once it
 * holds {@value #FOLD_AT} batches or when the writer goes idle ({@link #settle}), and by every reader
 * (get, find, count, prune) before it reads, so a reader sees every batch recorded before it asked.
 *
 * <p>The indexed layout: a string per task ({@code rec:ID}, {@link #encode}), sorted sets of ids scored by
 * {@code updated} in epoch microseconds ({@code all}, and {@code name:N}, {@code state:S}, {@code worker:W} per
 * criterion) and a lexical set of ids ({@code ids}) for id prefixes. Records are merged here
 * ({@link TaskRecord#merge}) and written by one script per hundred ({@code history_record.lua}), each only if
 * the store still holds what it was merged with (nothing, for a task new to the store); one another writer
 * changed meanwhile comes back and is merged again. A page is one script ({@code history_find.lua}) that reads
 * the smallest matching set from the cursor on (by rank, so no set is read from its start), checking the other
 * criteria on the records' headers; pruning removes a record and its entry in every set.
 */
final class RedisTaskHistory implements TaskHistory {
    static final String PREFIX = "celeriac:history:";
    /** A batch goes to Redis in scripts of at most this many bytes of records (each script blocks Redis while it runs). */
    private static final int SCRIPT_BYTES = 4 << 20;
    /**
     * ... and of at most this many records: a script of them holds Redis for one to two milliseconds (12 to 18 µs a record),
     * so the broker's own calls are not kept waiting behind a worker's whole batch.
     */
    private static final int SCRIPT_RECORDS = 100;
    private static final int PRUNE_STEP = 5_000;
    /** The most entries one find call examines before it returns a short page with a cursor to go on from. */
    static final int FIND_BUDGET = 20_000;

    static final String LOG = PREFIX + "log";
    /**
     * The log's length, in batches, at which a writer starts indexing it in the background: a worker's batch is
     * at most 500 records (about 150 KiB of a no-op task's), so the log holds at most about 40 MiB before it is
     * indexed; a worker that goes idle has it indexed at once ({@link #settle}).
     */
    static final int FOLD_AT = 256;
    /** A fold's step: the batches it takes under one renewal of its lease. */
    private static final int FOLD_TAKE = 4;
    /** A folder's lease, renewed every step (a step of 4 batches takes well under a second). */
    private static final long FOLD_LEASE_MS = 10_000;
    /** How long a reader waits for another's fold before it folds what is left itself. */
    static final long FOLD_WAIT_MS = 2_000;
    private static final Logger log = LoggerFactory.getLogger("celeriac.history");

    private final RedisConnection redis;
    private final AtomicBoolean folding = new AtomicBoolean();
    private volatile Thread folder;
    private volatile boolean foldFailing;
    private volatile boolean closed;

    RedisTaskHistory(RedisConnection redis) {
        this.redis = redis;
    }

    /**
     * Appends the batch to the log as one element (its records {@linkplain #encode encoded}, each after its id,
     * both length-prefixed): one {@code RPUSH}, no index touched, so recording costs Redis about a microsecond
     * a batch. Once the log holds {@value #FOLD_AT} batches, a background thread indexes them ({@link #fold}).
     */
    @Override
    public void record(List<TaskRecord> batch) {
        if (batch.isEmpty()) {
            return;
        }
        StringBuilder b = new StringBuilder(batch.size() * 320);
        for (TaskRecord r : batch) {
            Item.of(r).appendTo(b);
        }
        String element = b.toString();
        long batches = redis.call("record " + batch.size() + " task(s) in the task history", c -> c.rpush(LOG, element));
        if (batches >= FOLD_AT) {
            foldInBackground();
        }
    }

    /**
     * A record as the log and the indexing script take it: its id, its {@code updated} in epoch microseconds (the
     * sets' score) and its {@linkplain #encode encoded} value, so that a record the log holds once is indexed as
     * it came, without being decoded and encoded again.
     */
    record Item(String id, long score, String value) {
        static Item of(TaskRecord r) {
            return new Item(r.id(), r.updatedMicros(), encode(r));
        }

        TaskRecord record() {
            return decode(id, value);
        }

        /** In a log element: the id's length, ':', the id, the score, ':', the value's length, ':', the value. */
        void appendTo(StringBuilder b) {
            b.append(id.length()).append(':').append(id).append(score).append(':').append(value.length()).append(':').append(value);
        }
    }

    /** The items of log elements ({@link #record}), in order. */
    static List<Item> items(List<?> elements, int from) {
        List<Item> out = new ArrayList<>();
        for (int i = from; i < elements.size(); i++) {
            String e = (String) elements.get(i);
            int pos = 0;
            while (pos < e.length()) {
                int colon = e.indexOf(':', pos);
                int end = colon + 1 + Integer.parseInt(e, pos, colon, 10);
                String id = e.substring(colon + 1, end);
                colon = e.indexOf(':', end);
                long score = Long.parseLong(e, end, colon, 10);
                int lengthEnd = e.indexOf(':', colon + 1);
                pos = lengthEnd + 1 + Integer.parseInt(e, colon + 1, lengthEnd, 10);
                out.add(new Item(id, score, e.substring(lengthEnd + 1, pos)));
            }
        }
        return out;
    }

    @Override
    public void settle() {
        foldInBackground();
    }

    /** Starts {@link #fold} on a thread of its own unless one of this instance's is at it already. */
    private void foldInBackground() {
        if (closed || !folding.compareAndSet(false, true)) {
            return;
        }
        Thread t = new Thread(() -> {
            try {
                fold(false);
                if (foldFailing) {
                    foldFailing = false;
                    log.info("task history: indexing recorded tasks again ({})", redis.safeUrl);
                }
            } catch (RuntimeException e) {
                if (!foldFailing) {
                    foldFailing = true;
                    log.warn("task history: cannot index recorded tasks ({}): {}; they stay in its log in Redis and are indexed on the next try",
                            redis.safeUrl, io.celeriac.protocol.LogText.escape(String.valueOf(e.getMessage())));
                }
            } finally {
                folding.set(false);
            }
        }, "celeriac-task-history-index");
        t.setDaemon(true);
        folder = t;
        t.start();
    }

    /**
     * Indexes the log: takes its oldest {@value #FOLD_TAKE} batches under a lease ({@code history_fold.lua}),
     * merges them into the stored records ({@link #index}), and trims them in the next step, until the log is
     * empty. One folder at a time (any process's); with {@code wait} (a reader, which must see everything
     * recorded before it asked) it waits up to {@value #FOLD_WAIT_MS} ms for another folder to finish, then takes
     * the lease over and folds from the head itself; without, it leaves the log to the other. A folder that dies mid-step leaves its batches
     * in the log; the next folder, once the lease ran out, indexes them again, which the merge makes harmless.
     */
    void fold(boolean wait) {
        String owner = UUID.randomUUID().toString();
        long giveUpAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FOLD_WAIT_MS);
        int done = 0;
        boolean steal = false;
        while (true) {
            if (closed && !wait) {
                return; // closing: the rest is left in the log for the next folder
            }
            List<String> args = List.of(PREFIX, owner, Long.toString(FOLD_LEASE_MS), Integer.toString(done), Integer.toString(FOLD_TAKE),
                    steal ? "1" : "0");
            List<?> reply = (List<?>) redis.call("index the task history's recorded tasks", c -> redis.script("history_fold", List.of(), args));
            long status = (Long) reply.get(0);
            if (status == 0) {
                return;
            }
            done = 0;
            steal = false;
            if (status == -1) { // another folder holds the lease
                if (!wait) {
                    return;
                }
                if (System.nanoTime() - giveUpAt > 0) {
                    giveUpAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FOLD_WAIT_MS); // two stealing readers take turns
                    steal = true; // it may have died holding it: fold from the head (again, harmlessly) rather than read stale
                    continue;
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                continue;
            }
            if (status == 1) {
                indexItems(items(reply, 1));
                done = reply.size() - 1;
            } // -2: this folder's lease ran out since its last step; it takes the head again
        }
    }

    /** Merges records into the indexed layout (history_record.lua), however many writers do so at once. */
    void index(List<TaskRecord> batch) {
        indexItems(batch.stream().map(Item::of).toList());
    }

    private void indexItems(List<Item> batch) {
        if (batch.isEmpty()) {
            return;
        }
        Map<String, Item> incoming = new LinkedHashMap<>(); // one per id, timelines in order; one seen once is not decoded
        for (Item it : batch) {
            incoming.merge(it.id(), it, (a, b) -> Item.of(TaskRecord.merge(a.record(), b.record())));
        }
        // Each record is written if the store holds what it was merged with (at first: nothing); those the
        // store holds another value of come back, are merged with it (TaskRecord.merge) and written again.
        Map<String, Item> writing = incoming;
        Map<String, String> expected = new HashMap<>(); // id -> the stored value a record was merged with
        for (int round = 1; !writing.isEmpty(); round++) {
            if (round > MERGE_ROUNDS) {
                throw new IllegalStateException("task history: records " + writing.keySet()
                        + " kept changing while they were merged; not written");
            }
            Map<String, String> held = write(writing, expected);
            Map<String, Item> again = new LinkedHashMap<>();
            held.forEach((id, now) -> {
                Item in = incoming.get(id);
                again.put(id, now.isEmpty() ? in : Item.of(TaskRecord.merge(decode(id, now), in.record())));
                expected.put(id, now);
            });
            writing = again;
        }
    }

    /** How many times a batch's records are merged again with what another writer stored meanwhile. */
    private static final int MERGE_ROUNDS = 50;

    /** Writes the records (in scripts of at most SCRIPT_BYTES); returns what the store holds of those it did not write. */
    private Map<String, String> write(Map<String, Item> records, Map<String, String> expected) {
        Map<String, String> held = new HashMap<>();
        List<String> args = new ArrayList<>();
        args.add(PREFIX);
        long bytes = 0;
        for (Item r : records.values()) {
            String value = r.value();
            String was = expected.getOrDefault(r.id(), "");
            long size = value.length() + was.length();
            if (args.size() > 1 && (bytes + size > SCRIPT_BYTES || args.size() > SCRIPT_RECORDS * 4)) {
                run(args, held);
                args = new ArrayList<>(List.of(PREFIX));
                bytes = 0;
            }
            args.add(r.id());
            args.add(was.isEmpty() ? "" : "=" + was);
            args.add(Long.toString(r.score()));
            args.add(value);
            bytes += size;
        }
        run(args, held);
        return held;
    }

    private void run(List<String> args, Map<String, String> held) {
        List<?> reply = (List<?>) redis.call("record " + (args.size() - 1) / 4 + " task(s) in the task history",
                c -> redis.script("history_record", List.of(), args));
        for (int i = 0; i + 1 < reply.size(); i += 2) {
            held.put((String) reply.get(i), (String) reply.get(i + 1));
        }
    }

    /** The fields of a stored record, in {@link #fields} order. */
    private static final int FIELDS = 19;

    private static String[] fields(TaskRecord r) {
        return new String[] {r.name(), r.state().name(), r.worker(), r.queue(), r.args(), r.kwargs(), r.result(), r.exception(),
                r.traceback(), Integer.toString(r.retries()), micros(r.received()), micros(r.started()),
                Long.toString(r.updatedMicros()), runtime(r.runtime()), r.parentId(), r.rootId(),
                r.groupId(), r.children().isEmpty() ? null : TaskRecord.childrenJson(r.children()),
                r.timeline().isEmpty() ? null : TaskRecord.timelineJson(r.timeline())};
    }

    /**
     * A record as it is stored: a header the scripts read (name, state and worker, {@linkplain #escape escaped},
     * each ending in a newline), then every field in {@link #fields} order, each as its length in chars, ':' and
     * the text, or '-' for null. One string a record: Redis writes it in one step (a hash of 19 fields costs
     * it several times as much), and only this class reads it whole.
     */
    static String encode(TaskRecord r) {
        StringBuilder b = new StringBuilder(256);
        b.append(escape(r.name())).append('\n').append(escape(r.state().name())).append('\n').append(escape(r.worker())).append('\n');
        for (String v : fields(r)) {
            if (v == null) {
                b.append('-');
            } else {
                b.append(v.length()).append(':').append(v);
            }
        }
        return b.toString();
    }

    /** The record {@link #encode} wrote. */
    static TaskRecord decode(String id, String v) {
        int pos = 0;
        for (int k = 0; k < 3; k++) {
            pos = v.indexOf('\n', pos) + 1;
        }
        String[] f = new String[FIELDS];
        for (int k = 0; k < FIELDS; k++) {
            if (v.charAt(pos) == '-') {
                pos++;
                continue;
            }
            int colon = v.indexOf(':', pos);
            int len = Integer.parseInt(v, pos, colon, 10);
            f[k] = v.substring(colon + 1, colon + 1 + len);
            pos = colon + 1 + len;
        }
        return new TaskRecord(id, f[0], TaskState.parse(f[1]), f[2], f[3], f[4], f[5], f[6], f[7], f[8],
                f[9] == null ? 0 : Integer.parseInt(f[9]), instant(f[10]), instant(f[11]), instant(f[12]),
                f[13] == null ? null : Double.valueOf(f[13]), f[14], f[15], f[16], TaskRecord.parseChildren(f[17]),
                TaskRecord.parseTimeline(f[18]));
    }

    /**
     * A name, state or worker as the header and the sets' keys hold it: '\' as "\\" and a newline as "\n"
     * (so the header's newlines end its fields), '' for null.
     */
    static String escape(String v) {
        if (v == null) {
            return "";
        }
        if (v.indexOf('\\') < 0 && v.indexOf('\n') < 0) {
            return v;
        }
        return v.replace("\\", "\\\\").replace("\n", "\\n");
    }

    /**
     * A runtime as Double.valueOf reads it back: one kept to the microsecond (as the worker records them)
     * written by hand, which is many times cheaper than Double.toString; any other as Double.toString.
     */
    static String runtime(Double runtime) {
        if (runtime == null) {
            return null;
        }
        double v = runtime;
        long us = Math.round(v * 1e6);
        if (v < 0 || us >= 1L << 52 || us / 1e6 != v) {
            return Double.toString(v);
        }
        String frac = Long.toString(1_000_000 + us % 1_000_000); // "1" and six digits
        int end = frac.length();
        while (end > 2 && frac.charAt(end - 1) == '0') {
            end--;
        }
        return (us / 1_000_000) + "." + frac.substring(1, end);
    }

    private static String micros(Instant t) {
        return t == null ? null : Long.toString(TaskRecord.toMicros(t));
    }

    private static Instant instant(String v) {
        return v == null ? null : TaskRecord.fromMicros(Long.parseLong(v));
    }

    @Override
    public Optional<TaskRecord> get(String id) {
        fold(true);
        String v = redis.call("read task " + id + " from the task history", c -> c.get(PREFIX + "rec:" + id));
        return v == null ? Optional.empty() : Optional.of(decode(id, v));
    }

    @Override
    public Page find(Query q) {
        fold(true);
        Cursor after = q.after();
        String max = "+inf";
        if (q.to() != null) {
            max = "(" + q.toMicros();
        }
        if (after != null && (q.to() == null || after.updatedMicros() < q.toMicros())) {
            max = Long.toString(after.updatedMicros());
        }
        String prefix = q.idPrefix() == null || q.idPrefix().isEmpty() ? null : q.idPrefix();
        String upper = prefix == null ? null : q.idPrefixEnd();
        List<String> args = List.of(PREFIX, Integer.toString(q.limit() + 1), max, q.from() == null ? "-inf" : Long.toString(q.fromMicros()),
                after == null ? "" : Long.toString(after.updatedMicros()), after == null ? "" : after.id(), opt(q.name() == null ? null : escape(q.name())),
                opt(q.state() == null ? null : escape(q.state().name())), opt(q.worker() == null ? null : escape(q.worker())),
                opt(prefix), opt(upper),
                Integer.toString(FIND_BUDGET));
        List<?> reply = (List<?>) redis.call("search the task history", c -> redis.script("history_find", List.of(), args));
        List<TaskRecord> found = new ArrayList<>();
        for (int i = 2; i + 1 < reply.size(); i += 2) {
            if (reply.get(i + 1) instanceof String v) { // null: it went after the script found it
                found.add(decode((String) reply.get(i), v));
            }
        }
        if (found.size() > q.limit()) {
            List<TaskRecord> page = found.subList(0, q.limit());
            return new Page(page, Cursor.after(page.get(page.size() - 1)).text());
        }
        String resumeId = (String) reply.get(0);
        if (!resumeId.isEmpty()) { // the script stopped at its budget: go on from the last entry it looked at
            long score = (long) Double.parseDouble((String) reply.get(1));
            return new Page(found, new Cursor(score, resumeId).text());
        }
        return new Page(found, null);
    }

    private static String opt(String v) {
        return v == null ? "" : "=" + v;
    }

    @Override
    public long prune(Instant olderThan, long max) {
        fold(true);
        long gone = 0;
        String before = Long.toString(TaskRecord.toMicros(olderThan));
        while (true) {
            List<?> r = (List<?>) redis.call("prune the task history", c -> redis.script("history_prune", List.of(),
                    List.of(PREFIX, before, Long.toString(max), Integer.toString(PRUNE_STEP))));
            gone += ((Number) r.get(0)).longValue();
            if (((Number) r.get(1)).longValue() == 0) {
                return gone;
            }
        }
    }

    @Override
    public long count() {
        fold(true);
        return redis.call("count the task history", c -> c.zcard(PREFIX + "all"));
    }

    @Override
    public String describe() {
        return redis.safeUrl;
    }

    @Override
    public void close() {
        closed = true;
        Thread t = folder;
        if (t != null) {
            try {
                t.join(10_000); // a fold under way finishes its step (what it has not trimmed is indexed again later)
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        redis.release();
    }
}
