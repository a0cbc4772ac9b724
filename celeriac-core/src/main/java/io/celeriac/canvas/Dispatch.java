package io.celeriac.canvas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Signature;
import io.celeriac.TaskDefinition;
import io.celeriac.TaskOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Durations;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Publication;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
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
    private final String defaultQueue;
    private final Clock clock;
    private final Supplier<String> ids;
    private final boolean etaOnQueue;

    /**
     * @param taskOptions  a task's own options (queue, priority, ignore_result) by name, or null when unknown here
     * @param defaultQueue {@code task_default_queue}
     * @param etaOnQueue   whether a message with an ETA goes on its queue at once, the ETA in its headers
     *                     (a client on Redis, as Celery), or is parked by the broker until then
     */
    public Dispatch(Function<String, TaskOptions> taskOptions, String defaultQueue, Clock clock, Supplier<String> ids,
                    boolean etaOnQueue) {
        this.taskOptions = taskOptions;
        this.defaultQueue = defaultQueue;
        this.clock = clock;
        this.ids = ids;
        this.etaOnQueue = etaOnQueue;
    }

    public static Dispatch of(TaskRegistry registry, String defaultQueue, Clock clock, boolean etaOnQueue) {
        return new Dispatch(name -> registry.find(name).map(TaskDefinition::options).orElse(null), defaultQueue, clock,
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
        private final Parent parent;
        private final List<Publication> publications = new ArrayList<>();
        private final Map<String, Integer> chordSizes = new java.util.LinkedHashMap<>();
        private final List<Ref> trail = new ArrayList<>();
        private final List<TaskMessage> messages = new ArrayList<>();

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
        return send(p, sig.get("task").asText(), (ArrayNode) merged.get("args"), (ObjectNode) merged.get("kwargs"),
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
        Steps steps = prepareSteps(args, kwargs, tasks, rootId, parentId, linkError, taskId, groupId, chord, groupIndex, true);
        if (steps.tasks.isEmpty()) {
            return null;
        }
        if (link != null) {
            extendList(steps.tasks.get(0), "link", link);
        }
        ObjectNode first = steps.tasks.remove(steps.tasks.size() - 1);
        ArrayNode rest = Json.NODES.arrayNode();
        steps.tasks.forEach(rest::add);
        JsonNode existing = opts.get("chain");
        if (existing != null && existing.isArray()) {
            ArrayNode joined = existing.deepCopy();
            joined.addAll(rest);
            rest = joined;
        }
        opts.set("chain", rest);
        apply(p, first, null, null, opts, trail);
        return steps.results.get(0);
    }

    private record Steps(List<ObjectNode> tasks, List<Ref> results) {
    }

    /** Celery's {@code prepare_steps}: returns the steps last-first, each frozen, and their results (the last step's first). */
    private Steps prepareSteps(ArrayNode args, ObjectNode kwargs, List<JsonNode> input, String rootId, String parentId,
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
            return freeze(sig, null, null, null, null, null, null);
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
            chordSize += descend(member);
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
                refs.add(freeze(task, null, groupId, null, rootId, null, null));
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
        Ref bodyRes = freeze(body, taskId, null, null, rootId, null, null);
        runOpts.remove("chain");
        runOpts.remove("chord");
        Ref headerRes = freezeGroupTasks(header, groupId, body, rootId, null, null);
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

    /** A chord's header as a group signature (Celery keeps it as a list until the chord is frozen). */
    private static ObjectNode headerGroup(JsonNode header) {
        Signature h = Signature.fromJson(header);
        ObjectNode g = h.kind() == Signature.Kind.GROUP ? h.toJson() : io.celeriac.Canvas.group(List.of(h)).toJson();
        return g;
    }

    /** {@code chunks.group()}: a group of {@code celery.starmap} signatures over parts of {@code n} items. */
    private static ObjectNode chunksGroup(ObjectNode sig) {
        ObjectNode kw = (ObjectNode) sig.get("kwargs");
        int n = Math.max(1, kw.path("n").asInt(1));
        ArrayNode tasks = Json.NODES.arrayNode();
        ArrayNode part = null;
        for (JsonNode item : kw.get("it")) {
            if (part == null || part.size() == n) {
                ObjectNode k = Json.NODES.objectNode();
                k.set("task", kw.get("task").deepCopy());
                part = k.putArray("it");
                ObjectNode d = tasks.addObject();
                d.put("task", "celery.starmap");
                d.putArray("args");
                d.set("kwargs", k);
                d.putObject("options");
                d.put("subtask_type", "xstarmap");
                d.put("immutable", true);
            }
            part.add(item.deepCopy());
        }
        ObjectNode g = io.celeriac.Canvas.group(Signature.readAll(tasks)).toJson();
        ((ObjectNode) g.get("options")).setAll(((ObjectNode) sig.get("options")).deepCopy());
        return g;
    }

    // --- freezing --------------------------------------------------------------------------------------

    /** {@code freeze()} of any signature: gives it (and its parts) ids and links, in place; returns its result. */
    private Ref freeze(ObjectNode sig, String id, String groupId, JsonNode chord, String rootId, String parentId,
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
                for (int i = s.tasks.size() - 1; i >= 0; i--) {
                    frozen.add(s.tasks.get(i));
                }
                ((ObjectNode) sig.get("kwargs")).set("tasks", frozen);
                return s.results.isEmpty() ? Ref.task(id != null ? id : ids.get()) : s.results.get(0);
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

    private Ref freezeGroupTasks(ObjectNode group, String groupId, JsonNode chord, String rootId, String parentId, Integer groupIndex) {
        return freezeGroupTasks(group, groupId, chord, rootId, parentId, groupIndex, null);
    }

    /** {@code group._freeze_group_tasks}: the group's id, then every member (nested groups unrolled) frozen in order with its index. */
    private Ref freezeGroupTasks(ObjectNode group, String groupId, JsonNode chord, String rootId, String parentId,
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
    private static int descend(JsonNode sig) {
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

    // --- sending ---------------------------------------------------------------------------------------

    /** {@code app.send_task}: one protocol-2 message from a task name, arguments and Celery's options. */
    private Ref send(Plan p, String name, ArrayNode args, ObjectNode kwargs, ObjectNode o, boolean trail) {
        TaskOptions defaults = taskOptions.apply(name);
        String id = text(o.get("task_id"));
        if (id == null) {
            id = ids.get();
        }
        String rootId = text(o.get("root_id"));
        String parentId = text(o.get("parent_id"));
        if (p.parent != null) {
            if (rootId == null) {
                rootId = p.parent.rootId() != null ? p.parent.rootId() : p.parent.id();
            }
            if (parentId == null) {
                parentId = p.parent.id();
            }
        }
        String queue = text(o.get("queue"));
        if (queue == null) {
            queue = text(o.get("routing_key"));
        }
        if (queue == null && defaults != null) {
            queue = defaults.queue();
        }
        if (queue == null) {
            queue = defaultQueue;
        }
        Integer priority = o.path("priority").canConvertToInt() ? o.get("priority").intValue() : null;
        if (priority == null && defaults != null) {
            priority = defaults.priority();
        }
        Instant now = clock.instant();
        Instant eta = null;
        JsonNode countdown = o.get("countdown");
        if (countdown != null && countdown.isNumber() && countdown.doubleValue() > 0) {
            eta = now.plus(Durations.ofSeconds(countdown.doubleValue()));
        } else if (o.hasNonNull("eta")) {
            eta = CeleryTime.parse(o.get("eta").asText());
        }
        Instant expires = null;
        JsonNode exp = o.get("expires");
        if (exp != null && exp.isNumber()) {
            expires = now.plus(Durations.ofSeconds(exp.doubleValue()));
        } else if (exp != null && exp.isTextual()) {
            expires = CeleryTime.parse(exp.asText());
        }
        boolean ignore = o.hasNonNull("ignore_result") ? o.get("ignore_result").asBoolean()
                : defaults != null && defaults.ignoreResult();
        TaskMessage.Builder b = TaskMessage.builder(name).id(id).args(args).kwargs(kwargs).queue(queue)
                .priority(priority == null ? 0 : priority).eta(eta).expires(expires).ignoreResult(ignore)
                .rootId(rootId).parentId(parentId).group(text(o.get("group_id")))
                .groupIndex(o.path("group_index").canConvertToInt() ? o.get("group_index").intValue() : null)
                .retries(o.path("retries").asInt(0))
                .shadow(text(o.get("shadow")))
                .replyTo(text(o.get("reply_to")))
                .embed(list(nullToNone(o.get("link"))), list(nullToNone(o.get("link_error"))), nullToNone(o.get("chain")),
                        nullToNone(o.get("chord")));
        JsonNode hard = o.get("time_limit");
        JsonNode soft = o.get("soft_time_limit");
        if ((hard != null && hard.isNumber()) || (soft != null && soft.isNumber())) {
            b.timeLimit(hard != null && hard.isNumber() ? hard.doubleValue() : null, soft != null && soft.isNumber() ? soft.doubleValue() : null);
        }
        JsonNode headers = o.get("headers");
        if (headers != null && headers.isObject()) {
            headers.properties().forEach(e -> b.header(e.getKey(), e.getValue()));
        }
        TaskMessage m = b.build();
        p.messages.add(m);
        p.publications.add(new Publication(queue, toBroker(m)));
        Ref ref = Ref.task(id);
        if (trail) {
            p.trail.add(ref);
        }
        return ref;
    }

    /** The one conversion from a task message to what a broker stores. */
    public BrokerMessage toBroker(TaskMessage m) {
        Instant eta = etaOnQueue ? null : m.eta().orElse(null);
        return new BrokerMessage(m.id(), MessageCodec.encode(m), Math.max(0, Math.min(9, m.priority())), eta);
    }

    // --- small helpers ---------------------------------------------------------------------------------

    private static Signature.Kind kindOf(JsonNode sig) {
        return Signature.fromJson(sig).kind();
    }

    /** A group of one is its task (Celery's {@code maybe_unroll_group}). */
    private static ObjectNode maybeUnrollGroup(ObjectNode group) {
        ArrayNode tasks = (ArrayNode) group.get("kwargs").get("tasks");
        return tasks.size() == 1 ? (ObjectNode) Signature.fromJson(tasks.get(0)).toJson() : group;
    }

    /** {@code sig.clone(args, kwargs)}: a copy with the partial arguments merged. */
    private static ObjectNode cloneWith(ObjectNode sig, ArrayNode args, ObjectNode kwargs) {
        ObjectNode copy = sig.deepCopy();
        if (copy.path("immutable").asBoolean(false)) {
            return copy;
        }
        if (args != null && !args.isEmpty()) {
            copy.set("args", concat(args, (ArrayNode) copy.get("args")));
        }
        if (kwargs != null && !kwargs.isEmpty() && kindOf(copy) == Signature.Kind.TASK) {
            ((ObjectNode) copy.get("kwargs")).setAll(kwargs.deepCopy());
        }
        return copy;
    }

    /** {@code sig.clone(**options)}: a copy with the options merged (a set group_id kept). */
    private static ObjectNode cloneWithOptions(ObjectNode sig, ObjectNode options) {
        ObjectNode copy = sig.deepCopy();
        ObjectNode opts = (ObjectNode) copy.get("options");
        options.properties().forEach(e -> {
            if (!("group_id".equals(e.getKey()) && opts.has("group_id"))) {
                opts.set(e.getKey(), e.getValue().deepCopy());
            }
        });
        return copy;
    }

    private static ObjectNode chordOf(ObjectNode header, ObjectNode body) {
        ObjectNode kwargs = Json.NODES.objectNode();
        kwargs.putObject("kwargs");
        kwargs.set("header", header);
        kwargs.set("body", body);
        ObjectNode d = Json.NODES.objectNode();
        d.put("task", "celery.chord");
        d.putArray("args");
        d.set("kwargs", kwargs);
        d.putObject("options");
        d.put("subtask_type", "chord");
        d.put("immutable", false);
        return d;
    }

    private static void linkError(ObjectNode task, JsonNode errback) {
        if (kindOf(task) == Signature.Kind.CHORD) {
            ObjectNode body = (ObjectNode) Signature.fromJson(task.get("kwargs").get("body")).toJson();
            linkError(body, errback);
            ((ObjectNode) task.get("kwargs")).set("body", body);
            return;
        }
        if (kindOf(task) == Signature.Kind.GROUP) {
            for (JsonNode t : task.get("kwargs").get("tasks")) {
                linkError((ObjectNode) t, errback);
            }
            return;
        }
        appendList(task, "link_error", errback);
    }

    private static void extendList(ObjectNode sig, String option, JsonNode values) {
        ArrayNode l = OptionLists.of((ObjectNode) sig.get("options"), option);
        for (JsonNode v : list(values)) {
            l.add(v.deepCopy());
        }
    }

    private static void appendList(ObjectNode sig, String option, JsonNode value) {
        OptionLists.append((ObjectNode) sig.get("options"), option, value);
    }

    /** A value as a list: an array as it is, null as null, anything else as a list of one. */
    private static ArrayNode list(JsonNode n) {
        if (n == null || n.isNull()) {
            return null;
        }
        if (n instanceof ArrayNode a) {
            return a;
        }
        ArrayNode out = Json.NODES.arrayNode();
        out.add(n);
        return out;
    }

    private static ArrayNode concat(ArrayNode a, ArrayNode b) {
        ArrayNode out = a.deepCopy();
        out.addAll(b.deepCopy());
        return out;
    }

    private static ObjectNode nonNull(ObjectNode options) {
        ObjectNode out = Json.NODES.objectNode();
        if (options != null) {
            Iterator<Map.Entry<String, JsonNode>> it = options.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isNull()) {
                    out.set(e.getKey(), e.getValue());
                }
            }
        }
        return out;
    }

    private static JsonNode nullToNone(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n;
    }

    private static String text(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n.asText();
    }
}
