package io.celeriac;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.config.Durations;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A task invocation that has not been sent yet — Celery's signature — or a composition of them
 * (chain, group, chord; see {@link Canvas}). It is the dict Celery serialises in a message's
 * {@code embed} and in {@code link}/{@code link_error}: {@code task}, {@code args}, {@code kwargs},
 * {@code options} (queue, countdown, link, task_id, …), {@code subtask_type}, {@code immutable};
 * fields it does not know are kept as they came.
 *
 * <p>Immutable: every method that changes something returns a new signature.
 *
 * <pre>{@code
 * Signature add = Signature.of("add", 2, 2).link(Signature.of("mul", 10)).set("queue", "math");
 * AsyncResult r = app.apply(Canvas.chain(add, Signature.of("add", 1)));
 * }</pre>
 */
public final class Signature {
    /** What a signature stands for. */
    public enum Kind {
        /** One task. */
        TASK,
        /** Steps run one after the other, each result prepended to the next step's arguments. */
        CHAIN,
        /** Tasks run in parallel. */
        GROUP,
        /** A group (the header) whose results, in order, are the first argument of the body. */
        CHORD,
        /** Celery's {@code chunks}: a group of {@code celery.starmap} tasks over parts of a list. */
        CHUNKS,
        /** Celery's {@code xmap}: one {@code celery.map} task calling a task once per item. */
        MAP,
        /** Celery's {@code xstarmap}: one {@code celery.starmap} task calling a task once per argument list. */
        STARMAP
    }

    private final ObjectNode dict;

    private Signature(ObjectNode dict) {
        this.dict = dict;
    }

    /**
     * A task with positional arguments (Celery's {@code add.s(2, 2)}).
     *
     * @param task the task's name
     * @param args its positional arguments (any values Jackson maps to JSON)
     * @return the signature
     */
    public static Signature of(String task, Object... args) {
        return of(task, Arrays.asList(args), Map.of());
    }

    /**
     * A task with positional and keyword arguments (any values Jackson maps to JSON).
     *
     * @param task   the task's name
     * @param args   positional arguments; null: none
     * @param kwargs keyword arguments; null: none
     * @return the signature
     * @throws NullPointerException {@code task} is null
     */
    public static Signature of(String task, List<?> args, Map<String, ?> kwargs) {
        Objects.requireNonNull(task, "task");
        ObjectNode d = Json.NODES.objectNode();
        d.put("task", task);
        d.set("args", Json.toTree(args == null ? List.of() : args));
        d.set("kwargs", Json.toTree(kwargs == null ? Map.of() : kwargs));
        d.putObject("options");
        d.putNull("subtask_type");
        d.put("immutable", false);
        return new Signature(d);
    }

    /** A signature of a built-in kind: {@code task} with the given kwargs and subtask type. */
    static Signature composite(String task, String subtaskType, ObjectNode kwargs, boolean immutable) {
        ObjectNode d = Json.NODES.objectNode();
        d.put("task", task);
        d.putArray("args");
        d.set("kwargs", kwargs);
        d.putObject("options");
        d.put("subtask_type", subtaskType);
        d.put("immutable", immutable);
        return new Signature(d);
    }

    /**
     * Reads a signature as Celery serialises it. A list is read as a group of its items (as Celery
     * reads a chord header).
     *
     * @param json Celery's signature dict (or a list of them)
     * @return the signature
     * @throws IllegalArgumentException it is not a signature (the message names what is wrong)
     */
    public static Signature fromJson(JsonNode json) {
        if (json == null || json.isNull()) {
            throw new IllegalArgumentException("a signature is missing (null)");
        }
        if (json.isArray()) {
            return Canvas.group(readAll(json));
        }
        if (!json.isObject()) {
            throw new IllegalArgumentException("a signature must be a JSON object, got " + json.getNodeType() + ": " + abbreviate(json));
        }
        ObjectNode d = ((ObjectNode) json).deepCopy();
        JsonNode task = d.get("task");
        if (task == null || !task.isTextual() || task.asText().isEmpty()) {
            throw new IllegalArgumentException("a signature has no 'task' name: " + abbreviate(json));
        }
        if (!d.path("args").isArray()) {
            d.set("args", d.path("args").isNull() || d.path("args").isMissingNode() ? Json.NODES.arrayNode() : wrap(d.get("args")));
        }
        if (!d.path("kwargs").isObject()) {
            d.putObject("kwargs");
        }
        if (!d.path("options").isObject()) {
            d.putObject("options");
        }
        if (!d.has("subtask_type")) {
            d.putNull("subtask_type");
        }
        if (!d.has("immutable")) {
            d.put("immutable", false);
        }
        Signature s = new Signature(d);
        s.check();
        return s;
    }

