package io.celeriac.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.util.Map;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A transient queue bound to a broadcast exchange and consumed without acks, as kombu's pidbox
 * and event receivers do (auto-delete, with Celery's {@code x-expires} and {@code x-message-ttl}):
 * declared again and consumed again after a reconnection; closing it cancels the consumer, and
 * RabbitMQ deletes the queue.
 */
final class Subscription implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.broker");

    /** An exchange as kombu declares it. */
    record Exchange(String name, String type, boolean durable) {
        AMQP.Exchange.DeclareOk declare(Channel ch) throws IOException {
            return ch.exchangeDeclare(name, type, durable);
        }
    }

    private final RabbitConnection conn;
    private final Exchange exchange;
    private final String queue;
    private final Map<String, Object> arguments;
    private final String routingKey;
    private final BiConsumer<AMQP.BasicProperties, byte[]> onMessage;
    private volatile boolean closed;
    private Channel channel;

    Subscription(RabbitConnection conn, Exchange exchange, String queue, Map<String, Object> arguments, String routingKey,
                 BiConsumer<AMQP.BasicProperties, byte[]> onMessage) {
        this.conn = conn;
        this.exchange = exchange;
        this.queue = queue;
        this.arguments = arguments;
        this.routingKey = routingKey;
        this.onMessage = onMessage;
        start();
        conn.onRecovery(() -> {
            if (!closed) {
                start();
            }
        });
    }

    private synchronized void start() {
        if (channel == null || !channel.isOpen()) {
            channel = conn.newChannel();
        }
        Channel ch = channel;
        conn.call("listen on '" + queue + "'", ch, c -> {
            exchange.declare(c);
            c.queueDeclare(queue, false, false, true, arguments);
            c.queueBind(queue, exchange.name(), routingKey);
            c.basicConsume(queue, true, new DefaultConsumer(c) {
                @Override
                public void handleDelivery(String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
                    try {
                        onMessage.accept(props, body);
                    } catch (RuntimeException e) {
                        log.warn("'{}': could not handle a message: {}", queue, e.toString());
                    }
                }
            });
            return null;
        });
    }

    @Override
    public synchronized void close() {
        closed = true;
        if (channel != null && channel.isOpen()) {
            try {
                channel.close();
            } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
                log.debug("closing '{}': {}", queue, e.toString());
            }
        }
    }
}
