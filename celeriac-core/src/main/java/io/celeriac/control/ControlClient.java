package io.celeriac.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * Asks workers something through the broker and collects their answers (Celery's pidbox, done
 * with plain queues so that it works on every broker): each worker consumes its own mailbox queue
 * {@code celeriac.pidbox.<node>}, and answers on the reply queue the request names.
 *
 * <pre>
 * request  {"method": "ping", "arguments": {}, "reply_to": "celeriac.reply.&lt;uuid&gt;", "ticket": "&lt;uuid&gt;", "expires": "&lt;time&gt;"}
 * reply    {"ticket": "&lt;uuid&gt;", "node": "w1@host", "reply": {"ok": "pong"}}
 * </pre>
 */
public final class ControlClient {
    public static final String MAILBOX_PREFIX = "celeriac.pidbox.";

    private final Broker broker;

    public ControlClient(Broker broker) {
        this.broker = broker;
    }

    public static String mailbox(String node) {
        return MAILBOX_PREFIX + node;
    }

    /**
     * Sends {@code method} to each node and waits up to {@code timeout} for their replies; a node
     * that does not answer in time is absent from the result.
     */
    public Map<String, JsonNode> call(Collection<String> nodes, String method, ObjectNode arguments, Duration timeout)
            throws InterruptedException {
        String ticket = UUID.randomUUID().toString();
        String replyTo = "celeriac.reply." + ticket;
        ObjectNode req = Json.NODES.objectNode();
        req.put("method", method);
        req.set("arguments", arguments == null ? Json.NODES.objectNode() : arguments);
        req.put("reply_to", replyTo);
        req.put("ticket", ticket);
        req.put("expires", CeleryTime.format(Instant.now().plus(timeout)));
        String payload = Json.write(req);
        for (String node : nodes) {
            broker.publish(mailbox(node), new BrokerMessage(ticket, payload, 0, null));
        }
        Map<String, JsonNode> replies = new LinkedHashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (replies.size() < nodes.size()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                List<Delivery> got = broker.reserve(List.of(replyTo), 100, Duration.ofNanos(left));
                for (Delivery d : got) {
                    try {
                        JsonNode r = Json.read(d.payload());
                        if (ticket.equals(r.path("ticket").asText())) {
                            replies.put(r.path("node").asText(), r.get("reply"));
                        }
                    } catch (Exception malformed) {
                        // not ours, or not JSON: drop it
                    }
                }
                broker.ack(got);
            }
        } finally {
            broker.purge(replyTo);
        }
        return replies;
    }
}
