package io.celeriac.spi;

import io.celeriac.TaskState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * A {@link TaskRecord} as text, for the stores that keep a record as one value (Redis's strings) or a batch as one
 * value (the log of a log-structured history: Redis's list, the SQL stores' log table): {@link #encode} and
 * {@link #decode}, and a batch as one log element of {@link Item}s ({@link #element}, {@link #items}).
 */
public final class TaskRecordText {
    private TaskRecordText() {
    }

    /**
     * A record as the log and the indexing script take it: its id, its {@code updated} in epoch microseconds (the
     * sets' score) and its {@linkplain #encode encoded} value, so that a record the log holds once is indexed as
     * it came, without being decoded and encoded again.
     */
    public record Item(String id, long score, String value) {
        /** The item of a record. */
        public static Item of(TaskRecord r) {
            return new Item(r.id(), r.updatedMicros(), encode(r));
        }

        /** The record it holds, decoded. */
        public TaskRecord record() {
            return decode(id, value);
        }

        /** In a log element: the id's length, ':', the id, the score, ':', the value's length, ':', the value. */
        public void appendTo(StringBuilder b) {
            b.append(id.length()).append(':').append(id).append(score).append(':').append(value.length()).append(':').append(value);
        }
    }

    /** A batch as one log element: its records' items, one after another. */
    public static String element(List<TaskRecord> batch) {
        StringBuilder b = new StringBuilder(batch.size() * 320);
        for (TaskRecord r : batch) {
            Item.of(r).appendTo(b);
        }
        return b.toString();
    }

    /** The items of log elements ({@link #element}), in order, from {@code elements.get(from)} on. */
    public static List<Item> items(List<?> elements, int from) {
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
    public static String encode(TaskRecord r) {
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
    public static TaskRecord decode(String id, String v) {
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
    public static String escape(String v) {
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
    public static String runtime(Double runtime) {
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
}
