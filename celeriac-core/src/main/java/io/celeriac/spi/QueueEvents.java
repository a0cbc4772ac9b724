package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Events over plain queues, so that they work on every broker: a listener announces itself as a
 * node ({@code celeriac-events-<uuid>}, kept alive like a worker's heartbeat) with its own queue;
 * a sender puts each event on the queue of every listener alive (looked up at most once a second).
 * No listener, no cost beyond that look-up.
 */
public final class QueueEvents implements EventChannel {
    private static final Logger log = LoggerFactory.getLogger("celeriac.events");
    static final String LISTENER_PREFIX = "celeriac-events-";
    /** The type a listener announces itself with (so that it is not taken for a worker). */
    static final String LISTENER_TYPE = "event-listener";
    private static final long LOOKUP_MS = 1000;
    private static final Duration FRESH = Duration.ofSeconds(10);

    private final Broker broker;
    private final Coordination presence;
    private volatile List<String> listeners = List.of();
    private volatile long lookedUpAt;

    /**
     * @param broker   where the listeners' queues are
     * @param presence where listeners announce themselves (as nodes)
     */
    public QueueEvents(Broker broker, Coordination presence) {
        this.broker = broker;
        this.presence = presence;
    }

    private List<String> listeners() {
        long now = System.currentTimeMillis();
        if (now - lookedUpAt > LOOKUP_MS) {
            List<String> found = new ArrayList<>();
            try {
                presence.nodes().values().forEach(b -> {
                    if (b.node().startsWith(LISTENER_PREFIX) && now - b.at().toEpochMilli() <= FRESH.toMillis()) {
                        found.add(b.node());
                    }
                });
            } catch (RuntimeException e) {
                log.debug("events: cannot look up listeners: {}", e.getMessage());
            }
            listeners = List.copyOf(found);
            lookedUpAt = now;
        }
        return listeners;
    }

    @Override
    public void send(ObjectNode event) {
        List<String> to = listeners();
        if (to.isEmpty()) {
            return;
        }
        String payload = Json.write(event);
        for (String l : to) {
            broker.publish(l, new BrokerMessage(null, payload, 0, null));
        }
    }

    @Override
    public AutoCloseable listen(Consumer<JsonNode> onEvent) {
        String node = LISTENER_PREFIX + UUID.randomUUID();
        String announce = Json.write(Json.NODES.objectNode().put("type", LISTENER_TYPE).put("pid", ProcessHandle.current().pid()));
        presence.keepAlive(node, announce);
        long[] lastBeat = {System.currentTimeMillis()};
        Thread t = QueueReader.start(broker, node, "celeriac-events", () -> {
            if (System.currentTimeMillis() - lastBeat[0] > 2000) { // still listening: keep receiving
                presence.keepAlive(node, announce);
                lastBeat[0] = System.currentTimeMillis();
            }
        }, d -> {
            try {
                onEvent.accept(Json.read(d.payload()));
            } catch (Exception malformed) {
                log.debug("events: dropped an event that is not JSON");
            }
        });
        return () -> {
            t.interrupt();
            try {
                t.join(2000);
                presence.keepAlive(node, null);
                broker.purge(node);
            } catch (RuntimeException e) {
                log.debug("events: {}", e.getMessage());
            }
        };
    }
}