    /**
     * Reads a list of signatures (a JSON array); a single object is a list of one.
     *
     * @param json the array, an object, or null (an empty list)
     * @return the signatures
     * @throws IllegalArgumentException an item is not a signature
     */
    public static List<Signature> readAll(JsonNode json) {
        List<Signature> out = new ArrayList<>();
        if (json == null || json.isNull()) {
            return out;
        }
        if (json.isArray()) {
            json.forEach(j -> out.add(fromJson(j)));
        } else {
            out.add(fromJson(json));
        }
        return out;
    }

    private void check() {
        switch (kind()) {
            case CHAIN, GROUP -> {
                if (!kwargs().path("tasks").isArray()) {
                    throw new IllegalArgumentException("a " + subtaskType() + " signature has no kwargs.tasks list");
                }
                tasks(); // every task readable
            }
            case CHORD -> {
                header();
                if (kwargs().path("body").isMissingNode()) {
                    throw new IllegalArgumentException("a chord signature has no kwargs.body");
                }
            }
            case CHUNKS, MAP, STARMAP -> {
                if (!kwargs().has("task") || !kwargs().path("it").isArray()) {
                    throw new IllegalArgumentException("a " + subtaskType() + " signature needs kwargs.task and kwargs.it");
                }
            }
            default -> {
            }
        }
    }

    private static ArrayNode wrap(JsonNode n) {
        ArrayNode a = Json.NODES.arrayNode();
        a.add(n);
        return a;
    }

    /** @return the signature as Celery serialises it (a copy) */
    public ObjectNode toJson() {
        return dict.deepCopy();
    }

    /** The dict itself, for code in this library that only reads it. */
    ObjectNode node() {
        return dict;
    }

    /** @return the task's name ({@code celery.chain}, {@code celery.group}, … for a composition) */
    public String task() {
        return dict.get("task").asText();
    }

    /** @return the positional arguments given so far (a copy) */
    public ArrayNode args() {
        return (ArrayNode) dict.get("args").deepCopy();
    }

    /** @return the keyword arguments (a copy) */
    public ObjectNode kwargs() {
        return (ObjectNode) dict.get("kwargs").deepCopy();
    }

    /** @return Celery's execution options (queue, countdown, link, link_error, task_id, group_id, …), a copy */
    public ObjectNode options() {
        return (ObjectNode) dict.get("options").deepCopy();
    }

    /**
     * One execution option.
     *
     * @param name the option's name, as Celery's ({@code "queue"}, {@code "countdown"}, …)
     * @return its value (a copy), or null when not set
     */
    public JsonNode option(String name) {
        JsonNode n = dict.get("options").get(name);
        return n == null ? null : n.deepCopy();
    }

    /** @return {@code chain}, {@code group}, {@code chord}, {@code chunks}, {@code xmap}, {@code xstarmap}, or null for a task */
    public String subtaskType() {
        JsonNode t = dict.get("subtask_type");
        return t == null || t.isNull() ? null : t.asText();
    }

    /** @return what this signature stands for (a subtask type this version does not know reads as {@link Kind#TASK}) */
    public Kind kind() {
        String t = subtaskType();
        if (t == null) {
            return Kind.TASK;
        }
        return switch (t) {
            case "chain" -> Kind.CHAIN;
            case "group" -> Kind.GROUP;
            case "chord" -> Kind.CHORD;
            case "chunks" -> Kind.CHUNKS;
            case "xmap" -> Kind.MAP;
            case "xstarmap" -> Kind.STARMAP;
            default -> Kind.TASK; // a subtask type this version does not know: sent as the task it names
        };
    }

