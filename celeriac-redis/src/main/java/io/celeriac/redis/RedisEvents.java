package io.celeriac.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import io.celeriac.spi.EventChannel;
import java.util.function.Consumer;

/**
 * Celery's events on Redis, as kombu lays them out: each event is a kombu envelope PUBLISHed on
 * {@code /<db>.celeryev/<routing key>} (the fanout exchange {@code celeryev}; the routing key is the
 * type with dots, e.g. {@code task.succeeded}), so Python's {@code celery events} and Flower see
 * Celeriac workers, and {@code celeriac events} sees Python ones.
 */
final class RedisEvents implements EventChannel {
    static final String EXCHANGE = "celeryev";

    private final RedisConnection redis;
    private final String prefix;

    RedisEvents(RedisConnection redis) {
        this.redis = redis;
        this.prefix = "/" + redis.db + "." + EXCHANGE + "/";
    }

    @Override
    public void send(ObjectNode event) {
        String routingKey = event.path("type").asText("event").replace('-', '.');
        ObjectNode headers = Json.NODES.objectNode();
        headers.put("hostname", event.path("hostname").asText());
        String envelope = RedisControl.envelope(event, headers, EXCHANGE, routingKey, 1);
        redis.call("send event " + routingKey, c -> c.publish(prefix + routingKey, envelope));
    }

    @Override
    public AutoCloseable listen(Consumer<JsonNode> onEvent) {
        String pattern = prefix + "*";
        Consumer<String> listener = m -> {
            if (m == null) {
                return;
            }
            JsonNode[] e = RedisControl.open(m);
            if (e == null) {
                return;
            }
            if (e[1].isObject()) {
                onEvent.accept(e[1]);
            } else if (e[1].isArray()) { // Celery's buffered events: one message of many ("task.multi")
                e[1].forEach(ev -> {
                    if (ev.isObject()) {
                        onEvent.accept(ev);
                    }
                });
            }
        };
        redis.listenPattern(pattern, listener);
        try {
            // listening once this returns (an event published before Redis confirms is not kept for us);
            // if Redis is down, the subscriber subscribes when it is back
            redis.awaitPatternSubscribed(pattern, 5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return () -> redis.unlistenPattern(pattern, listener);
    }
}
