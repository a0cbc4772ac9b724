package io.celeriac.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.celeriac.TaskState;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.PythonRepr;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.ChordPart;
import io.celeriac.spi.Effects;
import io.celeriac.spi.Publication;
import io.celeriac.spi.Settle;
import io.celeriac.spi.Settlement;
import java.util.List;

/**
 * Turns settlements into the batch {@code settle.lua} commits. A chord part carries both outcomes
 * of its chord, as text templates the script fills in: the body's messages with the header's
 * results (joined from Celery's {@code .j} set inside Redis, where Python workers add their parts
 * too) in place of a marker, and the body's failure with the reason in place of another. The body's
 * messages are written with a plain JSON body (no base64), which kombu and Celery read as well, so
 * the script can put the results in as text.
 */
final class RedisSettle {
    private static final String RESULTS = "\u0001celeriac:chord-results\u0001";
    private static final String ARGSREPR = "\u0002celeriac:argsrepr\u0002";
    private static final String REASON = "\u0003celeriac:reason\u0003";
    /** How each marker appears in the text the script splits (the inside of a JSON string). */
    /** The results marker is a JSON value in the body, and the body a JSON string in the envelope: escaped twice. */
    private static final String RESULTS_IN_ENVELOPE = inside(Json.write(TextNode.valueOf(Json.write(TextNode.valueOf(RESULTS)))));
    private static final String ARGSREPR_IN_ENVELOPE = inside(Json.write(TextNode.valueOf(ARGSREPR)));
    private static final String REASON_IN_RESULT = inside(Json.write(TextNode.valueOf(REASON)));

    private RedisSettle() {
    }

    static String groupKey(String groupId, String suffix) {
        return "celery-taskset-meta-" + groupId + suffix;
    }

    /**
     * Commits {@code batch} in one {@code settle.lua} call; with {@code acks}, each settlement's ack too.
     * A plain settlement (an ack and at most one result: what most finished tasks cause) travels as
     * three flat arguments — tag, task id, result JSON — which the script reads without decoding
     * any JSON; only the others go into the batch JSON, each marked at its place in the order.
     */
    static void commit(RedisConnection redis, List<Settlement> batch, boolean acks, java.time.Duration resultExpires,
                       java.time.Duration visibility) {
        List<String> args = arguments(batch, acks, resultExpires, visibility);
        redis.call("commit " + batch.size() + " finished message(s)", c -> redis.script("settle", List.of(), args));
    }

    /** {@code settle.lua}'s arguments: now, expiry, visibility, the batch JSON of the settlements that are not plain, then a triple per settlement. */
    static List<String> arguments(List<Settlement> batch, boolean acks, java.time.Duration resultExpires, java.time.Duration visibility) {
        List<String> args = new java.util.ArrayList<>(4 + 3 * batch.size());
        args.add(Long.toString(System.currentTimeMillis()));
        args.add(Long.toString(resultExpires.toMillis()));
        args.add(Long.toString(visibility.toMillis()));
        args.add("");
        List<Settlement> other = null;
        for (Settlement st : batch) {
            String tag = acks && st.acksDelivery() ? st.delivery().tag() : "";
            Effects e = st.effects();
            if (st.chordParts().isEmpty() && e.publications().isEmpty() && e.chordSizes().isEmpty() && e.results().size() <= 1) {
                TaskResult r = e.results().isEmpty() ? null : e.results().get(0);
                args.add(tag);
                args.add(r == null ? "" : r.taskId());
                args.add(r == null ? "" : r.toJson());
            } else {
                other = other == null ? new java.util.ArrayList<>() : other;
                args.add(OTHER);
                args.add(Integer.toString(other.size() + 1)); // its place in the batch JSON (Lua counts from 1)
                args.add("");
                other.add(st);
            }
        }
        args.set(3, other == null ? "[]" : batch(other, acks));
        return args;
    }

    /** The tag of a flat triple whose settlement is in the batch JSON (no delivery tag has a NUL). */
    private static final String OTHER = "\u0000";

    static String batch(List<Settlement> batch, boolean acks) {
        ArrayNode out = Json.NODES.arrayNode();
        for (Settlement st : batch) {
            ObjectNode s = out.addObject();
            if (acks && st.acksDelivery()) {
                s.put("tag", st.delivery().tag());
            }
            effects(s, st.effects());
            if (!st.chordParts().isEmpty()) {
                ArrayNode parts = s.putArray("parts");
                st.chordParts().forEach(p -> parts.add(part(p)));
            }
        }
        return Json.write(out);
    }

