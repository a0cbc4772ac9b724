package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.Signature;
import io.celeriac.TaskContext;
import io.celeriac.TaskDefinition;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import io.celeriac.canvas.ChordCallback;
import io.celeriac.canvas.Ref;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.Settle;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Celery's built-in tasks ({@code celery/app/builtins.py}), which a Python client's canvas may
 * send to any worker: {@code celery.starmap}, {@code celery.map}, {@code celery.chunks},
 * {@code celery.accumulate}, {@code celery.chord_unlock}, {@code celery.group}, {@code celery.chord},
 * {@code celery.chain}, {@code celery.backend_cleanup}. Same names, arguments and results.
 */
final class CeleryBuiltins {
    private CeleryBuiltins() {
    }

    /** Registers each built-in the app does not define itself. */
    static void register(TaskRegistry registry) {
        add(registry, Tasks.raw("celery.starmap", ctx -> mapCall(registry, ctx, true)));
        add(registry, Tasks.raw("celery.map", ctx -> mapCall(registry, ctx, false)));
        add(registry, Tasks.raw("celery.chunks", CeleryBuiltins::chunks));
        add(registry, Tasks.raw("celery.accumulate", CeleryBuiltins::accumulate));
        add(registry, Tasks.raw("celery.chord_unlock", CeleryBuiltins::chordUnlock).ignoreResult(true).maxRetries(Integer.MAX_VALUE));
        add(registry, Tasks.raw("celery.group", CeleryBuiltins::group));
        add(registry, Tasks.raw("celery.chord", CeleryBuiltins::chord));
        add(registry, Tasks.raw("celery.chain", ctx -> {
            throw new UnsupportedOperationException("chain is not a real task");
        }));
        add(registry, Tasks.raw("celery.backend_cleanup", ctx -> null)); // results expire by themselves
    }

    private static void add(TaskRegistry registry, TaskDefinition.Builder task) {
        TaskDefinition t = task.build();
        if (registry.find(t.name()).isEmpty()) {
            registry.register(t);
        }
    }

    /** An argument given by position or by name, or null. */
    private static JsonNode arg(TaskContext ctx, int index, String name) {
        ArrayNode args = ctx.args();
        if (args.size() > index) {
            return args.get(index);
        }
        JsonNode k = ctx.kwargs().get(name);
        return k == null || k.isNull() ? null : k;
    }

    private static JsonNode require(TaskContext ctx, int index, String name) {
        JsonNode v = arg(ctx, index, name);
        if (v == null) {
            throw new IllegalArgumentException(ctx.taskName() + "() is missing argument '" + name + "'");
        }
        return v;
    }

    /** {@code xstarmap}: {@code [task(*item) for item in it]}; {@code xmap}: {@code [task(item) for item in it]} — run here, in order. */
    private static Object mapCall(TaskRegistry registry, TaskContext ctx, boolean star) throws Exception {
        Signature sig = Signature.fromJson(require(ctx, 0, "task"));
        TaskDefinition task = registry.find(sig.task()).orElseThrow(() ->
                new io.celeriac.TaskNotRegisteredException(sig.task(), "celery.starmap and celery.map run the task in this worker"));
        ArrayNode out = Json.NODES.arrayNode();
        for (JsonNode item : require(ctx, 1, "it")) {
            ArrayNode args;
            if (star && item.isArray()) {
                args = (ArrayNode) item;
            } else {
                args = Json.NODES.arrayNode();
                args.add(item);
            }
            Object value = task.invoke(ctx, task.bind(args, Json.NODES.objectNode()));
            out.add(Json.toTree(value));
        }
        return out;
    }

    /** {@code chunks.apply_chunks}: a group of {@code celery.starmap} tasks over parts of {@code n} items; returns the group. */
    @SuppressWarnings("unchecked")
    private static Object chunks(TaskContext ctx) {
        List<List<?>> items = Json.MAPPER.convertValue(require(ctx, 1, "it"), List.class);
        return ctx.app().applyGroup(io.celeriac.Canvas.chunks(Signature.fromJson(require(ctx, 0, "task")), items,
                require(ctx, 2, "n").asInt())).id();
    }

    /** {@code accumulate(*args, index=None)}: the arguments, or the one at {@code index}. */
    private static Object accumulate(TaskContext ctx) {
        JsonNode index = ctx.kwargs().get("index");
        ArrayNode args = ctx.args();
        return index != null && index.canConvertToInt() ? args.get(index.intValue()) : args;
    }

    /** {@code celery.group(tasks, result, group_id, partial_args)}: each task with the partial arguments, in the group. */
    private static Object group(TaskContext ctx) {
        JsonNode tasks = require(ctx, 0, "tasks");
        JsonNode result = arg(ctx, 1, "result");
        String groupId = require(ctx, 2, "group_id").asText();
        JsonNode partial = arg(ctx, 3, "partial_args");
        ObjectNode opts = Json.NODES.objectNode();
        opts.put("group_id", groupId);
        for (Signature s : Signature.readAll(tasks)) {
            ctx.app().applyAsync(s, partial != null && partial.isArray() ? (ArrayNode) partial : null, null, opts);
        }
        return result;
    }

    /** {@code celery.chord(header, body, partial_args=())}: the chord applied. */
    private static Object chord(TaskContext ctx) {
        JsonNode header = require(ctx, 0, "header");
        JsonNode body = require(ctx, 1, "body");
        JsonNode partial = arg(ctx, 2, "partial_args");
        Signature h = Signature.fromJson(header);
        Signature c = io.celeriac.Canvas.chord(h.kind() == Signature.Kind.GROUP ? h.tasks() : List.of(h), Signature.fromJson(body));
        Ref r = ctx.app().applyAsync(c, partial != null && partial.isArray() ? (ArrayNode) partial : null, null, null);
        return r == null ? null : r.id();
    }

    /**
     * {@code celery.chord_unlock(group_id, callback, interval=None, max_retries=None, result=None)}:
     * for a chord sent with a result backend that has no join of its own. Retries every
     * {@code interval} seconds until every header task has finished, then applies the body with the
     * results in order — or, when one failed, fails the body with {@code ChordError}.
     */
    private static Object chordUnlock(TaskContext ctx) {
        JsonNode callback = require(ctx, 1, "callback");
        JsonNode interval = arg(ctx, 2, "interval");
        JsonNode tuples = arg(ctx, 4, "result");
        List<String> ids = new ArrayList<>();
        if (tuples != null && tuples.isArray()) {
            for (JsonNode t : tuples) {
                Ref r = Ref.fromTuple(t);
                if (r != null) {
                    if (r.isGroup()) {
                        r.members().forEach(m -> ids.add(m.id()));
                    } else {
                        ids.add(r.id());
                    }
                }
            }
        }
        Celeriac app = ctx.app();
        List<Settle.Part> parts = new ArrayList<>();
        for (String id : ids) {
            Optional<TaskResult> r = app.results().get(id);
            if (r.isEmpty() || !r.get().state().ready()) {
                double secs = interval != null && interval.isNumber() ? interval.doubleValue() : 1.0;
                throw ctx.retry(null, io.celeriac.config.Durations.ofSeconds(secs));
            }
            parts.add(new Settle.Part(id, r.get().state(), r.get().result()));
        }
        ChordCallback body = new ChordCallback(app.dispatch(), callback, Celeriac.currentParent(), app.clock());
        app.commit(Settle.fire(body, parts));
        return null;
    }
}
