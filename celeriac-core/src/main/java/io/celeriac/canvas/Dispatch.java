package io.celeriac.canvas;

import static io.celeriac.canvas.SigJson.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Signature;
import io.celeriac.TaskDefinition;
import io.celeriac.TaskOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Publication;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
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
public final class Dispatch {
    private final Function<String, TaskOptions> taskOptions;
    private final Function<String, String> defaultQueue;
    private final Clock clock;
    private final Supplier<String> ids;
    private final boolean etaOnQueue;
    private final Freezer freezer;
    private final Sender sender;

    /**
     * @param taskOptions  a task's own options (queue, priority, ignore_result) by name, or null when unknown here
     * @param defaultQueue {@code task_default_queue}
     * @param etaOnQueue   whether a message with an ETA goes on its queue at once, the ETA in its headers
     *                     (a client on Redis, as Celery), or is parked by the broker until then
     */
    public Dispatch(Function<String, TaskOptions> taskOptions, String defaultQueue, Clock clock, Supplier<String> ids,
                    boolean etaOnQueue) {
        this(taskOptions, name -> defaultQueue, clock, ids, etaOnQueue);
    }

    /**
     * @param defaultQueue the queue of a task whose call and own options name none, by task name:
     *                     its {@code task_routes} route, else {@code task_default_queue}
     */
    public Dispatch(Function<String, TaskOptions> taskOptions, Function<String, String> defaultQueue, Clock clock,
                    Supplier<String> ids, boolean etaOnQueue) {
        this.taskOptions = taskOptions;
        this.defaultQueue = defaultQueue;
        this.clock = clock;
        this.ids = ids;
        this.etaOnQueue = etaOnQueue;
        this.freezer = new Freezer(ids);
        this.sender = new Sender(taskOptions, defaultQueue, clock, ids, etaOnQueue);
    }

    /** The one conversion from a task message to what a broker stores. */
    public BrokerMessage toBroker(TaskMessage m) {
        return sender.toBroker(m);
    }

    public static Dispatch of(TaskRegistry registry, String defaultQueue, Clock clock, boolean etaOnQueue) {
        return of(registry, io.celeriac.config.TaskRoutes.NONE, defaultQueue, clock, etaOnQueue);
    }

    /** A dispatch whose tasks without a queue of their own go where {@code routes} say, else to {@code defaultQueue}. */
    public static Dispatch of(TaskRegistry registry, io.celeriac.config.TaskRoutes routes, String defaultQueue, Clock clock,
                              boolean etaOnQueue) {
        Function<String, String> queue = routes.isEmpty() ? name -> defaultQueue : name -> {
            String routed = routes.queue(name);
            return routed != null ? routed : defaultQueue;
        };
        return new Dispatch(name -> registry.find(name).map(TaskDefinition::options).orElse(null), queue, clock,
                () -> UUID.randomUUID().toString(), etaOnQueue);
    }

    /** The same dispatch with ETAs parked by the broker (a worker's continuations and retries). */
    public Dispatch parking() {
        return etaOnQueue ? new Dispatch(taskOptions, defaultQueue, clock, ids, false) : this;
    }

    /** The task a message is sent from, for {@code parent_id}/{@code root_id} (Celery's {@code current_worker_task}). */
    public record Parent(String id, String rootId) {
    }

    /** Messages and chord sizes an application of signatures produced, in order, and what it added to its parent's children. */
    public static final class Plan {
        final Parent parent;
        final List<Publication> publications = new ArrayList<>();
        final Map<String, Integer> chordSizes = new java.util.LinkedHashMap<>();
        final List<Ref> trail = new ArrayList<>();
        final List<TaskMessage> messages = new ArrayList<>();

        public Plan(Parent parent) {
            this.parent = parent;
        }

        public List<Publication> publications() {
            return publications;
        }

        /** The decoded messages, in the order of {@link #publications()}. */
        public List<TaskMessage> messages() {
            return messages;
        }

        public Map<String, Integer> chordSizes() {
            return chordSizes;
        }

        /** Results to record in the parent's {@code children} (Celery's {@code add_trail}). */
        public List<Ref> trail() {
            return trail;
        }

        public io.celeriac.spi.Effects effects() {
            return new io.celeriac.spi.Effects(List.of(), publications, chordSizes);
        }
    }

    /** Applies {@code sig} as Celery's {@code sig.apply_async(args, kwargs, **options)}. */
    public Ref apply(Plan plan, Signature sig, ArrayNode args, ObjectNode kwargs, ObjectNode options) {
        return apply(plan, sig.toJson(), args, kwargs, options, true);
    }

    // --- dispatch by kind ------------------------------------------------------------------------------

