package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.TaskDefinition;
import io.celeriac.TaskOptions;
import io.celeriac.config.Durations;
import io.celeriac.config.Secrets;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's remote-control table: every inspect and control command of Celery 5.2's
 * {@code celery.worker.control}, by Celery's names, with Celery's arguments and reply shapes, so
 * Python's {@code celery inspect|control}, Flower and Celeriac's own CLI all steer this worker.
 */
final class WorkerControl {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final Worker w;

    WorkerControl(Worker worker) {
        this.w = worker;
    }

    Map<String, Function<JsonNode, JsonNode>> methods() {
        Map<String, Function<JsonNode, JsonNode>> m = new LinkedHashMap<>();
        // inspect
        m.put("ping", args -> ok("pong"));
        m.put("stats", args -> stats());
        m.put("active", args -> active(args.path("safe").asBoolean(false)));
        m.put("reserved", args -> reserved(args.path("safe").asBoolean(false)));
        m.put("scheduled", args -> scheduled(args.path("safe").asBoolean(false)));
        m.put("registered", this::registered);
        m.put("revoked", args -> Json.toTree(w.revocations().knownIds()));
        m.put("conf", args -> conf());
        m.put("query_task", this::queryTask);
        m.put("active_queues", args -> {
            ArrayNode out = Json.NODES.arrayNode();
            w.queues().forEach(q -> out.add(CeleryReplies.queue(q)));
            return out;
        });
        m.put("report", args -> ok(CeleryReplies.report(Worker.VERSION, w.broker().describe(),
                w.options().config().get(Settings.RESULT_BACKEND), w.options().config().describe())));
        m.put("clock", args -> Json.NODES.objectNode().put("clock", w.heartbeat().clock()));
        m.put("hello", this::hello);
        m.put("heartbeat", args -> {
            w.heartbeat().beatNow();
            return Json.NODES.nullNode();
        });
        m.put("memsample", args -> Json.NODES.textNode(CeleryReplies.memsample()));
        m.put("memdump", args -> Json.NODES.textNode("- rss (end): " + CeleryReplies.memsample() + ".\n"));
        m.put("objgraph", args -> error("ImportError('Requires the objgraph library')"));
        m.put("election", args -> Json.NODES.nullNode());
        // control
        m.put("enable_events", args -> ok(w.handler().enableEvents(true) ? "task events enabled" : "task events already enabled"));
        m.put("disable_events", args -> ok(w.handler().enableEvents(false) ? "task events disabled" : "task events already disabled"));
        m.put("shutdown", args -> {
            log.warn("{}: got shutdown from remote", w.nodeName());
            Thread t = new Thread(w::shutdown, "celeriac-remote-shutdown");
            t.setDaemon(true);
            t.start();
            return ok("shutting down: finishing the running tasks");
        });
        // with autoscale on, Celery 5.2 refuses pool_grow / pool_shrink: the range is changed instead
        m.put("pool_grow", args -> w.autoscaler() != null ? error(NOT_WITH_AUTOSCALE.formatted("pool_grow"))
                : ok(w.resize(args.path("n").asInt(1))));
        m.put("pool_shrink", args -> w.autoscaler() != null ? error(NOT_WITH_AUTOSCALE.formatted("pool_shrink"))
                : ok(w.resize(-args.path("n").asInt(1))));
        m.put("autoscale", this::autoscale);
        m.put("pool_restart", args -> error("ValueError('Pool restarts not enabled')"));
        m.put("rate_limit", this::rateLimit);
        m.put("time_limit", this::timeLimit);
        m.put("revoke", args -> revoke(args, args.path("terminate").asBoolean(false)));
        m.put("terminate", args -> revoke(args, true));
        m.put("add_consumer", args -> {
            String q = args.path("queue").asText("");
            if (q.isBlank()) {
                throw new IllegalArgumentException("add_consumer needs a queue");
            }
            if (w.queues().contains(q)) {
                return ok("already consuming from " + q);
            }
            w.queues().add(q);
            log.info("{}: now consuming from queue {}", w.nodeName(), q);
            return ok("add consumer " + q);
        });
        m.put("cancel_consumer", args -> {
            String q = args.path("queue").asText("");
            if (!w.queues().remove(q)) {
                return ok("not consuming from " + q);
            }
            log.info("{}: no longer consuming from queue {}", w.nodeName(), q);
            return ok("no longer consuming from " + q);
        });
        // Celery's aliases
        for (String alias : List.of("active", "reserved", "revoked", "conf")) {
            m.put("dump_" + alias, m.get(alias));
        }
        m.put("dump_schedule", m.get("scheduled"));
        m.put("dump_tasks", m.get("registered"));
        m.put("registered_tasks", m.get("registered"));
        return m;
    }

