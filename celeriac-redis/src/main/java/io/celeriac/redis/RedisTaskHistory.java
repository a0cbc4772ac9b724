package io.celeriac.redis;

import io.celeriac.TaskState;
import io.celeriac.spi.TaskHistory;
import io.celeriac.spi.TaskRecord;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The task history in Redis, under {@value #PREFIX}: a hash per task ({@code task:ID}), sorted sets
 * of ids scored by {@code updated} in epoch microseconds ({@code all}, and {@code name:N},
 * {@code state:S}, {@code worker:W} per criterion) and a lexical set of ids ({@code ids}) for id
 * prefixes. A batch is merged by one script ({@code history_record.lua}, {@link TaskRecord#merge}'s
 * rule in Lua), atomically; a page is one script ({@code history_find.lua}) that reads the smallest
 * matching set from the cursor on (by rank, so no set is read from its start), checking the other
 * criteria on the hashes; pruning removes a record from its hash and every set.
 */
final class RedisTaskHistory implements TaskHistory {
    static final String PREFIX = "celeriac:history:";
    /** A batch goes to Redis in scripts of at most this many bytes of records (each script blocks Redis while it runs). */
    private static final int SCRIPT_BYTES = 4 << 20;
    private static final int PRUNE_STEP = 5_000;
    /** The most entries one find call examines before it returns a short page with a cursor to go on from. */
    static final int FIND_BUDGET = 20_000;

    private final RedisConnection redis;

    RedisTaskHistory(RedisConnection redis) {
        this.redis = redis;
    }

    @Override
    public void record(List<TaskRecord> batch) {
        if (batch.isEmpty()) {
            return;
        }
        Map<String, TaskRecord> incoming = new LinkedHashMap<>(); // one per id, timelines in order
        for (TaskRecord r : batch) {
            incoming.put(r.id(), TaskRecord.merge(incoming.get(r.id()), r));
        }
        List<String> args = new ArrayList<>();
        args.add(PREFIX);
        long bytes = 0;
        for (TaskRecord r : incoming.values()) {
            List<String> values = values(r);
            long size = 0;
            for (String v : values) {
                size += v.length();
            }
            if (args.size() > 1 && bytes + size > SCRIPT_BYTES) {
                run(args);
                args = new ArrayList<>(List.of(PREFIX));
                bytes = 0;
            }
            args.addAll(values);
            bytes += size;
        }
        run(args);
    }

    private void run(List<String> args) {
        redis.call("record " + (args.size() - 1) / (FIELDS + 2) + " task(s) in the task history",
                c -> redis.script("history_record", List.of(), args));
    }

    /** The fields of history_record.lua, in order. */
    private static final int FIELDS = 19;

    /**
     * A record as history_record.lua takes it: the id, which fields it has (a character per field,
     * '1' for a value, '0' for null), then each field in that order ('' for null).
     */
    private static List<String> values(TaskRecord r) {
        String[] v = {r.name(), r.state().name(), r.worker(), r.queue(), r.args(), r.kwargs(), r.result(), r.exception(),
                r.traceback(), Integer.toString(r.retries()), micros(r.received()), micros(r.started()),
                Long.toString(r.updatedMicros()), runtime(r.runtime()), r.parentId(), r.rootId(),
                r.groupId(), r.children().isEmpty() ? null : TaskRecord.childrenJson(r.children()),
                r.timeline().isEmpty() ? null : TaskRecord.timelineJson(r.timeline())};
        List<String> out = new ArrayList<>(FIELDS + 2);
        out.add(r.id());
        char[] has = new char[FIELDS];
        out.add(null); // the mask, below
        for (int k = 0; k < FIELDS; k++) {
            has[k] = v[k] == null ? '0' : '1';
            out.add(v[k] == null ? "" : v[k]);
        }
        out.set(1, new String(has));
        return out;
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

    private static TaskRecord read(String id, Map<String, String> f) {
        return new TaskRecord(id, f.get("name"), TaskState.parse(f.get("state")), f.get("worker"), f.get("queue"), f.get("args"),
                f.get("kwargs"), f.get("result"), f.get("exception"), f.get("traceback"),
                f.get("retries") == null ? 0 : Integer.parseInt(f.get("retries")), instant(f.get("received")),
                instant(f.get("started")), instant(f.get("updated")), f.get("runtime") == null ? null : Double.valueOf(f.get("runtime")),
                f.get("parent_id"), f.get("root_id"), f.get("group_id"), TaskRecord.parseChildren(f.get("children")),
                TaskRecord.parseTimeline(f.get("timeline")));
    }

    private static Instant instant(String v) {
        return v == null ? null : TaskRecord.fromMicros(Long.parseLong(v));
    }

    @Override
    public Optional<TaskRecord> get(String id) {
        Map<String, String> f = redis.call("read task " + id + " from the task history", c -> c.hgetAll(PREFIX + "task:" + id));
        return f == null || f.isEmpty() ? Optional.empty() : Optional.of(read(id, f));
    }

    @Override
    public Page find(Query q) {
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
                after == null ? "" : Long.toString(after.updatedMicros()), after == null ? "" : after.id(), opt(q.name()),
                opt(q.state() == null ? null : q.state().name()), opt(q.worker()), opt(prefix), opt(upper),
                Integer.toString(FIND_BUDGET));
        List<?> reply = (List<?>) redis.call("search the task history", c -> redis.script("history_find", List.of(), args));
        List<TaskRecord> found = new ArrayList<>();
        for (int i = 2; i + 1 < reply.size(); i += 2) {
            List<?> flat = (List<?>) reply.get(i + 1);
            Map<String, String> f = new LinkedHashMap<>();
            for (int k = 0; k + 1 < flat.size(); k += 2) {
                f.put((String) flat.get(k), (String) flat.get(k + 1));
            }
            if (!f.isEmpty()) {
                found.add(read((String) reply.get(i), f));
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
        return redis.call("count the task history", c -> c.zcard(PREFIX + "all"));
    }

    @Override
    public String describe() {
        return redis.safeUrl;
    }

    @Override
    public void close() {
        redis.release();
    }
}
