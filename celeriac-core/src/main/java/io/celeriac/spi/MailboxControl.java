package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Control through plain queues, so that it works on every broker: each worker consumes its own
 * mailbox queue {@code celeriac.pidbox.<node>} and answers on the reply queue the request names.
 * A request to every worker goes to the mailbox of every node that has sent a heartbeat lately.
 *
 * <pre>
 * request  {"method": "ping", "arguments": {}, "reply_to": "celeriac.reply.&lt;uuid&gt;", "ticket": "&lt;uuid&gt;", "expires": "&lt;time&gt;"}
 * reply    {"ticket": "&lt;uuid&gt;", "node": "w1@host", "reply": {"ok": "pong"}}
 * </pre>
 */
public final class MailboxControl implements ControlChannel {
    private static final Logger log = LoggerFactory.getLogger("celeriac.control");
    public static final String MAILBOX_PREFIX = "celeriac.pidbox.";
    /** A node whose last heartbeat is older than this is not sent broadcasts. */
    private static final Duration FORGOTTEN = Duration.ofMinutes(5);

    private final Broker broker;
    private final Coordination presence;

    /**
     * @param broker   where the mailboxes and reply queues are
     * @param presence where the workers' heartbeats are (to find every worker for a broadcast)
     */
    public MailboxControl(Broker broker, Coordination presence) {
        this.broker = broker;
        this.presence = presence;
    }

    public static String mailbox(String node) {
        return MAILBOX_PREFIX + node;
    }

    /** How long a cast waits in a mailbox before a worker drops it as stale. */
    private static final Duration CAST_EXPIRES = Duration.ofSeconds(30);

    @Override
    public void cast(String method, ObjectNode arguments, List<String> destination) {
        ObjectNode req = Json.NODES.objectNode();
        req.put("method", method);
        req.set("arguments", arguments == null ? Json.NODES.objectNode() : arguments);
        req.put("ticket", UUID.randomUUID().toString());
        req.put("expires", CeleryTime.format(Instant.now().plus(CAST_EXPIRES)));
        String payload = Json.write(req);
        for (String node : targets(destination)) {
            broker.publish(mailbox(node), new BrokerMessage(null, payload, 0, null));
        }
    }

    private List<String> targets(List<String> destination) {
        List<String> nodes = new ArrayList<>();
        if (destination != null && !destination.isEmpty()) {
            nodes.addAll(destination);
        } else {
            long now = System.currentTimeMillis();
            presence.nodes().values().forEach(b -> {
                if (now - b.at().toEpochMilli() <= FORGOTTEN.toMillis() && b.isWorker()) {
                    nodes.add(b.node());
                }
            });
        }
        return nodes;
    }

    @Override
    public Map<String, JsonNode> call(String method, ObjectNode arguments, List<String> destination, List<String> expect,
                                      Duration timeout) throws InterruptedException {
        List<String> nodes = targets(destination);
        if (nodes.isEmpty()) {
            return new LinkedHashMap<>();
        }
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
        List<String> waitFor = expect == null || expect.isEmpty() ? nodes : expect;
        Map<String, JsonNode> replies = new LinkedHashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            while (!replies.keySet().containsAll(waitFor)) {
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

    @Override
    public AutoCloseable serve(String node, BiFunction<String, JsonNode, JsonNode> handler) {
        Thread t = QueueReader.start(broker, mailbox(node), "celeriac-control", () -> { }, d -> answer(node, d, handler));
        return t::interrupt;
    }

    private void answer(String node, Delivery d, BiFunction<String, JsonNode, JsonNode> handler) {
        JsonNode req;
        try {
            req = Json.read(d.payload());
        } catch (Exception e) {
            log.warn("control: dropped a request that is not JSON");
            return;
        }
        JsonNode expires = req.get("expires");
        if (expires != null && expires.isTextual() && Instant.now().isAfter(CeleryTime.parse(expires.asText()))) {
            return; // its asker has given up
        }
        String replyTo = req.path("reply_to").asText(null);
        JsonNode reply = handler.apply(req.path("method").asText(), req.path("arguments"));
        if (replyTo == null) {
            return;
        }
        ObjectNode out = Json.NODES.objectNode();
        out.put("ticket", req.path("ticket").asText());
        out.put("node", node);
        out.set("reply", reply);
        broker.publish(replyTo, new BrokerMessage(null, Json.write(out), 0, null));
    }
}
