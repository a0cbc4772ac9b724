package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.TaskState;
import io.celeriac.protocol.Json;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;

/**
 * One task as the task history keeps it: the latest state of a task id, with every state it went
 * through ({@link #timeline}), so that retries show as a timeline. Written by the worker that ran it
 * (see {@link TaskHistory}); read by the dashboard and {@code celeriac} commands.
 *
 * @param id          the task id
 * @param name        the task name
 * @param state       the latest state (a ready one is never replaced by one that is not: {@link ResultStore#replaces})
 * @param worker      the node that ran (or is running) it, e.g. {@code celery@host}; null when none did
 * @param queue       the queue it was delivered from; null when unknown
 * @param args        the positional arguments, as JSON text (an array); null when not known
 * @param kwargs      the keyword arguments, as JSON text (an object); null when not known
 * @param result      the return value as JSON text (SUCCESS) or null
 * @param exception   the exception type and message (FAILURE, RETRY, REVOKED reason) or null
 * @param traceback   the traceback text (FAILURE) or null
 * @param retries     the retries so far, as in the message's headers
 * @param received    when a worker first received it, or null
 * @param started     when its latest run started, or null
 * @param updated     when this record last changed: the history's sort key (newest first)
 * @param runtime     seconds the latest run took, or null when it has not finished
 * @param parentId    the task that sent it (canvas parent), or null
 * @param rootId      the first task of its workflow, or null
 * @param groupId     the group it belongs to, or null
 * @param children    ids of the tasks it caused (chain's next, callbacks, a chord's body), in order
 * @param timeline    every state it went through, oldest first
 *
 * <p>Times are kept to the microsecond (every store keeps them so: a Redis score holds epoch
 * microseconds exactly), so a record is truncated to microseconds when it is made. {@code id},
 * {@code state} and {@code updated} are required.
 */
