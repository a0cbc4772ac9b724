package io.celeriac.canvas;

import static io.celeriac.canvas.SigJson.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Signature;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;

/**
 * Applies signatures as Celery 5.2's {@code apply_async} does — task, chain, group, chord, chunks,
 * map, starmap — without sending anything: the messages and chord sizes go into a {@link Plan},
 * which the caller commits (a client publishes it; a worker commits it with the result and ack of
 * the task that caused it). The rules follow Celery's {@code canvas.py} ({@code prepare_steps},
 * {@code _freeze_group_tasks}, {@code chord.run}, …) so the messages are the ones a Python client
 * or worker would send, and a Python worker can carry on any workflow a Celeriac one started.
 *
 * <p>Signatures are worked on as mutable JSON copies, because Celery's freezing (giving every step
 * its task id, group id and chord before anything is sent) mutates them as it goes.
 */
/**
 * Celery's freezing: every signature of a canvas given its task id, group id, group index, chord
 * and root before anything is sent, mutating the JSON in place as Celery mutates its signature
 * objects ({@code freeze}, {@code _freeze_group_tasks}, {@code prepare_steps}).
 */
final class Freezer {
    private final Supplier<String> ids;

    Freezer(Supplier<String> ids) {
        this.ids = ids;
    }

    record Steps(List<ObjectNode> tasks, List<Ref> results) {
    }

    /** Celery's {@code prepare_steps}: returns the steps last-first, each frozen, and their results (the last step's first). */
    Steps prepareSteps(ArrayNode args, ObjectNode kwargs, List<JsonNode> input, String rootId, String parentId,
                               JsonNode linkError, String lastTaskId, String groupId, JsonNode chordBody, Integer groupIndex,
                               boolean clone) {
        Deque<JsonNode> steps = new ArrayDeque<>(input);
        ObjectNode prevTask = null;
        Ref prevRes = null;
        List<ObjectNode> tasks = new ArrayList<>();
        List<Ref> results = new ArrayList<>();
        int i = 0;
        while (!steps.isEmpty()) {
            ObjectNode task = (ObjectNode) steps.removeLast();
            boolean isFirst = steps.isEmpty();
            boolean isLast = i == 0;
            task = (ObjectNode) Signature.fromJson(task).toJson(); // normalised (missing keys filled in)
            if (kindOf(task) == Signature.Kind.GROUP) {
                task = maybeUnrollGroup(task);
            }
            if (isFirst) { // the chain's partial arguments go to its first step
                task = cloneWith(task, args, kwargs);
            }
            if (kindOf(task) == Signature.Kind.CHAIN) {
                task.get("kwargs").get("tasks").forEach(steps::addLast);
                continue;
            }
            if (kindOf(task) == Signature.Kind.GROUP && prevTask != null) {
                tasks.remove(tasks.size() - 1);
                results.remove(results.size() - 1);
                ObjectNode c = chordOf(task, prevTask);
                ((ObjectNode) c.get("options")).put("task_id", prevRes.id());
                if (rootId != null) {
                    ((ObjectNode) c.get("options")).put("root_id", rootId);
                }
                task = c;
            }
            Ref res = isLast ? freeze(task, lastTaskId, groupId, chordBody, rootId, null, groupIndex)
                    : freeze(task, null, null, null, rootId, null, null);
            i++;
            if (prevTask != null && prevRes != null && prevRes.parent() == null) {
                prevRes.parent(res);
            }
            if (linkError != null) {
                for (JsonNode eb : list(linkError)) {
                    linkError(task, eb);
                }
            }
            tasks.add(task);
            results.add(res);
            prevTask = task;
            prevRes = res;
            if (kindOf(task) == Signature.Kind.CHORD) {
                Ref node = res;
                while (node.parent() != null) {
                    node = node.parent();
                }
                prevRes = node;
            }
        }
        return new Steps(tasks, results);
    }