    private static final String NOT_WITH_AUTOSCALE = "%s is not supported with autoscale. Adjust autoscale range instead.";

    /** Celery's {@code autoscale [max [min]]}: a new range, applied at once (above the new max, idle slots retire now). */
    private ObjectNode autoscale(JsonNode args) {
        Autoscaler a = w.autoscaler();
        if (a == null) {
            return error("ValueError('Autoscale not enabled')");
        }
        int[] range;
        try {
            range = a.update(bound(args.path("max")), bound(args.path("min")));
        } catch (IllegalArgumentException e) {
            return error(e.getMessage());
        }
        log.info("{}: autoscale now max={} min={}", w.nodeName(), range[0], range[1]);
        w.autoscale();
        return ok("autoscale now max=" + range[0] + " min=" + range[1]);
    }

    /** An autoscale bound: a number (or a numeric string), or null when absent. */
    private static Integer bound(JsonNode v) {
        if (v.isMissingNode() || v.isNull()) {
            return null;
        }
        if (v.isIntegralNumber() || v.isTextual() && v.asText().trim().matches("\\d{1,6}")) {
            return v.isIntegralNumber() ? v.asInt() : Integer.parseInt(v.asText().trim());
        }
        throw new IllegalArgumentException("autoscale bounds are whole numbers, got " + v);
    }

    static ObjectNode ok(String what) {
        return Json.NODES.objectNode().put("ok", what);
    }

    static ObjectNode error(String what) {
        return Json.NODES.objectNode().put("error", what);
    }

    /** {@code stats}: Celery's keys and types first, then Celeriac's own figures. */
    private ObjectNode stats() {
        ObjectNode o = Json.NODES.objectNode();
        ObjectNode total = o.putObject("total");
        new java.util.TreeMap<>(w.stats().total).forEach((name, n) -> total.put(name, n.get()));
        o.put("pid", ProcessHandle.current().pid());
        o.put("clock", Long.toString(w.heartbeat().clock()));
        o.put("uptime", (System.currentTimeMillis() - w.startedAtMillis()) / 1000);
        o.set("pool", Json.toTree(w.pool().celeryStats(w.concurrency())));
        Autoscaler a = w.autoscaler();
        if (a != null) { // Celery's, where its worker puts it
            ObjectNode as = o.putObject("autoscaler");
            as.put("max", a.max());
            as.put("min", a.min());
            as.put("current", w.concurrency());
            as.put("qty", w.held());
        }
        o.set("broker", CeleryReplies.broker(w.broker().describe()));
        o.put("prefetch_count", w.prefetchLimit());
        o.set("rusage", CeleryReplies.rusage());
        // Celeriac's own, beside Celery's
        ObjectNode beat = w.heartbeat().state("stats");
        o.put("pool_description", w.pool().describe());
        o.set("pool_stats", beat.get("pool_stats"));
        o.put("concurrency", w.concurrency());
        o.set("queues", Json.toTree(List.copyOf(w.queues())));
        ObjectNode limits = o.putObject("rate_limits");
        w.handler().rateLimits.intervals().forEach((task, ns) -> limits.put(task, String.format("%.3f/s", 1e9 / ns)));
        for (String f : List.of("hostname", "sw_ident", "sw_ver", "sw_sys", "loadavg", "active", "processed", "succeeded",
                "failed", "retried", "last_poll", "last_task_done")) {
            o.set(f, beat.get(f));
        }
        return o;
    }

    private ArrayNode active(boolean safe) {
        return w.handler().active(safe);
    }

    /** Prefetched, not started, not waiting for an ETA (those are {@code scheduled}). */
    private ArrayNode reserved(boolean safe) {
        ArrayNode out = Json.NODES.arrayNode();
        Instant now = Instant.now();
        for (Delivery d : w.buffered()) {
            TaskMessage m = decode(d);
            if (m != null && m.eta().map(e -> !e.isAfter(now)).orElse(true)) {
                out.add(CeleryReplies.request(m, d.queue(), w.nodeName(), d.redelivered(), null, false, null, safe));
            }
        }
        return out;
    }