    private Ref apply(Plan p, ObjectNode sig, ArrayNode args, ObjectNode kwargs, ObjectNode options, boolean trail) {
        args = args == null ? Json.NODES.arrayNode() : args;
        kwargs = kwargs == null ? Json.NODES.objectNode() : kwargs;
        options = nonNull(options);
        switch (Signature.fromJson(sig).kind()) {
            case CHAIN:
                return applyChain(p, sig, args, kwargs, options, trail);
            case GROUP:
                return applyGroup(p, sig, args, kwargs, options, trail);
            case CHORD:
                return applyChord(p, sig, args, kwargs, options, trail);
            case CHUNKS:
                return applyGroup(p, chunksGroup(sig), args, kwargs, options, trail);
            default:
                return applyTask(p, sig, args, kwargs, options, trail);
        }
    }

    /** {@code Signature.apply_async}: merge the partial arguments and options, then send. */
    private Ref applyTask(Plan p, ObjectNode sig, ArrayNode args, ObjectNode kwargs, ObjectNode options, boolean trail) {
        ObjectNode merged = merge(sig, args, kwargs, options);
        return sender.send(p, sig.get("task").asText(), (ArrayNode) merged.get("args"), (ObjectNode) merged.get("kwargs"),
                (ObjectNode) merged.get("options"), trail);
    }

    /** Celery's {@code _merge}: partial args prepended and kwargs merged unless immutable; options merged except a set group_id. */
    static ObjectNode merge(ObjectNode sig, ArrayNode args, ObjectNode kwargs, ObjectNode options) {
        ObjectNode newOptions = ((ObjectNode) sig.get("options")).deepCopy();
        options.properties().forEach(e -> {
            if (!("group_id".equals(e.getKey()) && newOptions.has("group_id"))) {
                newOptions.set(e.getKey(), e.getValue().deepCopy());
            }
        });
        ObjectNode out = Json.NODES.objectNode();
        boolean immutable = sig.path("immutable").asBoolean(false);
        ArrayNode a = ((ArrayNode) sig.get("args")).deepCopy();
        ObjectNode k = ((ObjectNode) sig.get("kwargs")).deepCopy();
        if (!immutable) {
            if (!args.isEmpty()) {
                ArrayNode joined = args.deepCopy();
                joined.addAll(a);
                a = joined;
            }
            k.setAll(kwargs.deepCopy());
        }
        out.set("args", a);
        out.set("kwargs", k);
        out.set("options", newOptions);
        return out;
    }

    /** {@code _chain.run}: freeze every step from the last to the first, then send the first with the rest as its chain. */
    private Ref applyChain(Plan p, ObjectNode sig, ArrayNode args, ObjectNode kwargs, ObjectNode options, boolean trail) {
        ObjectNode opts = ((ObjectNode) sig.get("options")).deepCopy();
        opts.setAll(options);
        if (!sig.path("immutable").asBoolean(false) && !args.isEmpty()) {
            ArrayNode joined = args.deepCopy();
            joined.addAll((ArrayNode) sig.get("args"));
            args = joined;
        } else {
            args = (ArrayNode) sig.get("args").deepCopy();
        }
        String taskId = text(opts.remove("task_id"));
        String groupId = text(opts.remove("group_id"));
        JsonNode chord = nullToNone(opts.remove("chord"));
        JsonNode link = nullToNone(opts.remove("link"));
        JsonNode linkError = nullToNone(opts.remove("link_error"));
        String rootId = text(opts.remove("root_id"));
        String parentId = text(opts.remove("parent_id"));
        Integer groupIndex = opts.path("group_index").canConvertToInt() ? opts.get("group_index").intValue() : null;
        opts.remove("group_index");
        List<JsonNode> tasks = new ArrayList<>();
        sig.get("kwargs").get("tasks").forEach(tasks::add);
        Freezer.Steps steps = freezer.prepareSteps(args, kwargs, tasks, rootId, parentId, linkError, taskId, groupId, chord, groupIndex, true);
        if (steps.tasks().isEmpty()) {
            return null;
        }
        if (link != null) {
            extendList(steps.tasks().get(0), "link", link);
        }
        ObjectNode first = steps.tasks().remove(steps.tasks().size() - 1);
        ArrayNode rest = Json.NODES.arrayNode();
        steps.tasks().forEach(rest::add);
        JsonNode existing = opts.get("chain");
        if (existing != null && existing.isArray()) {
            ArrayNode joined = existing.deepCopy();
            joined.addAll(rest);
            rest = joined;
        }
        opts.set("chain", rest);
        apply(p, first, null, null, opts, trail);
        return steps.results().get(0);
    }