    /** @return true when a parent's result is not prepended to its arguments (Celery's {@code si()}) */
    public boolean isImmutable() {
        return dict.path("immutable").asBoolean(false);
    }

    /** @return the task id this signature will be sent with ({@code options.task_id}), or null before it has one */
    public String id() {
        JsonNode id = dict.get("options").get("task_id");
        return id == null || id.isNull() ? null : id.asText();
    }

    /** @return the steps of a chain, the tasks of a group, or a chord's header tasks */
    public List<Signature> tasks() {
        if (kind() == Kind.CHORD) {
            return header().tasks();
        }
        return readAll(dict.get("kwargs").get("tasks"));
    }

    /**
     * A chord's header.
     *
     * @return it, as a group
     * @throws IllegalArgumentException this is not a chord (or has no header)
     */
    public Signature header() {
        JsonNode h = dict.get("kwargs").get("header");
        if (h == null || h.isNull()) {
            throw new IllegalArgumentException("a chord signature has no kwargs.header");
        }
        return fromJson(h);
    }

    /**
     * A chord's body.
     *
     * @return the task run with the header's results
     * @throws IllegalArgumentException this has no body
     */
    public Signature body() {
        return fromJson(dict.get("kwargs").get("body"));
    }

    // --- changes (each returns a new signature) -----------------------------------------------------

    /** @return the same signature, immutable: it does not take its parent's result as first argument (Celery's {@code si}) */
    public Signature immutable() {
        return withImmutable(true);
    }

    /**
     * The same signature, immutable or not; a group's (or a chord header's) tasks change with it, as Celery's.
     *
     * @param immutable true: the parent's result is not prepended
     * @return the changed copy
     */
    public Signature withImmutable(boolean immutable) {
        ObjectNode d = dict.deepCopy();
        if (kind() == Kind.GROUP || kind() == Kind.CHORD) { // as Celery: a group's tasks become immutable
            ArrayNode tasks = Json.NODES.arrayNode();
            tasks().forEach(t -> tasks.add(t.withImmutable(immutable).dict));
            if (kind() == Kind.GROUP) {
                ((ObjectNode) d.get("kwargs")).set("tasks", tasks);
            } else {
                ObjectNode header = Canvas.group(Signature.readAll(tasks)).dict;
                ((ObjectNode) d.get("kwargs")).set("header", header);
            }
        }
        d.put("immutable", immutable);
        return new Signature(d);
    }

    /**
     * Sets one of Celery's execution options ({@code queue}, {@code countdown}, {@code priority}, {@code expires}, …).
     *
     * @param option the option's name, as Celery's
     * @param value  its value (any value Jackson maps to JSON)
     * @return the changed copy
     */
    public Signature set(String option, Object value) {
        ObjectNode d = dict.deepCopy();
        ((ObjectNode) d.get("options")).set(option, value instanceof JsonNode j ? j.deepCopy() : Json.toTree(value));
        return new Signature(d);
    }

    /**
     * Sets the options a {@link SendOptions} carries (queue, priority, countdown or eta, expires, time limits, task id, headers).
     *
     * @param options the options
     * @return the changed copy
     */
    public Signature set(SendOptions options) {
        ObjectNode d = dict.deepCopy();
        ((ObjectNode) d.get("options")).setAll(celeryOptions(options));
        return new Signature(d);
    }

    /**
     * The same signature with this task id.
     *
     * @param taskId the id to send it with
     * @return the changed copy
     */
    public Signature withId(String taskId) {
        return set("task_id", taskId);
    }

    /**
     * Adds a callback, applied with this task's result when it succeeds (Celery's {@code link}); on a
     * chord it links the body, on a group its first task (as Celery).
     *
     * @param callback the task to apply
     * @return the changed copy
     */
    public Signature link(Signature callback) {
        if (kind() == Kind.CHORD) { // as Celery: a chord's callbacks are its body's
            return withBody(body().link(callback));
        }
        if (kind() == Kind.GROUP) { // Celery links the first task, with an immutable callback
            List<Signature> tasks = new ArrayList<>(tasks());
            tasks.set(0, tasks.get(0).link(callback.immutable()));
            return Canvas.group(tasks).withOptions(options());
        }
        return appendToList("link", callback);
    }

