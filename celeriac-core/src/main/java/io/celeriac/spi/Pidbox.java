package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.util.List;
import java.util.function.BiFunction;

/**
 * Celery's pidbox messages (kombu's {@code Mailbox}), written once for the brokers that carry them
 * on Celery's own exchanges (Redis, RabbitMQ): the body of a request, and what a node makes of one.
 */
public final class Pidbox {
    /** The fanout exchange requests go to ({@code control_exchange} + {@code .pidbox}). */
    public static final String EXCHANGE = "celery.pidbox";
    /** The direct exchange replies go to, routed by the asker's OID. */
    public static final String REPLY_EXCHANGE = "reply.celery.pidbox";

    private Pidbox() {
    }

    /**
     * A request's body: {@code {"method", "arguments", "destination", "pattern", "matcher", "ticket"}}
     * (a call adds {@code reply_to}).
     *
     * @param method      the remote-control command
     * @param arguments   its arguments (null: none)
     * @param destination node names, or null/empty for every node
     * @param ticket      the request's id, echoed in replies
     * @return the body
     */
    public static ObjectNode request(String method, ObjectNode arguments, List<String> destination, String ticket) {
        ObjectNode body = Json.NODES.objectNode();
        body.put("method", method);
        body.set("arguments", arguments == null ? Json.NODES.objectNode() : arguments);
        if (destination == null || destination.isEmpty()) {
            body.putNull("destination");
        } else {
            ArrayNode d = body.putArray("destination");
            destination.forEach(d::add);
        }
        body.putNull("pattern");
        body.putNull("matcher");
        body.put("ticket", ticket);
        return body;
    }

    /**
     * What {@code node} does with a request: nothing when it has expired ({@code expires}, Unix
     * seconds, from the request's headers; 0 for never) or names other nodes; otherwise runs
     * {@code handler} (a failure becomes Celery's {@code {"error": …}}) and returns the reply body
     * {@code {node: reply}}, or null for a cast (no {@code reply_to}).
     *
     * @param node    this node's name
     * @param body    the request's body
     * @param expires the request's {@code expires} header
     * @param handler method and arguments to reply
     * @return the reply's body, or null when none is sent
     */
    public static ObjectNode answer(String node, JsonNode body, double expires, BiFunction<String, JsonNode, JsonNode> handler) {
        if (expires > 0 && System.currentTimeMillis() / 1000.0 > expires) {
            return null; // its asker has given up
        }
        JsonNode destination = body.get("destination");
        if (destination != null && destination.isArray() && !destination.isEmpty()) {
            boolean mine = false;
            for (JsonNode d : destination) {
                mine |= node.equals(d.asText());
            }
            if (!mine) {
                return null;
            }
        }
        JsonNode reply;
        try {
            reply = handler.apply(body.path("method").asText(), body.path("arguments"));
        } catch (RuntimeException e) {
            reply = Json.NODES.objectNode().put("error", e.toString());
        }
        JsonNode replyTo = body.get("reply_to");
        if (replyTo == null || !replyTo.isObject()) {
            return null; // a cast: no answer wanted
        }
        ObjectNode out = Json.NODES.objectNode();
        out.set(node, reply);
        return out;
    }
}