    /** {@code group.apply_async}: freeze the members with the group's id, then send each (the last after its chord size). */
    private Ref applyGroup(Plan p, ObjectNode sig, ArrayNode args, ObjectNode kwargs, ObjectNode options, boolean trail) {
        if (options.hasNonNull("link")) {
            throw new IllegalArgumentException("a group cannot have a link (Celery: use a chord)");
        }
        if (options.hasNonNull("link_error")) {
            throw new IllegalArgumentException("a group cannot have a link_error: put it on its tasks");
        }
        ArrayNode members = (ArrayNode) sig.get("kwargs").get("tasks");
        if (members.isEmpty()) {
            return freezer.freeze(sig, null, null, null, null, null, null);
        }
        ObjectNode opts = ((ObjectNode) sig.get("options")).deepCopy();
        opts.setAll(options);
        JsonNode tid = opts.remove("task_id");
        String groupId = tid == null || tid.isNull() ? ids.get() : tid.asText();
        opts.put("group_id", groupId);
        String rootId = text(opts.get("root_id"));
        List<ObjectNode> prepared = new ArrayList<>();
        List<Ref> refs = new ArrayList<>();
        prepare(members, groupId, rootId, prepared, refs);
        JsonNode chord = nullToNone(opts.remove("chord"));
        int chordSize = 0;
        for (int i = 0; i < prepared.size(); i++) {
            ObjectNode member = prepared.get(i);
            JsonNode chordObj = chord != null ? chord : nullToNone(member.get("options").get("chord"));
            chordSize += Freezer.descend(member);
            if (chordObj != null && i == prepared.size() - 1) {
                p.chordSizes.put(groupId, chordSize);
            }
            ObjectNode memberOpts = opts.deepCopy();
            if (chordObj != null) {
                memberOpts.set("chord", chordObj);
            }
            apply(p, member, args, kwargs, memberOpts, false);
        }
        Ref result = refs.size() == 1 && refs.get(0).isGroup() ? refs.get(0) : Ref.group(groupId, refs);
        if (trail) {
            p.trail.add(result);
        }
        return result;
    }

    /** {@code group._prepared}: members cloned and frozen with the group id; nested groups unrolled in place. */
    private void prepare(ArrayNode members, String groupId, String rootId, List<ObjectNode> out, List<Ref> refs) {
        for (JsonNode m : members) {
            ObjectNode task = (ObjectNode) Signature.fromJson(m).toJson();
            if (kindOf(task) == Signature.Kind.GROUP) {
                prepare((ArrayNode) task.get("kwargs").get("tasks"), groupId, rootId, out, refs);
            } else {
                refs.add(freezer.freeze(task, null, groupId, null, rootId, null, null));
                out.add(task);
            }
        }
    }

    /** {@code chord.apply_async} and {@code chord.run}: freeze the body, freeze the header with it as their chord, send the header. */
    private Ref applyChord(Plan p, ObjectNode sig, ArrayNode args, ObjectNode kwargs, ObjectNode options, boolean trail) {
        ArrayNode partial = sig.path("immutable").asBoolean(false) || args.isEmpty() ? ((ArrayNode) sig.get("args")).deepCopy()
                : concat(args, (ArrayNode) sig.get("args"));
        ObjectNode sk = (ObjectNode) sig.get("kwargs");
        ObjectNode body = cloneWithOptions((ObjectNode) Signature.fromJson(sk.get("body")).toJson(), options);
        ObjectNode header = headerGroup(sk.get("header"));
        ObjectNode merged = ((ObjectNode) sig.get("options")).deepCopy();
        merged.setAll(options);
        JsonNode optionTaskId = merged.remove("task_id");
        String taskId = text(optionTaskId);

        String groupId = text(header.get("options").get("task_id"));
        if (groupId == null) {
            groupId = ids.get();
        }
        String rootId = text(body.get("options").get("root_id"));
        ObjectNode runOpts = merged.deepCopy();
        runOpts.remove("task_id");
        ((ObjectNode) body.get("options")).setAll(runOpts.deepCopy());
        Ref bodyRes = freezer.freeze(body, taskId, null, null, rootId, null, null);
        runOpts.remove("chain");
        runOpts.remove("chord");
        Ref headerRes = freezer.freezeGroupTasks(header, groupId, body, rootId, null, null);
        if (!header.get("kwargs").get("tasks").isEmpty()) {
            ObjectNode headerOpts = runOpts.deepCopy();
            headerOpts.put("task_id", groupId);
            headerRes = applyGroup(p, header, partial, Json.NODES.objectNode(), headerOpts, trail);
        } else {
            ArrayNode empty = Json.NODES.arrayNode();
            empty.addArray();
            apply(p, body, empty, null, null, trail);
        }
        Ref root = bodyRes;
        while (root.parent() != null) {
            root = root.parent();
        }
        if (root != headerRes) {
            root.parent(headerRes);
        }
        return bodyRes;
    }
}