    /**
     * Adds an errback, applied with this task's id when it fails (Celery's {@code link_error}); on a
     * group it links every task, on a chord its body.
     *
     * @param errback the task to apply
     * @return the changed copy
     */
    public Signature linkError(Signature errback) {
        if (kind() == Kind.CHORD) {
            return withBody(body().linkError(errback));
        }
        if (kind() == Kind.GROUP) {
            List<Signature> tasks = new ArrayList<>();
            tasks().forEach(t -> tasks.add(t.linkError(errback)));
            return Canvas.group(tasks).withOptions(options());
        }
        return appendToList("link_error", errback);
    }

    private Signature appendToList(String option, Signature sig) {
        ObjectNode d = dict.deepCopy();
        io.celeriac.canvas.OptionLists.append((ObjectNode) d.get("options"), option, sig.dict); // Celery adds a callback once
        return new Signature(d);
    }

    Signature withBody(Signature body) {
        ObjectNode d = dict.deepCopy();
        ((ObjectNode) d.get("kwargs")).set("body", body.dict.deepCopy());
        return new Signature(d);
    }

    /** The same signature with {@code options} merged over its own. */
    Signature withOptions(ObjectNode options) {
        ObjectNode d = dict.deepCopy();
        ((ObjectNode) d.get("options")).setAll(options.deepCopy());
        return new Signature(d);
    }

    /** The same signature with these positional arguments and keyword arguments. */
    Signature withArgs(ArrayNode args, ObjectNode kwargs) {
        ObjectNode d = dict.deepCopy();
        d.set("args", args.deepCopy());
        d.set("kwargs", kwargs.deepCopy());
        return new Signature(d);
    }

    /** Celery's option names for what a {@link SendOptions} carries. */
    static ObjectNode celeryOptions(SendOptions o) {
        ObjectNode opts = Json.NODES.objectNode();
        if (o.taskId() != null) {
            opts.put("task_id", o.taskId());
        }
        if (o.queue() != null) {
            opts.put("queue", o.queue());
        }
        if (o.priority() != null) {
            opts.put("priority", o.priority());
        }
        if (o.countdown() != null) {
            opts.put("countdown", Durations.toSeconds(o.countdown()));
        }
        if (o.eta() != null) {
            opts.put("eta", CeleryTime.format(o.eta()));
        }
        if (o.expiresIn() != null) {
            opts.put("expires", Durations.toSeconds(o.expiresIn()));
        } else if (o.expiresAt() != null) {
            opts.put("expires", CeleryTime.format(o.expiresAt()));
        }
        if (o.ignoreResult() != null) {
            opts.put("ignore_result", o.ignoreResult());
        }
        if (o.timeLimit() != null) {
            opts.put("time_limit", Durations.toSeconds(o.timeLimit()));
        }
        if (o.softTimeLimit() != null) {
            opts.put("soft_time_limit", Durations.toSeconds(o.softTimeLimit()));
        }
        if (!o.headers().isEmpty()) {
            ObjectNode h = opts.putObject("headers");
            o.headers().forEach(h::set);
        }
        return opts;
    }

    private static String abbreviate(JsonNode n) {
        String s = n.toString();
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Signature s && s.dict.equals(dict);
    }

    @Override
    public int hashCode() {
        return dict.hashCode();
    }

    /** As Celery's repr: {@code add(2, 2)}. */
    @Override
    public String toString() {
        return switch (kind()) {
            case CHAIN -> String.join(" | ", tasks().stream().map(Signature::toString).toList());
            case GROUP -> "group(" + tasks() + ")";
            case CHORD -> "chord(" + header().tasks() + ", " + body() + ")";
            default -> task() + "(" + io.celeriac.protocol.PythonRepr.args(args()).replaceAll("^\\((.*?),?\\)$", "$1")
                    + (dict.get("kwargs").size() > 0 ? ", **" + io.celeriac.protocol.PythonRepr.kwargs(kwargs()) : "") + ")";
        };
    }
}
