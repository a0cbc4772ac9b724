package io.celeriac;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.protocol.TaskResult;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The results of a group's tasks, in order (Celery's {@code GroupResult}). Saved in the result
 * store as Celery saves one ({@code celery-taskset-meta-<id>} on Redis), so it can be restored by id
 * in another process — Python's {@code GroupResult.restore} included.
 */
public final class GroupResult {
    private final String id;
    private final List<AsyncResult> results;

    public GroupResult(String id, List<AsyncResult> results) {
        this.id = Objects.requireNonNull(id);
        this.results = List.copyOf(results);
    }

    public String id() {
        return id;
    }

    /** The members' results, in group order. */
    public List<AsyncResult> results() {
        return results;
    }

    public int size() {
        return results.size();
    }

    /** How many members have finished (SUCCESS, FAILURE or REVOKED). */
    public int completedCount() {
        int n = 0;
        for (AsyncResult r : results) {
            if (r.ready()) {
                n++;
            }
        }
        return n;
    }

    /** True when every member has finished. */
    public boolean ready() {
        return completedCount() == results.size();
    }

    /** True when every member succeeded. */
    public boolean successful() {
        return results.stream().allMatch(r -> r.state() == TaskState.SUCCESS);
    }

    /** True when a member failed or was revoked. */
    public boolean failed() {
        return results.stream().anyMatch(r -> r.state() == TaskState.FAILURE || r.state() == TaskState.REVOKED);
    }

    /**
     * Waits up to {@code timeout} in all for every member and returns their values in order; the
     * first member that failed raises as {@link AsyncResult#get(Duration)} does (Celery's
     * {@code propagate=True}).
     */
    public List<JsonNode> get(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        List<JsonNode> out = new ArrayList<>(results.size());
        for (AsyncResult r : results) {
            long left = Math.max(0, deadline - System.nanoTime());
            out.add(r.get(Duration.ofNanos(left)));
        }
        return out;
    }

    /** The members' stored states (empty where nothing is stored yet). */
    public List<Optional<TaskResult>> metas() {
        return results.stream().map(AsyncResult::meta).toList();
    }

    @Override
    public String toString() {
        return id + results;
    }
}
