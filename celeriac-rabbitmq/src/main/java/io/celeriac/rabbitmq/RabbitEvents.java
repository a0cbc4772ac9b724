package io.celeriac.rabbitmq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import io.celeriac.protocol.Json;
import io.celeriac.spi.EventChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * Celery's events on RabbitMQ: each event is published to the durable topic exchange
 * {@code celeryev} with its type as routing key ({@code task-succeeded} → {@code task.succeeded}),
 * transient, JSON, header {@code hostname}; a listener binds its own {@code celeryev.<uuid>} queue
 * with {@code #} (auto-delete, {@code x-message-ttl} 5 s, {@code x-expires} 60 s, as
 * {@code celery events} does) and reads single events and Celery's batched {@code task.multi}
 * lists. Python's {@code celery events} and Flower see Celeriac workers, {@code celeriac events}
 * sees Python ones.
 */
final class RabbitEvents implements EventChannel {
    static final Subscription.Exchange EXCHANGE = new Subscription.Exchange("celeryev", "topic", true);

    private final RabbitConnection conn;
    private final AtomicBoolean declared = new AtomicBoolean();

    RabbitEvents(RabbitConnection conn) {
        this.conn = conn;
        conn.onRecovery(() -> declared.set(false));
    }

    @Override
    public void send(ObjectNode event) {
        if (!declared.get()) {
            conn.declare("declare exchange 'celeryev'", EXCHANGE::declare);
            declared.set(true);
        }
        String routingKey = event.path("type").asText("event").replace('-', '.');
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("application/json")
                .contentEncoding("utf-8").deliveryMode(1).priority(0)
                .headers(Map.of("hostname", event.path("hostname").asText())).build();
        conn.publish(EXCHANGE.name(), routingKey, props, Json.write(event).getBytes(StandardCharsets.UTF_8), false);
    }

    @Override
    public AutoCloseable listen(Consumer<JsonNode> onEvent) {
        return new Subscription(conn, EXCHANGE, "celeryev." + UUID.randomUUID(),
                Map.of("x-message-ttl", 5000, "x-expires", 60000), "#", (props, body) -> {
                    JsonNode e = AmqpForm.body(body);
                    if (e == null) {
                        return;
                    }
                    if (e.isObject()) {
                        onEvent.accept(e);
                    } else if (e.isArray()) { // Celery's buffered events: one message of many ("task.multi")
                        e.forEach(ev -> {
                            if (ev.isObject()) {
                                onEvent.accept(ev);
                            }
                        });
                    }
                });
    }
}
