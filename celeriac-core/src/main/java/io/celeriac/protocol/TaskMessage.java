package io.celeriac.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.InetAddress;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * A Celery protocol v2 task message: the kombu envelope (content type, headers, properties) and the
 * body {@code [args, kwargs, embed]}. Fields Celeriac does not know are kept as they came, so a
 * message read and written again loses nothing.
 *
 * <p>Instances are immutable: accessors that return JSON return copies, and changes go through
 * {@link #withRetry} or a {@link Builder}. Encode and decode with {@link MessageCodec}.
 */
public final class TaskMessage {
    private final ObjectNode envelope; // content-type, content-encoding, headers, properties, unknown keys; no body
    private final ArrayNode args;
    private final ObjectNode kwargs;
    private final ObjectNode embed;

    TaskMessage(ObjectNode envelope, ArrayNode args, ObjectNode kwargs, ObjectNode embed) {
        this.envelope = envelope;
        this.args = args;
        this.kwargs = kwargs;
        this.embed = embed;
    }

    ObjectNode envelope() {
        return envelope;
    }

    ArrayNode argsNode() {
        return args;
    }

    ObjectNode kwargsNode() {
        return kwargs;
    }

    ObjectNode embedNode() {
        return embed;
    }

    private ObjectNode headersNode() {
        return (ObjectNode) envelope.get("headers");
    }

    private ObjectNode propertiesNode() {
        return (ObjectNode) envelope.get("properties");
    }

    public String id() {
        return text(headersNode(), "id");
    }

    /** The task name the worker dispatches on. */
    public String task() {
        return text(headersNode(), "task");
    }

    public int retries() {
        JsonNode n = headersNode().get("retries");
        return n != null && n.canConvertToInt() ? n.intValue() : 0;
    }

    public Optional<Instant> eta() {
        return time("eta");
    }

    public Optional<Instant> expires() {
        return time("expires");
    }

    public String rootId() {
        return text(headersNode(), "root_id");
    }

    public String parentId() {
        return text(headersNode(), "parent_id");
    }

    public String group() {
        return text(headersNode(), "group");
    }

    public String origin() {
        return text(headersNode(), "origin");
    }

    public boolean ignoreResult() {
        JsonNode n = headersNode().get("ignore_result");
        return n != null && n.asBoolean(false);
    }

    /** {@code timelimit} header: [hard, soft] in seconds; each may be null. */
    public Double hardTimeLimit() {
        return limit(0);
    }

    public Double softTimeLimit() {
        return limit(1);
    }

    private Double limit(int index) {
        JsonNode tl = headersNode().get("timelimit");
        if (tl == null || !tl.isArray() || tl.size() <= index || !tl.get(index).isNumber()) {
            return null;
        }
        return tl.get(index).doubleValue();
    }

    /** {@code properties.priority}, 0 when absent. */
    public int priority() {
        JsonNode n = propertiesNode().get("priority");
        return n != null && n.canConvertToInt() ? n.intValue() : 0;
    }

    /** The queue the producer routed it to ({@code properties.delivery_info.routing_key}), or null. */
    public String routingKey() {
        JsonNode di = propertiesNode().get("delivery_info");
        return di == null ? null : text(di, "routing_key");
    }

    /** One header, or null. Unknown headers are kept and can be read here. */
    public JsonNode header(String name) {
        JsonNode n = headersNode().get(name);
        return n == null ? null : n.deepCopy();
    }

    public ObjectNode headers() {
        return headersNode().deepCopy();
    }

    public ObjectNode properties() {
        return propertiesNode().deepCopy();
    }

    public ArrayNode args() {
        return args.deepCopy();
    }

    public ObjectNode kwargs() {
        return kwargs.deepCopy();
    }

    /** {@link #args} as JSON text, without copying them first (the task history writes it for every task). */
    public String argsJson() {
        return Json.write(args);
    }

    /** {@link #kwargs} as JSON text, without copying them first. */
    public String kwargsJson() {
        return Json.write(kwargs);
    }

    /** {@code {callbacks, errbacks, chain, chord}}. */
    public ObjectNode embed() {
        return embed.deepCopy();
    }

    /** One part of the embed ({@code callbacks}, {@code errbacks}, {@code chain}, {@code chord}), or null when absent or null. */
    public JsonNode embedded(String part) {
        JsonNode n = embed.get(part);
        return n == null || n.isNull() ? null : n.deepCopy();
    }

    /** {@code group_index}, or null. */
    public Integer groupIndex() {
        JsonNode n = headersNode().get("group_index");
        return n != null && n.canConvertToInt() ? n.intValue() : null;
    }

    /**
     * The message for the next attempt: same id and arguments, {@code retries} and {@code eta} set,
     * a fresh delivery tag, and no redelivery marks.
     */
    public TaskMessage withRetry(int retries, Instant eta) {
        ObjectNode env = envelope.deepCopy();
        ObjectNode h = (ObjectNode) env.get("headers");
        h.put("retries", retries);
        h.put("eta", CeleryTime.format(eta));
        h.remove("redelivered");
        ObjectNode p = (ObjectNode) env.get("properties");
        p.put("delivery_tag", UUID.randomUUID().toString());
        JsonNode di = p.get("delivery_info");
        if (di instanceof ObjectNode o) {
            o.remove("redelivered");
        }
        return new TaskMessage(env, args, kwargs, embed);
    }

    /**
     * A copy to publish again (parked for its ETA, put back after a lost worker), with one header set
     * when {@code name} is not null. It gets a fresh delivery tag: it is a new delivery, and brokers
     * that track deliveries by tag (Redis, like kombu) must not take it for the old one.
     */
    public TaskMessage republished(String name, JsonNode value) {
        ObjectNode env = envelope.deepCopy();
        if (name != null) {
            ((ObjectNode) env.get("headers")).set(name, value);
        }
        ((ObjectNode) env.get("properties")).put("delivery_tag", UUID.randomUUID().toString());
        return new TaskMessage(env, args, kwargs, embed);
    }

    private Optional<Instant> time(String header) {
        String s = text(headersNode(), header);
        return s == null ? Optional.empty() : Optional.of(CeleryTime.parse(s));
    }

    private static String text(JsonNode obj, String field) {
        JsonNode n = obj.get(field);
        return n == null || n.isNull() ? null : n.asText();
    }

    @Override
    public String toString() {
        return LogText.escape(task()) + "[" + LogText.escape(id()) + "]"; // safe in a log line
    }

    public static Builder builder(String task) {
        return new Builder(task);
    }

    /** Builds a new message with every protocol-2 header present, as Celery 5 sends them. */
    public static final class Builder {
        private final String task;
        private String id = UUID.randomUUID().toString();
        private ArrayNode args = Json.NODES.arrayNode();
        private ObjectNode kwargs = Json.NODES.objectNode();
        private Instant eta;
        private Instant expires;
        private int retries;
        private int priority;
        private String queue = "celery";
        private String rootId;
        private String parentId;
        private String group;
        private Double hardLimit;
        private Double softLimit;
        private boolean ignoreResult;
        private Integer groupIndex;
        private String shadow;
        private String replyTo;
        private JsonNode callbacks = NullNode.instance;
        private JsonNode errbacks = NullNode.instance;
        private JsonNode chain = NullNode.instance;
        private JsonNode chord = NullNode.instance;
        private ObjectNode extraHeaders = Json.NODES.objectNode();

        private Builder(String task) {
            this.task = Objects.requireNonNull(task, "task");
        }

        public Builder id(String id) {
            this.id = Objects.requireNonNull(id, "id");
            return this;
        }

        public Builder args(ArrayNode args) {
            this.args = args.deepCopy();
            return this;
        }

        public Builder kwargs(ObjectNode kwargs) {
            this.kwargs = kwargs.deepCopy();
            return this;
        }

        public Builder eta(Instant eta) {
            this.eta = eta;
            return this;
        }

        public Builder expires(Instant expires) {
            this.expires = expires;
            return this;
        }

        public Builder retries(int retries) {
            this.retries = retries;
            return this;
        }

        public Builder priority(int priority) {
            this.priority = priority;
            return this;
        }

        public Builder queue(String queue) {
            this.queue = Objects.requireNonNull(queue, "queue");
            return this;
        }

        public Builder rootId(String rootId) {
            this.rootId = rootId;
            return this;
        }

        public Builder parentId(String parentId) {
            this.parentId = parentId;
            return this;
        }

        public Builder group(String group) {
            this.group = group;
            return this;
        }

        /** The task's place in its group (a chord header sets it; a plain group leaves it null). */
        public Builder groupIndex(Integer groupIndex) {
            this.groupIndex = groupIndex;
            return this;
        }

        /** Celery's {@code shadow}: the name shown in logs and monitoring instead of the task's. */
        public Builder shadow(String shadow) {
            this.shadow = shadow;
            return this;
        }

        /** {@code properties.reply_to}; by default this process's id. */
        public Builder replyTo(String replyTo) {
            this.replyTo = replyTo;
            return this;
        }

        /**
         * The body's {@code embed}: signatures to apply after success ({@code callbacks}) and after
         * failure ({@code errbacks}), the rest of a chain (in reverse order: the next step last), and
         * the chord body this task is a header part of. Null leaves a part out (JSON null).
         */
        public Builder embed(JsonNode callbacks, JsonNode errbacks, JsonNode chain, JsonNode chord) {
            this.callbacks = callbacks == null ? NullNode.instance : callbacks.deepCopy();
            this.errbacks = errbacks == null ? NullNode.instance : errbacks.deepCopy();
            this.chain = chain == null ? NullNode.instance : chain.deepCopy();
            this.chord = chord == null ? NullNode.instance : chord.deepCopy();
            return this;
        }

        public Builder timeLimit(Double hard, Double soft) {
            this.hardLimit = hard;
            this.softLimit = soft;
            return this;
        }

        public Builder ignoreResult(boolean ignoreResult) {
            this.ignoreResult = ignoreResult;
            return this;
        }

        /** Extra headers, merged after the standard ones (Celery's {@code apply_async(headers=…)}). */
        public Builder header(String name, JsonNode value) {
            extraHeaders.set(name, value);
            return this;
        }

        public TaskMessage build() {
            ObjectNode h = Json.NODES.objectNode();
            h.put("lang", "java");
            h.put("task", task);
            h.put("id", id);
            putText(h, "shadow", shadow);
            putTime(h, "eta", eta);
            putTime(h, "expires", expires);
            putText(h, "group", group);
            if (groupIndex == null) h.putNull("group_index"); else h.put("group_index", groupIndex);
            h.put("retries", retries);
            ArrayNode tl = h.putArray("timelimit");
            if (hardLimit == null) tl.addNull(); else tl.add(hardLimit);
            if (softLimit == null) tl.addNull(); else tl.add(softLimit);
            h.put("root_id", rootId != null ? rootId : id);
            putText(h, "parent_id", parentId);
            h.put("argsrepr", PythonRepr.args(args));
            h.put("kwargsrepr", PythonRepr.kwargs(kwargs));
            h.put("origin", Origin.VALUE);
            h.put("ignore_result", ignoreResult);
            for (Map.Entry<String, JsonNode> e : extraHeaders.properties()) {
                h.set(e.getKey(), e.getValue());
            }

            ObjectNode p = Json.NODES.objectNode();
            p.put("correlation_id", id);
            p.put("reply_to", replyTo != null ? replyTo : Origin.REPLY_TO);
            p.put("delivery_mode", 2);
            if (expires != null) {
                long ms = Math.max(0, expires.toEpochMilli() - System.currentTimeMillis());
                p.put("expiration", Long.toString(ms)); // AMQP wants a string; Redis ignores it
            }
            ObjectNode di = p.putObject("delivery_info");
            di.put("exchange", "");
            di.put("routing_key", queue);
            p.put("priority", priority);
            p.put("body_encoding", "base64");
            p.put("delivery_tag", UUID.randomUUID().toString());

            ObjectNode env = Json.NODES.objectNode();
            env.put("content-encoding", "utf-8");
            env.put("content-type", "application/json");
            env.set("headers", h);
            env.set("properties", p);

            ObjectNode embed = Json.NODES.objectNode();
            embed.set("callbacks", callbacks);
            embed.set("errbacks", errbacks);
            embed.set("chain", chain);
            embed.set("chord", chord);
            return new TaskMessage(env, args, kwargs, embed);
        }

        private static void putTime(ObjectNode h, String name, Instant t) {
            if (t == null) h.putNull(name); else h.put(name, CeleryTime.format(t));
        }

        private static void putText(ObjectNode h, String name, String v) {
            if (v == null) h.putNull(name); else h.put(name, v);
        }
    }

    /** {@code origin} header ({@code gen<pid>@<host>}, as Celery) and a per-process reply_to id. */
    static final class Origin {
        static final String HOST = hostName();
        static final String VALUE = "gen" + ProcessHandle.current().pid() + "@" + HOST;
        static final String REPLY_TO = UUID.nameUUIDFromBytes(
                (VALUE + ProcessHandle.current().info().startInstant().map(Object::toString).orElse(""))
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString();

        // InetAddress.getLocalHost() can block for seconds on a machine with broken DNS;
        // the kernel's own name is what Celery's gethostname() returns anyway.
        private static String hostName() {
            try {
                String h = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/sys/kernel/hostname")).trim();
                if (!h.isEmpty()) {
                    return h;
                }
            } catch (Exception ignored) {
                // not Linux: fall through
            }
            String env = System.getenv("HOSTNAME");
            if (env != null && !env.isBlank()) {
                return env;
            }
            try {
                return InetAddress.getLocalHost().getHostName();
            } catch (Exception e) {
                return "localhost";
            }
        }
    }

    /** This process's {@code reply_to} id, as Celery's {@code app.thread_oid}. */
    public static String replyToId() {
        return Origin.REPLY_TO;
    }

    /** This machine's host name, as used in {@code origin} and default node names. */
    public static String hostName() {
        return Origin.HOST;
    }
}