    /** {@code freeze()} of any signature: gives it (and its parts) ids and links, in place; returns its result. */
    Ref freeze(ObjectNode sig, String id, String groupId, JsonNode chord, String rootId, String parentId,
                       Integer groupIndex) {
        switch (kindOf(sig)) {
            case GROUP:
                return freezeGroupTasks(sig, groupId != null ? groupId : null, chord, rootId, parentId, groupIndex, id);
            case CHAIN: {
                List<JsonNode> tasks = new ArrayList<>();
                sig.get("kwargs").get("tasks").forEach(tasks::add);
                Steps s = prepareSteps((ArrayNode) sig.get("args"), (ObjectNode) ((ObjectNode) sig.get("kwargs").deepCopy())
                        .without("tasks"), tasks, rootId, parentId, null, id, groupId, chord, groupIndex, false);
                ArrayNode frozen = Json.NODES.arrayNode();
                for (int i = s.tasks().size() - 1; i >= 0; i--) {
                    frozen.add(s.tasks().get(i));
                }
                ((ObjectNode) sig.get("kwargs")).set("tasks", frozen);
                return s.results().isEmpty() ? Ref.task(id != null ? id : ids.get()) : s.results().get(0);
            }
            case CHORD: {
                ObjectNode kw = (ObjectNode) sig.get("kwargs");
                ObjectNode header = headerGroup(kw.get("header"));
                kw.set("header", header);
                ObjectNode body = (ObjectNode) Signature.fromJson(kw.get("body")).toJson();
                kw.set("body", body);
                // Celery's header parts hold the body object itself, which is frozen next: theirs
                // carry its task id, so the body is frozen first here
                Ref bodyRes = freeze(body, id, groupId, chord, rootId, null, groupIndex);
                Ref headerRes = freezeGroupTasks(header, null, body, rootId, parentId, null, null);
                Ref node = bodyRes;
                while (node.parent() != null) {
                    node = node.parent();
                }
                node.parent(headerRes);
                ((ObjectNode) sig.get("options")).put("task_id", headerRes.id());
                return bodyRes;
            }
            default: {
                ObjectNode opts = (ObjectNode) sig.get("options");
                String tid = text(opts.get("task_id"));
                if (tid == null) {
                    tid = id != null ? id : ids.get();
                    opts.put("task_id", tid);
                }
                if (rootId != null) {
                    opts.put("root_id", rootId);
                }
                if (parentId != null) {
                    opts.put("parent_id", parentId);
                }
                if (!opts.has("reply_to")) {
                    opts.put("reply_to", TaskMessage.replyToId());
                }
                if (groupId != null && !opts.has("group_id")) {
                    opts.put("group_id", groupId);
                }
                if (chord != null) {
                    opts.set("chord", chord.deepCopy());
                }
                if (groupIndex != null) {
                    opts.put("group_index", groupIndex);
                }
                return Ref.task(tid);
            }
        }
    }

    Ref freezeGroupTasks(ObjectNode group, String groupId, JsonNode chord, String rootId, String parentId, Integer groupIndex) {
        return freezeGroupTasks(group, groupId, chord, rootId, parentId, groupIndex, null);
    }

    /** {@code group._freeze_group_tasks}: the group's id, then every member (nested groups unrolled) frozen in order with its index. */
    Ref freezeGroupTasks(ObjectNode group, String groupId, JsonNode chord, String rootId, String parentId,
                                 Integer groupIndex, String id) {
        ObjectNode opts = (ObjectNode) group.get("options");
        String gid = text(opts.get("task_id"));
        if (gid == null) {
            gid = groupId != null ? groupId : id != null ? id : ids.get();
            opts.put("task_id", gid);
        }
        if (groupId != null) {
            opts.put("group_id", groupId);
        }
        if (chord != null) {
            opts.set("chord", chord.deepCopy());
        }
        if (groupIndex != null) {
            opts.put("group_index", groupIndex);
        }
        if (!opts.has("root_id")) {
            opts.put("root_id", rootId);
        }
        rootId = text(opts.get("root_id"));
        if (!opts.has("parent_id")) {
            opts.put("parent_id", parentId);
        }
        parentId = text(opts.get("parent_id"));
        Deque<JsonNode> stack = new ArrayDeque<>();
        group.get("kwargs").get("tasks").forEach(stack::addLast);
        ArrayNode newTasks = Json.NODES.arrayNode();
        List<Ref> results = new ArrayList<>();
        int index = 0;
        while (!stack.isEmpty()) {
            ObjectNode task = (ObjectNode) Signature.fromJson(stack.removeFirst()).toJson();
            if (kindOf(task) == Signature.Kind.GROUP) {
                for (JsonNode t : task.get("kwargs").get("tasks")) {
                    stack.addFirst(t); // Celery's extendleft: a nested group's tasks come first, in reverse
                }
            } else {
                results.add(freeze(task, null, groupId, chord, rootId, parentId, index));
                newTasks.add(task);
                index++;
            }
        }
        ((ObjectNode) group.get("kwargs")).set("tasks", newTasks);
        return Ref.group(gid, results);
    }

    /** {@code chord._descend}: how many results a member adds to a chord's header. */
    static int descend(JsonNode sig) {
        Signature s = Signature.fromJson(sig);
        switch (s.kind()) {
            case GROUP: {
                int n = 0;
                for (JsonNode t : sig.get("kwargs").get("tasks")) {
                    n += descend(t);
                }
                return n;
            }
            case CHAIN: {
                ArrayNode tasks = (ArrayNode) sig.get("kwargs").get("tasks");
                for (int i = tasks.size() - 1; i >= 0; i--) {
                    int n = descend(tasks.get(i));
                    if (n > 0) {
                        return n;
                    }
                }
                return 0;
            }
            case CHORD:
                return descend(sig.get("kwargs").get("body"));
            default:
                return 1;
        }
    }
}
