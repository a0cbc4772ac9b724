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
 *
 * <pre>{@code
 * GroupResult g = app.applyGroup(Canvas.group(Signature.of("add", 1, 2), Signature.of("add", 3, 4)));
 * List<JsonNode> sums = g.get(Duration.ofSeconds(30));             // [3, 7]
 * GroupResult same = app.restoreGroup(g.id()).orElseThrow();     // elsewhere, by id
 * }</pre>
 */
public final class GroupResult {
    private final String id;
    private final List<AsyncResult> results;

    /**
     * A group of results.
     *
     * @param id      the group id
     * @param results its members' results, in order
     */
    public GroupResult(String id, List<AsyncResult> results) {
        this.id = Objects.requireNonNull(id);
        this.results = List.copyOf(results);
    }

    /** @return the group id */
    public String id() {
        return id;
    }

    /** @return the members' results, in group order */
    public List<AsyncResult> results() {
        return results;
    }

    /** @return how many members the group has */
    public int size() {
        return results.size();
    }

    /** @return how many members have finished (SUCCESS, FAILURE or REVOKED) */
    public int completedCount() {
        int n = 0;
        for (AsyncResult r : results) {
            if (r.ready()) {
                n++;
            }
        }
        return n;
    }

    /** @return true when every member has finished */
    public boolean ready() {
        return completedCount() == results.size();
    }

    /** @return true when every member succeeded */
    public boolean successful() {
        return results.stream().allMatch(r -> r.state() == TaskState.SUCCESS);
    }

    /** @return true when a member failed or was revoked */
    public boolean failed() {
        return results.stream().anyMatch(r -> r.state() == TaskState.FAILURE || r.state() == TaskState.REVOKED);
    }

    /**
     * Waits up to {@code timeout} in all for every member and returns their values in order; the
     * first member that failed raises as {@link AsyncResult#get(Duration)} does (Celery's
     * {@code propagate=True}).
     *
     * @param timeout how long to wait for all of them together
     * @return the members' values, in group order
     * @throws TaskFailedException    a member ended in FAILURE
     * @throws TaskRevokedException   a member was revoked or expired
     * @throws ResultTimeoutException not all finished in time
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

    /** @return the members' stored results, in order (empty where nothing is stored yet) */
    public List<Optional<TaskResult>> metas() {
        return results.stream().map(AsyncResult::meta).toList();
    }

    @Override
    public String toString() {
        return id + results;
    }
}
