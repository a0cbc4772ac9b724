package io.celeriac.canvas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Signature;
import io.celeriac.protocol.Json;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

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
/** Celery's signature dicts as mutable JSON: the small operations {@link Dispatch} and {@link Freezer} are made of. */
final class SigJson {
    private SigJson() {
    }

    /** A chord's header as a group signature (Celery keeps it as a list until the chord is frozen). */
    static ObjectNode headerGroup(JsonNode header) {
        Signature h = Signature.fromJson(header);
        ObjectNode g = h.kind() == Signature.Kind.GROUP ? h.toJson() : io.celeriac.Canvas.group(List.of(h)).toJson();
        return g;
    }

    /** {@code chunks.group()}: a group of {@code celery.starmap} signatures over parts of {@code n} items. */
    static ObjectNode chunksGroup(ObjectNode sig) {
        ObjectNode kw = (ObjectNode) sig.get("kwargs");
        int n = Math.max(1, kw.path("n").asInt(1));
        ArrayNode tasks = Json.NODES.arrayNode();
        ArrayNode part = null;
        for (JsonNode item : kw.get("it")) {
            if (part == null || part.size() == n) {
                ObjectNode k = Json.NODES.objectNode();
                k.set("task", kw.get("task").deepCopy());
                part = k.putArray("it");
                tasks.add(dict("celery.starmap", "xstarmap", k, true));
            }
            part.add(item.deepCopy());
        }
        ObjectNode g = io.celeriac.Canvas.group(Signature.readAll(tasks)).toJson();
        ((ObjectNode) g.get("options")).setAll(((ObjectNode) sig.get("options")).deepCopy());
        return g;
    }

    static Signature.Kind kindOf(JsonNode sig) {
        return Signature.fromJson(sig).kind();
    }

    /** A group of one is its task (Celery's {@code maybe_unroll_group}). */
    static ObjectNode maybeUnrollGroup(ObjectNode group) {
        ArrayNode tasks = (ArrayNode) group.get("kwargs").get("tasks");
        return tasks.size() == 1 ? (ObjectNode) Signature.fromJson(tasks.get(0)).toJson() : group;
    }

    /** {@code sig.clone(args, kwargs)}: a copy with the partial arguments merged. */
    static ObjectNode cloneWith(ObjectNode sig, ArrayNode args, ObjectNode kwargs) {
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
    static ObjectNode cloneWithOptions(ObjectNode sig, ObjectNode options) {
        ObjectNode copy = sig.deepCopy();
        ObjectNode opts = (ObjectNode) copy.get("options");
        options.properties().forEach(e -> {
            if (!("group_id".equals(e.getKey()) && opts.has("group_id"))) {
                opts.set(e.getKey(), e.getValue().deepCopy());
            }
        });
        return copy;
    }

    static ObjectNode chordOf(ObjectNode header, ObjectNode body) {
        ObjectNode kwargs = Json.NODES.objectNode();
        kwargs.putObject("kwargs");
        kwargs.set("header", header);
        kwargs.set("body", body);
        return dict("celery.chord", "chord", kwargs, false);
    }

    /** A signature dict of one of Celery's own kinds, with no arguments and no options yet. */
    static ObjectNode dict(String task, String subtaskType, ObjectNode kwargs, boolean immutable) {
        ObjectNode d = Json.NODES.objectNode();
        d.put("task", task);
        d.putArray("args");
        d.set("kwargs", kwargs);
        d.putObject("options");
        d.put("subtask_type", subtaskType);
        d.put("immutable", immutable);
        return d;
    }

    static void linkError(ObjectNode task, JsonNode errback) {
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

    static void extendList(ObjectNode sig, String option, JsonNode values) {
        ArrayNode l = OptionLists.of((ObjectNode) sig.get("options"), option);
        for (JsonNode v : list(values)) {
            l.add(v.deepCopy());
        }
    }

    static void appendList(ObjectNode sig, String option, JsonNode value) {
        OptionLists.append((ObjectNode) sig.get("options"), option, value);
    }

    /** A value as a list: an array as it is, null as null, anything else as a list of one. */
    static ArrayNode list(JsonNode n) {
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

    static ArrayNode concat(ArrayNode a, ArrayNode b) {
        ArrayNode out = a.deepCopy();
        out.addAll(b.deepCopy());
        return out;
    }

    static ObjectNode nonNull(ObjectNode options) {
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

    static JsonNode nullToNone(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n;
    }

    static String text(JsonNode n) {
        return n == null || n.isNull() || n.isMissingNode() ? null : n.asText();
    }
}
