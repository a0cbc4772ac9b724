package io.celeriac.redis;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import io.celeriac.spi.ControlChannel;
import io.celeriac.spi.Pidbox;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiFunction;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.util.KeyValue;

/**
 * Celery's pidbox on Redis, as kombu lays it out, so that Python's {@code celery inspect} gets
 * answers from Celeriac workers and {@code celeriac inspect} from Python ones:
 * <ul>
 *   <li>a request is a kombu envelope PUBLISHed on {@code /<db>.celery.pidbox} (the fanout exchange
 *       {@code celery.pidbox}), its body {@code {"method", "arguments", "destination", "pattern",
 *       "matcher", "ticket", "reply_to": {"exchange": "reply.celery.pidbox", "routing_key": OID}}};</li>
 *   <li>a reply is an envelope with body {@code {NODE: reply}} and header {@code ticket}, LPUSHed to
 *       every queue bound to the direct exchange {@code reply.celery.pidbox} with routing key OID
 *       (the set {@code _kombu.binding.reply.celery.pidbox}); the asker binds
 *       {@code OID.reply.celery.pidbox} and pops its replies from it.</li>
 * </ul>
 */
final class RedisControl implements ControlChannel {
    private static final Logger log = LoggerFactory.getLogger("celeriac.control");
    static final String EXCHANGE = Pidbox.EXCHANGE;
    static final String REPLY_EXCHANGE = Pidbox.REPLY_EXCHANGE;
    private static final String SEP = "\u0006\u0016";

    private final RedisConnection redis;
    private final String channel;
    private final AtomicLong clock = new AtomicLong();

    RedisControl(RedisConnection redis) {
        this.redis = redis;
        this.channel = "/" + redis.db + "." + EXCHANGE;
    }

    /** A kombu envelope around {@code body} (JSON, base64), as kombu's Redis transport writes it. */
    static String envelope(JsonNode body, ObjectNode headers, String exchange, String routingKey, int deliveryMode) {
        ObjectNode env = Json.NODES.objectNode();
        env.put("body", Base64.getEncoder().encodeToString(Json.write(body).getBytes(StandardCharsets.UTF_8)));
        env.put("content-encoding", "utf-8");
        env.put("content-type", "application/json");
        env.set("headers", headers);
        ObjectNode props = env.putObject("properties");
        props.put("delivery_mode", deliveryMode);
        ObjectNode di = props.putObject("delivery_info");
        di.put("exchange", exchange);
        di.put("routing_key", routingKey);
        props.put("priority", 0);
        props.put("body_encoding", "base64");
        props.put("delivery_tag", UUID.randomUUID().toString());
        return Json.write(env);
    }

    /** The envelope's headers and decoded body, or null when it is not a JSON kombu envelope. */
    static JsonNode[] open(String payload) {
        try {
            JsonNode env = Json.read(payload);
            JsonNode body = env.get("body");
            if (body == null) {
                return null;
            }
            String text = body.asText();
            if ("base64".equals(env.path("properties").path("body_encoding").asText())) {
                text = new String(Base64.getDecoder().decode(text), StandardCharsets.UTF_8);
            }
            return new JsonNode[] {env.path("headers"), Json.read(text)};
        } catch (Exception malformed) {
            return null;
        }
    }

    /** A cast's expiry: Celery's revoke gives 1 s; a little more leaves room for clocks that differ. */
    private static final long CAST_EXPIRES_MS = 10_000;

    @Override
    public void cast(String method, ObjectNode arguments, List<String> destination) {
        ObjectNode body = Pidbox.request(method, arguments, destination, UUID.randomUUID().toString());
        ObjectNode headers = Json.NODES.objectNode();
        headers.put("clock", clock.incrementAndGet());
        headers.put("expires", (System.currentTimeMillis() + CAST_EXPIRES_MS) / 1000.0);
        String message = envelope(body, headers, EXCHANGE, "", 2);
        redis.call("broadcast " + method, c -> c.publish(channel, message));
    }

    @Override
    public Map<String, JsonNode> call(String method, ObjectNode arguments, List<String> destination, List<String> expect,
                                      Duration timeout) throws InterruptedException {
        String oid = UUID.randomUUID().toString();
        String queue = oid + "." + REPLY_EXCHANGE;
        String binding = oid + SEP + SEP + queue;
        String ticket = UUID.randomUUID().toString();
        ObjectNode body = Pidbox.request(method, arguments, destination, ticket);
        ObjectNode replyTo = body.putObject("reply_to");
        replyTo.put("exchange", REPLY_EXCHANGE);
        replyTo.put("routing_key", oid);
        ObjectNode headers = Json.NODES.objectNode();
        headers.put("clock", clock.incrementAndGet());
        headers.put("expires", (System.currentTimeMillis() + timeout.toMillis()) / 1000.0);
        String request = envelope(body, headers, EXCHANGE, "", 2);

        List<String> waitFor = expect != null && !expect.isEmpty() ? expect
                : destination != null && !destination.isEmpty() ? destination : List.of();
        Map<String, JsonNode> replies = new LinkedHashMap<>();
        redis.call("bind the reply queue", c -> c.sadd("_kombu.binding." + REPLY_EXCHANGE, binding));
        try {
            redis.call("broadcast " + method, c -> c.publish(channel, request));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (waitFor.isEmpty() || !replies.keySet().containsAll(waitFor)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    break;
                }
                double wait = Math.max(0.01, Math.min(0.2, left / 1e9));
                KeyValue<String, String> got = redis.call("read replies", c -> c.brpop(wait, queue));
                if (Thread.interrupted()) {
                    throw new InterruptedException();
                }
                if (got == null) {
                    continue;
                }
                JsonNode[] reply = open(got.getValue());
                if (reply == null || !ticket.equals(reply[0].path("ticket").asText()) || !reply[1].isObject()) {
                    continue; // not ours
                }
                reply[1].properties().forEach(e -> replies.put(e.getKey(), e.getValue()));
            }
        } finally {
            redis.call("unbind the reply queue", c -> {
                c.srem("_kombu.binding." + REPLY_EXCHANGE, binding);
                c.del(queue);
                return null;
            });
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
        // the subscriber thread only hands requests over: answering must not hold up other listeners
        Consumer<String> listener = m -> {
            if (m != null) {
                worker.execute(() -> answer(node, m, handler));
            }
        };
        redis.listen(channel, listener);
        return () -> {
            redis.unlisten(channel, listener);
            worker.shutdownNow();
        };
    }

    private void answer(String node, String payload, BiFunction<String, JsonNode, JsonNode> handler) {
        JsonNode[] req = open(payload);
        if (req == null || !req[1].isObject()) {
            log.warn("control: dropped a request that is not a kombu JSON envelope");
            return;
        }
        JsonNode headers = req[0];
        JsonNode body = req[1];
        ObjectNode out = Pidbox.answer(node, body, headers.path("expires").asDouble(0), handler);
        if (out == null) {
            return;
        }
        JsonNode replyTo = body.get("reply_to");
        ObjectNode h = Json.NODES.objectNode();
        h.put("ticket", body.path("ticket").asText());
        h.put("clock", clock.incrementAndGet());
        String exchange = replyTo.path("exchange").asText(REPLY_EXCHANGE);
        String routingKey = replyTo.path("routing_key").asText();
        String envelope = envelope(out, h, exchange, routingKey, 1);
        try {
            redis.call("reply to " + body.path("method").asText(), c -> redis.script("route_direct", List.of(),
                    List.of(exchange, routingKey, envelope)));
        } catch (RuntimeException e) {
            log.debug("control: could not reply: {}", e.getMessage());
        }
    }
}
