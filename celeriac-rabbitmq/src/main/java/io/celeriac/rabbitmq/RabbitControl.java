package io.celeriac.rabbitmq;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import io.celeriac.protocol.Json;
import io.celeriac.spi.ControlChannel;
import io.celeriac.spi.Pidbox;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Celery's pidbox on RabbitMQ, as kombu declares it (docs/RABBITMQ-TOPOLOGY.md §6), so that
 * Python's {@code celery inspect} gets answers from Celeriac workers and {@code celeriac inspect}
 * from Python ones:
 * <ul>
 *   <li>requests go to the fanout exchange {@code celery.pidbox} (persistent, JSON, headers
 *       {@code clock} and {@code expires}), body {@code {"method", "arguments", "destination",
 *       "pattern", "matcher", "ticket", "reply_to": {"exchange": "reply.celery.pidbox",
 *       "routing_key": OID}}}; a worker listens on {@code <node>.celery.pidbox} (auto-delete,
 *       {@code x-expires} 10 s, {@code x-message-ttl} 300 s);</li>
 *   <li>replies go to the direct exchange {@code reply.celery.pidbox} with the asker's OID as
 *       routing key (transient, header {@code ticket}), body {@code {NODE: reply}}; the asker
 *       consumes {@code <oid>.reply.celery.pidbox} (the same expiry arguments) for the timeout.</li>
 * </ul>
 */
final class RabbitControl implements ControlChannel {
    private static final Logger log = LoggerFactory.getLogger("celeriac.control");
    static final Subscription.Exchange EXCHANGE = new Subscription.Exchange(Pidbox.EXCHANGE, "fanout", false);
    static final Subscription.Exchange REPLIES = new Subscription.Exchange(Pidbox.REPLY_EXCHANGE, "direct", false);
    /** kombu's pidbox queues: control_queue_expires 10 s, control_queue_ttl 300 s, in milliseconds. */
    static final Map<String, Object> QUEUE_ARGUMENTS = Map.of("x-expires", 10000, "x-message-ttl", 300000);
    /** A cast's expiry: Celery's revoke gives 1 s; a little more leaves room for clocks that differ. */
    private static final long CAST_EXPIRES_MS = 10_000;

    private final RabbitConnection conn;
    private final AtomicLong clock = new AtomicLong();

    RabbitControl(RabbitConnection conn) {
        this.conn = conn;
    }

    private void send(ObjectNode body, long expiresMs) {
        conn.declare("declare exchange 'celery.pidbox'", EXCHANGE::declare);
        Map<String, Object> headers = new HashMap<>();
        headers.put("clock", clock.incrementAndGet());
        headers.put("expires", (System.currentTimeMillis() + expiresMs) / 1000.0);
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("application/json")
                .contentEncoding("utf-8").deliveryMode(2).priority(0).headers(headers).build();
        conn.publish(EXCHANGE.name(), "", props, Json.write(body).getBytes(StandardCharsets.UTF_8), false);
    }

    @Override
    public void cast(String method, ObjectNode arguments, List<String> destination) {
        send(Pidbox.request(method, arguments, destination, UUID.randomUUID().toString()), CAST_EXPIRES_MS);
    }

    @Override
    public Map<String, JsonNode> call(String method, ObjectNode arguments, List<String> destination, List<String> expect,
                                      Duration timeout) throws InterruptedException {
        String oid = UUID.randomUUID().toString();
        String ticket = UUID.randomUUID().toString();
        ObjectNode body = Pidbox.request(method, arguments, destination, ticket);
        ObjectNode replyTo = body.putObject("reply_to");
        replyTo.put("exchange", REPLIES.name());
        replyTo.put("routing_key", oid);
        List<String> waitFor = expect != null && !expect.isEmpty() ? expect
                : destination != null && !destination.isEmpty() ? destination : List.of();
        BlockingQueue<JsonNode> got = new LinkedBlockingQueue<>();
        Map<String, JsonNode> replies = new LinkedHashMap<>();
        try (Subscription s = new Subscription(conn, REPLIES, oid + "." + REPLIES.name(), QUEUE_ARGUMENTS, oid, (props, b) -> {
            Object t = props.getHeaders() == null ? null : props.getHeaders().get("ticket");
            JsonNode reply = AmqpForm.body(b);
            if (t != null && ticket.equals(AmqpForm.json(t).asText()) && reply != null && reply.isObject()) {
                got.add(reply);
            }
        })) {
            send(body, timeout.toMillis());
            long deadline = System.nanoTime() + timeout.toNanos();
            while (waitFor.isEmpty() || !replies.keySet().containsAll(waitFor)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                JsonNode reply = got.poll(left, TimeUnit.NANOSECONDS);
                if (reply != null) {
                    reply.properties().forEach(e -> replies.put(e.getKey(), e.getValue()));
                }
            }
        }
        return replies;
    }

    @Override
    public AutoCloseable serve(String node, BiFunction<String, JsonNode, JsonNode> handler) {
        ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "celeriac-control");
            t.setDaemon(true);
            return t;
        });
        Subscription s = new Subscription(conn, EXCHANGE, node + "." + EXCHANGE.name(), QUEUE_ARGUMENTS, "",
                (props, body) -> worker.execute(() -> answer(node, props, body, handler)));
        return () -> {
            s.close();
            worker.shutdownNow();
        };
    }

    private void answer(String node, AMQP.BasicProperties props, byte[] raw, BiFunction<String, JsonNode, JsonNode> handler) {
        JsonNode body = AmqpForm.body(raw);
        if (body == null || !body.isObject()) {
            log.warn("control: dropped a request that is not JSON");
            return;
        }
        Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
        ObjectNode out = Pidbox.answer(node, body, AmqpForm.json(headers.get("expires")).asDouble(0), handler);
        if (out == null) {
            return;
        }
        JsonNode replyTo = body.get("reply_to");
        Map<String, Object> h = new HashMap<>();
        h.put("ticket", body.path("ticket").asText());
        h.put("clock", clock.incrementAndGet());
        String exchange = replyTo.path("exchange").asText(REPLIES.name());
        AMQP.BasicProperties p = new AMQP.BasicProperties.Builder().contentType("application/json")
                .contentEncoding("utf-8").deliveryMode(1).priority(0).headers(h).build();
        try {
            conn.declare("declare exchange '" + exchange + "'", ch -> ch.exchangeDeclare(exchange, "direct", false));
            conn.publish(exchange, replyTo.path("routing_key").asText(), p, Json.write(out).getBytes(StandardCharsets.UTF_8), false);
        } catch (RuntimeException e) {
            log.debug("control: could not reply: {}", e.getMessage());
        }
    }
}
