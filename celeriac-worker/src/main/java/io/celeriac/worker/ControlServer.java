package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.control.ControlClient;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's end of {@link ControlClient}: a thread that reads this node's mailbox and answers.
 * Methods: those the worker hands it ({@code ping} → {@code {"ok": "pong"}}, {@code stats},
 * {@code active}, {@code reserved}, {@code registered}, {@code revoked}, {@code conf}).
 * A request past its {@code expires} is dropped unanswered (its asker has given up).
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final Broker broker;
    private final String node;
    private final Map<String, Supplier<JsonNode>> methods;
    private final Thread thread;
    private volatile boolean running = true;

    ControlServer(Broker broker, String node, Map<String, Supplier<JsonNode>> methods) {
        this.broker = broker;
        this.node = node;
        this.methods = methods;
        this.thread = new Thread(this::loop, "celeriac-control");
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    private void loop() {
        String mailbox = ControlClient.mailbox(node);
        while (running) {
            try {
                List<Delivery> got = broker.reserve(List.of(mailbox), 20, Duration.ofMillis(500));
                for (Delivery d : got) {
                    answer(d);
                }
                broker.ack(got);
            } catch (InterruptedException e) {
                return;
            } catch (Throwable t) {
                BrokerOutage.of(broker).failed("control mailbox of " + node, t);
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void answer(Delivery d) {
        JsonNode req;
        try {
            req = Json.read(d.payload());
        } catch (Exception e) {
            log.warn("control: dropped a request that is not JSON");
            return;
        }
        JsonNode expires = req.get("expires");
        if (expires != null && expires.isTextual() && Instant.now().isAfter(CeleryTime.parse(expires.asText()))) {
            return;
        }
        String replyTo = req.path("reply_to").asText(null);
        if (replyTo == null) {
            return;
        }
        JsonNode reply;
        String method = req.path("method").asText();
        try {
            Supplier<JsonNode> m = methods.get(method);
            reply = m != null ? m.get() : Json.NODES.objectNode().put("error", "No such control command: " + method);
        } catch (RuntimeException e) {
            reply = Json.NODES.objectNode().put("error", e.toString());
        }
        ObjectNode out = Json.NODES.objectNode();
        out.put("ticket", req.path("ticket").asText());
        out.put("node", node);
        out.set("reply", reply);
        broker.publish(replyTo, new BrokerMessage(null, Json.write(out), 0, null));
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
    }
}