    /**
     * Tasks waiting for their ETA (countdown, eta, retry back-off) on this worker's queues: parked
     * in the broker (workers sharing a queue list the same ones), and any prefetched here but not yet parked.
     */
    private ArrayNode scheduled(boolean safe) {
        ArrayNode out = Json.NODES.arrayNode();
        Instant now = Instant.now();
        for (Delivery d : w.buffered()) {
            TaskMessage m = decode(d);
            if (m != null && m.eta().map(e -> e.isAfter(now)).orElse(false)) {
                out.add(scheduledEntry(m.eta().get(), m, d.queue(), d.redelivered(), safe));
            }
        }
        for (String q : List.copyOf(w.queues())) {
            for (Broker.Scheduled s : w.broker().scheduled(q, 100)) {
                try {
                    out.add(scheduledEntry(s.due(), MessageCodec.decode(s.payload()), q, false, safe));
                } catch (RuntimeException malformed) {
                    // it goes to the dead-letter queue when it comes due
                }
            }
        }
        return out;
    }

    private ObjectNode scheduledEntry(Instant eta, TaskMessage m, String queue, boolean redelivered, boolean safe) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("eta", CeleryTime.format(eta));
        o.put("priority", m.priority());
        o.set("request", CeleryReplies.request(m, queue, w.nodeName(), redelivered, null, false, null, safe));
        return o;
    }

    private static TaskMessage decode(Delivery d) {
        try {
            return MessageCodec.decode(d.payload());
        } catch (RuntimeException malformed) {
            return null; // it goes to the dead-letter queue when its turn comes
        }
    }

    /** {@code registered}: {@code name [k=v …]} for the fields asked (Celery's default: rate_limit), sorted; builtins on request. */
    private ArrayNode registered(JsonNode args) {
        List<String> items = new ArrayList<>();
        JsonNode asked = args.path("taskinfoitems");
        if (asked.isArray() && !asked.isEmpty()) {
            asked.forEach(i -> items.add(i.asText()));
        } else {
            items.addAll(List.of("exchange", "routing_key", "rate_limit"));
        }
        boolean builtins = args.path("builtins").asBoolean(false);
        TreeSet<String> out = new TreeSet<>();
        for (String name : w.registry().names()) {
            if (!builtins && name.startsWith("celery.")) {
                continue;
            }
            TaskDefinition t = w.registry().find(name).orElse(null);
            List<String> fields = new ArrayList<>();
            for (String item : items) {
                String v = t == null ? null : field(t, item);
                if (v != null) {
                    fields.add(item + "=" + v);
                }
            }
            out.add(fields.isEmpty() ? name : name + " [" + String.join(" ", fields) + "]");
        }
        return CeleryReplies.array(List.copyOf(out));
    }

    /** One task attribute as Celery's {@code str()} would print it, or null when unset. */
    private String field(TaskDefinition t, String item) {
        TaskOptions o = t.options();
        TimeLimits override = w.handler().limitOverrides.get(t.name());
        return switch (item) {
            case "rate_limit" -> {
                Long ns = w.handler().rateLimits.intervals().get(t.name());
                yield ns == null ? null : String.format(java.util.Locale.ROOT, "%.3f/s", 1e9 / ns);
            }
            case "time_limit" -> override != null && !override.hard().isZero() ? seconds(override.hard())
                    : o.timeLimit() == null ? null : seconds(o.timeLimit());
            case "soft_time_limit" -> override != null && !override.soft().isZero() ? seconds(override.soft())
                    : o.softTimeLimit() == null ? null : seconds(o.softTimeLimit());
            case "queue" -> o.queue();
            case "priority" -> o.priority() == null ? null : o.priority().toString();
            case "max_retries" -> o.maxRetries() == null ? null : o.maxRetries().toString();
            case "ignore_result" -> o.ignoreResult() ? "True" : null;
            case "acks_late" -> o.acksLate() == null ? null : (o.acksLate() ? "True" : "False");
            default -> null; // exchange, routing_key, …: not set on a Celeriac task
        };
    }

    private static String seconds(Duration d) {
        double s = Durations.toSeconds(d);
        return s == Math.rint(s) ? Long.toString((long) s) : Double.toString(s);
    }

    /** {@code query_task}: {@code {id: ["active"|"reserved", request]}} for the ids this worker holds; others left out. */
    private ObjectNode queryTask(JsonNode args) {
        List<String> ids = new ArrayList<>();
        JsonNode given = args.path("ids");
        if (given.isArray()) {
            given.forEach(i -> ids.add(i.asText()));
        } else if (given.isTextual()) {
            ids.add(given.asText());
        }
        ObjectNode out = Json.NODES.objectNode();
        ArrayNode active = w.handler().active(false);
        for (JsonNode r : active) {
            if (ids.contains(r.path("id").asText())) {
                out.putArray(r.path("id").asText()).add("active").add(r);
            }
        }
        for (JsonNode r : reserved(false)) {
            String id = r.path("id").asText();
            if (ids.contains(id) && !out.has(id)) {
                out.putArray(id).add("reserved").add(r);
            }
        }
        return out;
    }

    /** The effective settings, with their secrets masked ({@link io.celeriac.config.Config#describe}, through {@link Secrets}). */
    private ObjectNode conf() {
        ObjectNode o = Json.NODES.objectNode();
        w.options().config().describe().forEach((k, v) -> o.put(k, Secrets.redact(k, v)));
        return o;
    }

    /** Mingle's {@code hello}: take the sender's revocations, answer with ours and the clock; nothing to ourselves. */
    private JsonNode hello(JsonNode args) {
        if (w.nodeName().equals(args.path("from_node").asText())) {
            return Json.NODES.nullNode();
        }
        JsonNode theirs = args.path("revoked");
        if (theirs.isObject() && !theirs.isEmpty()) {
            Instant until = Instant.now().plus(w.options().config().get(Settings.RESULT_EXPIRES));
            theirs.fieldNames().forEachRemaining(id -> w.coordination().revoke(id, false, until));
        }
        ObjectNode out = Json.NODES.objectNode();
        ObjectNode revoked = out.putObject("revoked");
        double now = System.nanoTime() / 1e9;
        for (String id : w.revocations().knownIds()) {
            revoked.putArray(id).add(now).add(id);
        }
        out.put("clock", w.heartbeat().clock());
        return out;
    }

    private ObjectNode rateLimit(JsonNode args) {
        String task = args.path("task_name").asText(null);
        if (task == null || w.registry().find(task).isEmpty()) {
            return error("unknown task '" + task + "'");
        }
        String rate = args.path("rate_limit").isNull() ? "" : args.path("rate_limit").asText("");
        try {
            w.handler().rateLimits.set(task, rate);
        } catch (IllegalArgumentException e) {
            return error("Invalid rate limit string: " + e.getMessage());
        }
        return ok(rate.isBlank() || RateLimits.intervalNanos(rate) == 0 ? "rate limit disabled successfully"
                : "new rate limit set successfully");
    }

    private ObjectNode timeLimit(JsonNode args) {
        String task = args.path("task_name").asText(null);
        if (task == null || w.registry().find(task).isEmpty()) {
            return error("unknown task '" + task + "'");
        }
        Duration soft = Durations.ofSeconds(args.path("soft").asDouble(0));
        Duration hard = Durations.ofSeconds(args.path("hard").asDouble(0));
        if (!hard.isZero() && !soft.isZero() && soft.compareTo(hard) >= 0) {
            throw new IllegalArgumentException("the soft limit (" + soft.toMillis() / 1000.0 + " s) must be below the hard one ("
                    + hard.toMillis() / 1000.0 + " s)");
        }
        w.handler().limitOverrides.put(task, new TimeLimits(soft, hard));
        return ok("time limits set successfully");
    }

    /** {@code revoke} (and {@code terminate}): recorded for every Celeriac worker; the request was the broadcast, so not broadcast again. */
    private ObjectNode revoke(JsonNode args, boolean terminate) {
        List<String> ids = new ArrayList<>();
        JsonNode id = args.path("task_id");
        if (id.isArray()) {
            id.forEach(i -> ids.add(i.asText()));
        } else if (id.isTextual()) {
            ids.add(id.asText());
        }
        if (ids.isEmpty()) {
            throw new IllegalArgumentException("revoke needs a task_id");
        }
        Instant until = Instant.now().plus(w.options().config().get(Settings.RESULT_EXPIRES));
        ids.forEach(i -> w.coordination().revoke(i, terminate, until));
        w.revocations().refresh();
        if (terminate) {
            List<String> here = ids.stream().filter(w.handler()::isRunning).toList();
            return ok("terminate: " + (here.isEmpty() ? "tasks unknown" : String.join(", ", here)));
        }
        return ok("tasks " + String.join(", ", ids) + " flagged as revoked");
    }
}