public record TaskRecord(String id, String name, TaskState state, String worker, String queue, String args, String kwargs,
                         String result, String exception, String traceback, int retries, Instant received, Instant started,
                         Instant updated, Double runtime, String parentId, String rootId, String groupId, List<String> children,
                         List<Step> timeline) {

    public TaskRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(state, "state");
        updated = micros(Objects.requireNonNull(updated, "updated"));
        received = micros(received);
        started = micros(started);
        children = children == null ? List.of() : List.copyOf(children);
        timeline = timeline == null ? List.of() : List.copyOf(timeline);
    }

    /** {@code updated} in epoch microseconds: the sort key every store keeps. */
    public long updatedMicros() {
        return toMicros(updated);
    }

    /** Epoch microseconds of {@code t}. */
    public static long toMicros(Instant t) {
        return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000);
    }

    /** The instant of {@code micros} epoch microseconds. */
    public static Instant fromMicros(long micros) {
        return Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
    }

    /** Timelines this long or shorter are joined without hashing. */
    private static final int SHORT = 8;

    private static Instant micros(Instant t) {
        return t == null ? null : t.truncatedTo(ChronoUnit.MICROS);
    }

    /**
     * The record that {@code next} merged into {@code stored} makes: the rule of {@link TaskHistory}, written once.
     * Of the two, the one with the later {@code updated} (on a tie, {@code next}) is the newer; the state is the
     * newer's unless {@link ResultStore#replaces} keeps the older's (a ready state is never replaced by one that is
     * not, SUCCESS by none); result, exception, traceback and runtime come from the record whose state won, else the
     * other; every other field is the newer's unless it is null; {@code retries} is the larger, {@code received} the
     * earlier, {@code updated} the later; timelines are joined (oldest first, no step twice), children joined (stored
     * order, then the new ones).
     *
     * @param stored the stored record, or null
     * @param next   the record to merge in
     * @return the merged record
     */
    public static TaskRecord merge(TaskRecord stored, TaskRecord next) {
        if (stored == null) {
            return joined(next.timeline) ? next : next.withLists(next.children, joinTimelines(List.of(), next.timeline));
        }
        boolean nextNewer = !next.updated.isBefore(stored.updated);
        TaskRecord newer = nextNewer ? next : stored;
        TaskRecord older = nextNewer ? stored : next;
        TaskRecord won = ResultStore.replaces(newer.state, older.state) ? newer : older;
        TaskRecord lost = won == newer ? older : newer;
        List<String> children = joinChildren(stored.children, next.children);
        return new TaskRecord(stored.id, or(newer.name, older.name), won.state, or(newer.worker, older.worker),
                or(newer.queue, older.queue), or(newer.args, older.args), or(newer.kwargs, older.kwargs),
                or(won.result, lost.result), or(won.exception, lost.exception), or(won.traceback, lost.traceback),
                Math.max(stored.retries, next.retries), earlier(stored.received, next.received),
                or(newer.started, older.started), newer.updated, or(won.runtime, lost.runtime),
                or(newer.parentId, older.parentId), or(newer.rootId, older.rootId), or(newer.groupId, older.groupId),
                children, joinTimelines(stored.timeline, next.timeline));
    }

    /** Stored order, then the new ones, each once; no copy made when one side is empty and the other has no repeats. */
    private static List<String> joinChildren(List<String> a, List<String> b) {
        if (b.isEmpty() && a.size() <= 1) {
            return a;
        }
        if (a.isEmpty() && b.size() <= 1) {
            return b;
        }
        return List.copyOf(new LinkedHashSet<>(concat(a, b)));
    }

    private static <T> List<T> concat(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a.size() + b.size());
        out.addAll(a);
        out.addAll(b);
        return out;
    }

    private TaskRecord withLists(List<String> children, List<Step> timeline) {
        return new TaskRecord(id, name, state, worker, queue, args, kwargs, result, exception, traceback, retries, received,
                started, updated, runtime, parentId, rootId, groupId, children, timeline);
    }

    private static <T> T or(T a, T b) {
        return a != null ? a : b;
    }

    private static Instant earlier(Instant a, Instant b) {
        return a == null ? b : b == null ? a : a.isBefore(b) ? a : b;
    }

    /** True when {@code timeline} is already as {@link #joinTimelines} makes one: oldest first, no step twice. */
    private static boolean joined(List<Step> timeline) {
        for (int i = 1; i < timeline.size(); i++) {
            Step s = timeline.get(i);
            if (s.at.isBefore(timeline.get(i - 1).at) || timeline.subList(0, i).contains(s)) {
                return false;
            }
        }
        return true;
    }

    /** Both timelines, oldest first (steps at the same time in the order given), each step once. */
    public static List<Step> joinTimelines(List<Step> a, List<Step> b) {
        if (a.size() + b.size() <= SHORT) { // a task's usual few steps: no hashing
            List<Step> out = new ArrayList<>(a.size() + b.size());
            boolean sorted = true;
            for (List<Step> t : List.of(a, b)) {
                for (Step s : t) {
                    if (!out.contains(s)) {
                        sorted &= out.isEmpty() || !s.at.isBefore(out.get(out.size() - 1).at);
                        out.add(s);
                    }
                }
            }
            if (!sorted) {
                out.sort(Comparator.comparing(Step::at)); // stable: steps at the same time keep their order
            }
            return out;
        }
        LinkedHashSet<Step> all = new LinkedHashSet<>(a);
        all.addAll(b);
        List<Step> out = new ArrayList<>(all);
        out.sort(Comparator.comparing(Step::at));
        return out;
    }

    /**
     * A timeline as JSON text, the form the SQL and Redis stores keep: an array of objects
     * {@code {"state", "at", "worker", "retries", "detail"}}, {@code at} as a string of epoch
     * microseconds (a string, so that Redis's Lua reads and writes it exactly).
     */
    public static String timelineJson(List<Step> timeline) {
        StringBuilder out = new StringBuilder(80 * timeline.size() + 2).append('[');
        for (Step s : timeline) { // by hand: it is written for every task recorded
            out.append(out.length() == 1 ? "{\"state\":" : ",{\"state\":");
            Json.quote(out, s.state().name()).append(",\"at\":\"").append(toMicros(s.at())).append("\",\"worker\":");
            Json.quote(out, s.worker()).append(",\"retries\":").append(s.retries()).append(",\"detail\":");
            Json.quote(out, s.detail()).append('}');
        }
        return out.append(']').toString();
    }

    /** The timeline of {@link #timelineJson} text; null or empty text is an empty timeline. */
    public static List<Step> parseTimeline(String json) {
        List<Step> out = new ArrayList<>();
        for (JsonNode n : tree(json)) {
            JsonNode at = n.path("at");
            long micros = at.isTextual() ? Long.parseLong(at.asText()) : at.asLong();
            out.add(new Step(TaskState.parse(n.path("state").asText()), fromMicros(micros), text(n, "worker"),
                    n.path("retries").asInt(), text(n, "detail")));
        }
        return out;
    }

    /** Children ids as a JSON array. */
    public static String childrenJson(List<String> children) {
        StringBuilder out = new StringBuilder().append('[');
        for (String c : children) {
            Json.quote(out.length() == 1 ? out : out.append(','), c);
        }
        return out.append(']').toString();
    }

    /** The ids of {@link #childrenJson} text; null or empty text is none. */
    public static List<String> parseChildren(String json) {
        List<String> out = new ArrayList<>();
        for (JsonNode n : tree(json)) {
            out.add(n.asText());
        }
        return out;
    }

    private static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    private static JsonNode tree(String json) {
        if (json == null || json.isEmpty()) {
            return Json.NODES.arrayNode();
        }
        try {
            return Json.read(json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * One state a task went through.
     *
     * @param state   the state (RECEIVED, STARTED, RETRY, SUCCESS, FAILURE, REVOKED, ...)
     * @param at      when
     * @param worker  the node, or null
     * @param retries the retries so far at that time
     * @param detail  the exception ("Type: message") for RETRY/FAILURE/REVOKED, else null
     */
    public record Step(TaskState state, Instant at, String worker, int retries, String detail) {
        /** Requires a state and a time; the time is truncated to microseconds. */
        public Step {
            Objects.requireNonNull(state, "state");
            at = micros(Objects.requireNonNull(at, "at"));
        }
    }
}
