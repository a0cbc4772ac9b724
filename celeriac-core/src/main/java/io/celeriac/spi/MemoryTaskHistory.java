package io.celeriac.spi;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.TreeSet;

/**
 * A task history in this JVM's heap: the {@code memory://} backend's (one per store name, shared by
 * every instance opened on it), and a ready-made one for tests. Thread-safe; nothing survives the
 * process.
 */
public final class MemoryTaskHistory implements TaskHistory {
    /** The order of {@link TaskHistory#find}: updated newest first, then the larger id. */
    private static final Comparator<TaskRecord> NEWEST_FIRST = Comparator.comparingLong(TaskRecord::updatedMicros).reversed()
            .thenComparing(TaskRecord::id, Comparator.reverseOrder());

    private final Map<String, TaskRecord> byId = new HashMap<>();
    private final NavigableSet<TaskRecord> ordered = new TreeSet<>(NEWEST_FIRST);
    private final String describe;

    /** An empty history, described as {@code describe} in messages. */
    public MemoryTaskHistory(String describe) {
        this.describe = describe;
    }

    /** An empty history. */
    public MemoryTaskHistory() {
        this("memory task history");
    }

    @Override
    public synchronized void record(List<TaskRecord> batch) {
        for (TaskRecord r : batch) {
            TaskRecord stored = byId.get(r.id());
            TaskRecord merged = TaskRecord.merge(stored, r);
            if (stored != null) {
                ordered.remove(stored);
            }
            byId.put(merged.id(), merged);
            ordered.add(merged);
        }
    }

    @Override
    public synchronized Optional<TaskRecord> get(String id) {
        return Optional.ofNullable(byId.get(id));
    }

    @Override
    public synchronized Page find(Query q) {
        Cursor after = q.after();
        List<TaskRecord> out = new ArrayList<>();
        for (TaskRecord r : ordered) {
            if ((after == null || after.admits(r)) && q.matches(r)) {
                if (out.size() == q.limit()) {
                    return new Page(out, Cursor.after(out.get(out.size() - 1)).text());
                }
                out.add(r);
            }
        }
        return new Page(out, null);
    }

    @Override
    public synchronized long prune(Instant olderThan, long max) {
        long gone = 0;
        long limit = TaskRecord.toMicros(olderThan);
        while (!ordered.isEmpty() && (ordered.last().updatedMicros() < limit || ordered.size() > max)) {
            byId.remove(ordered.pollLast().id());
            gone++;
        }
        return gone;
    }

    @Override
    public synchronized long count() {
        return byId.size();
    }

    @Override
    public String describe() {
        return describe;
    }

    /** Nothing to close: the records stay for the next instance on the same store. */
    @Override
    public void close() {
    }
}
