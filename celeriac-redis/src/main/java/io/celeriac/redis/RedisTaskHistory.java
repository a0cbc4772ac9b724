package io.celeriac.redis;

import io.celeriac.spi.LogFolder;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import io.celeriac.spi.TaskRecordText;
import io.celeriac.spi.TaskRecordText.Item;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * The task history in Redis, under {@value #PREFIX}, log-structured: {@link #record} appends a batch to a
 * list ({@code log}) as one element and touches no index, so a task recorded costs Redis about nothing on the
 * task's path; the log is folded into the indexed layout later ({@link #fold}): by a background thread once it
 * holds {@value LogFolder#FOLD_AT} batches or when the writer goes idle ({@link #settle}), and by every reader
 * (get, find, count, prune) before it reads, so a reader sees every batch recorded before it asked.
 *
 * <p>The indexed layout: a string per task ({@code rec:ID}, {@link TaskRecordText#encode}), sorted sets of ids scored by
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
    /** A fold's step: the batches it takes under one renewal of its lease. */
    private static final int FOLD_TAKE = 4;
    /** A folder's lease, renewed every step (a step of 4 batches takes well under a second). */
    private static final long FOLD_LEASE_MS = 10_000;
    /** How long a reader waits for another's fold before it takes the lease over. */
    static final long FOLD_WAIT_MS = 2_000;

    private final RedisConnection redis;
    private final LogFolder folder;

    RedisTaskHistory(RedisConnection redis) {
        this.redis = redis;
        this.folder = new LogFolder(redis.safeUrl, () -> fold(false));
    }

    /**
     * Appends the batch to the log as one element ({@link TaskRecordText#element}: each record's id, score and
     * encoded value): one {@code RPUSH}, no index touched, so recording costs Redis about a microsecond
     * a batch. Once the log holds {@value LogFolder#FOLD_AT} batches, a background thread indexes them ({@link #fold}).
     */
    @Override
    public void record(List<TaskRecord> batch) {
        if (batch.isEmpty()) {
            return;
        }
        String element = TaskRecordText.element(batch);
        long batches = redis.call("record " + batch.size() + " task(s) in the task history", c -> c.rpush(LOG, element));
        folder.appended(batches);
    }

    @Override
    public void settle() {
        folder.settle();
    }

    /**
     * Indexes the log: takes its oldest {@value #FOLD_TAKE} batches under a lease ({@code history_fold.lua}),
     * merges them into the stored records ({@link #index}), and trims them in the next step, until the log is
     * empty. One folder at a time (any process's); with {@code wait} (a reader, which must see everything
     * recorded before it asked) it waits up to {@value #FOLD_WAIT_MS} ms for another folder to finish, then takes
     * the lease over and folds from the head itself; without, it leaves the log to the other. A folder that dies
     * mid-step leaves its batches in the log; the next folder indexes them again, which the merge makes harmless.
     */
    void fold(boolean wait) {
        String owner = UUID.randomUUID().toString();
        long giveUpAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(FOLD_WAIT_MS);
        int done = 0;
        boolean steal = false;
        while (true) {
            if (!wait && folder.closed()) {
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
                indexItems(TaskRecordText.items(reply, 1));
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
                again.put(id, now.isEmpty() ? in : Item.of(TaskRecord.merge(TaskRecordText.decode(id, now), in.record())));
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

    @Override
    public Optional<TaskRecord> get(String id) {
        fold(true);
        String v = redis.call("read task " + id + " from the task history", c -> c.get(PREFIX + "rec:" + id));
        return v == null ? Optional.empty() : Optional.of(TaskRecordText.decode(id, v));
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
                after == null ? "" : Long.toString(after.updatedMicros()), after == null ? "" : after.id(), opt(q.name() == null ? null : TaskRecordText.escape(q.name())),
                opt(q.state() == null ? null : TaskRecordText.escape(q.state().name())), opt(q.worker() == null ? null : TaskRecordText.escape(q.worker())),
                opt(prefix), opt(upper),
                Integer.toString(FIND_BUDGET));
        List<?> reply = (List<?>) redis.call("search the task history", c -> redis.script("history_find", List.of(), args));
        List<TaskRecord> found = new ArrayList<>();
        for (int i = 2; i + 1 < reply.size(); i += 2) {
            if (reply.get(i + 1) instanceof String v) { // null: it went after the script found it
                found.add(TaskRecordText.decode((String) reply.get(i), v));
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
        folder.close(); // a fold under way finishes its step (what it has not trimmed is indexed again later)
        redis.release();
    }
}