    private static void effects(ObjectNode s, Effects e) {
        if (!e.chordSizes().isEmpty()) {
            ObjectNode sizes = s.putObject("sizes");
            e.chordSizes().forEach(sizes::put);
        }
        if (!e.publications().isEmpty()) {
            ArrayNode pubs = s.putArray("pubs");
            e.publications().forEach(p -> pubs.add(pub(p)));
        }
        if (!e.results().isEmpty()) {
            ArrayNode results = s.putArray("results");
            e.results().forEach(r -> results.addArray().add(r.taskId()).add(r.toJson()));
        }
    }

    private static ObjectNode pub(Publication p) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("q", p.queue());
        o.put("b", RedisBroker.bucket(p.message().priority()));
        if (p.message().eta() != null && p.message().etaMillis() > System.currentTimeMillis()) {
            o.put("due", Long.toString(p.message().etaMillis()));
        }
        o.put("p", p.message().payload());
        return o;
    }

    private static ObjectNode part(ChordPart p) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("g", p.groupId());
        if (p.groupIndex() != null) {
            o.put("i", p.groupIndex().toString());
        }
        o.put("t", p.taskId());
        o.put("e", p.joinEntry());
        ObjectNode done = o.putObject("done");
        Effects complete = p.body().complete(TextNode.valueOf(RESULTS));
        effects(done, new Effects(complete.results(), List.of(), complete.chordSizes()));
        ArrayNode pubs = done.putArray("pubs");
        complete.publications().forEach(pub -> pubs.add(template(pub)));
        ObjectNode fail = o.putObject("fail");
        Effects failed = p.body().failed(REASON);
        effects(fail, new Effects(List.of(), failed.publications(), failed.chordSizes()));
        ArrayNode results = fail.putArray("results");
        for (TaskResult r : failed.results()) {
            String json = r.toJson();
            int at = json.indexOf(REASON_IN_RESULT);
            if (at < 0) {
                results.addArray().add(r.taskId()).add(json).add("");
            } else {
                results.addArray().add(r.taskId()).add(json.substring(0, at)).add(json.substring(at + REASON_IN_RESULT.length()));
            }
        }
        return o;
    }

    /** A body message with the results marker as its first argument, cut around it (and around its argsrepr). */
    private static ObjectNode template(Publication p) {
        TaskMessage m = MessageCodec.decode(p.message().payload());
        ArrayNode args = m.args();
        if (args.isEmpty() || !RESULTS.equals(args.get(0).asText(null))) {
            return pub(p); // immutable: no results in it
        }
        StringBuilder repr = new StringBuilder("(").append(ARGSREPR);
        if (args.size() == 1) {
            repr.append(',');
        }
        for (int i = 1; i < args.size(); i++) {
            repr.append(", ").append(PythonRepr.of(args.get(i)));
        }
        repr.append(')');
        TaskMessage withRepr = m.republished("argsrepr", TextNode.valueOf(repr.toString()));
        String env = MessageCodec.encodePlain(withRepr);
        int r = env.indexOf(RESULTS_IN_ENVELOPE);
        int a = env.indexOf(ARGSREPR_IN_ENVELOPE);
        if (r < 0 || a < r) {
            throw new IllegalStateException("chord body template without its markers in place: " + m);
        }
        ObjectNode o = pub(new Publication(p.queue(), new BrokerMessage(m.id(), env, p.message().priority(), p.message().eta())));
        o.remove("p");
        o.put("pre", env.substring(0, r));
        o.put("mid", env.substring(r + RESULTS_IN_ENVELOPE.length(), a));
        o.put("post", env.substring(a + ARGSREPR_IN_ENVELOPE.length()));
        return o;
    }

    /** A join entry ({@code [1, task_id, state, result]}) read back, for a store whose broker is elsewhere. */
    static Settle.Part part(String entry) {
        try {
            JsonNode a = Json.read(entry);
            return new Settle.Part(a.get(1).asText(), TaskState.parse(a.get(2).asText()), a.get(3));
        } catch (Exception e) {
            throw new IllegalStateException("a chord join entry is not [1, id, state, result]: " + entry, e);
        }
    }

    /** The text between a JSON string's quotes. */
    private static String inside(String json) {
        return json.substring(1, json.length() - 1);
    }
}
