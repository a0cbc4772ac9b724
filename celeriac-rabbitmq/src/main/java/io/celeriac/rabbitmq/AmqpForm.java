package io.celeriac.rabbitmq;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.spi.BrokerMessage;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A message's form on RabbitMQ, as Celery's pyamqp transport sends it: the task body
 * ({@code [args, kwargs, embed]}) as the AMQP body, the protocol-2 headers as an AMQP table, and
 * {@code content_type}, {@code content_encoding}, {@code correlation_id} (the task id),
 * {@code reply_to}, {@code delivery_mode} 2, {@code priority} and {@code expiration} (the
 * milliseconds left until {@code expires}; none when it has passed, so that a worker records the
 * task REVOKED rather than RabbitMQ dropping it unseen) as properties
 * — not the JSON envelope the virtual transports (Redis, SQL) store. {@link #toAmqp} takes that
 * envelope apart, {@link #toEnvelope} puts it back together for the worker.
 *
 * <p>Priority: Celeriac delivers a lower number first on every broker, RabbitMQ a higher
 * {@code priority} property first, so the property is {@code 9 - priority} (and an absent one, as
 * Python sends by default, reads as 9, the last). Order across Python and Java producers is the
 * one RabbitMQ gives.
 *
 * <p>A payload that is not a kombu envelope (the conformance kit's) travels as it is, marked by
 * the header {@code x-celeriac-raw}.
 */
final class AmqpForm {
    /** Marks a payload that is not a task message. */
    static final String RAW = "x-celeriac-raw";
    /** How many deliveries of this message ended without an ack (counted by Celeriac, see RabbitBroker). */
    static final String REDELIVERIES = "x-celeriac-redeliveries";

    private AmqpForm() {
    }

    /** Properties and body to publish. */
    record Out(AMQP.BasicProperties props, byte[] body) {
    }

    static Out toAmqp(BrokerMessage m, long nowMillis) {
        JsonNode env = envelope(m.payload());
        int priority = 9 - m.priority();
        if (env == null) {
            Map<String, Object> headers = new HashMap<>();
            headers.put(RAW, true);
            AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().contentType("text/plain").contentEncoding("utf-8")
                    .deliveryMode(2).priority(priority).headers(headers).build();
            return new Out(props, m.payload().getBytes(StandardCharsets.UTF_8));
        }
        JsonNode p = env.path("properties");
        String text = env.get("body").asText();
        byte[] body = "base64".equals(p.path("body_encoding").asText())
                ? Base64.getDecoder().decode(text) : text.getBytes(StandardCharsets.UTF_8);
        Map<String, Object> headers = table(env.path("headers"));
        AMQP.BasicProperties.Builder b = new AMQP.BasicProperties.Builder()
                .contentType(env.path("content-type").asText("application/json"))
                .contentEncoding(env.path("content-encoding").asText("utf-8"))
                .deliveryMode(p.path("delivery_mode").asInt(2) == 1 ? 1 : 2)
                .priority(priority)
                .headers(headers);
        String id = p.hasNonNull("correlation_id") ? p.get("correlation_id").asText() : env.path("headers").path("id").asText(null);
        b.correlationId(id);
        if (p.hasNonNull("reply_to")) {
            b.replyTo(p.get("reply_to").asText());
        }
        JsonNode expires = env.path("headers").path("expires");
        if (expires.isTextual()) {
            try {
                long left = CeleryTime.parse(expires.asText()).toEpochMilli() - nowMillis;
                if (left > 0) { // already expired: no TTL, so that a worker takes it and records it REVOKED (expired)
                    b.expiration(Long.toString(left));
                }
            } catch (RuntimeException unreadable) {
                // the worker reads it and tells
            }
        }
        return new Out(b.build(), body);
    }

    /** The payload a consumer gets back: the original raw text, or a kombu envelope. */
    static String toEnvelope(String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
        Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
        if (Boolean.TRUE.equals(headers.get(RAW))) {
            return new String(body, StandardCharsets.UTF_8);
        }
        // written by a streaming generator (no tree): this runs for every delivery
        java.io.StringWriter out = new java.io.StringWriter(body.length * 4 / 3 + 512);
        try (JsonGenerator g = Json.MAPPER.getFactory().createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("body", Base64.getEncoder().encodeToString(body));
            g.writeStringField("content-encoding", props.getContentEncoding() == null ? "utf-8" : props.getContentEncoding());
            g.writeStringField("content-type", props.getContentType() == null ? "application/json" : props.getContentType());
            g.writeObjectFieldStart("headers");
            for (Map.Entry<String, Object> h : headers.entrySet()) {
                if (!h.getKey().startsWith("x-celeriac-")) {
                    g.writeFieldName(h.getKey());
                    write(g, h.getValue());
                }
            }
            g.writeEndObject();
            g.writeObjectFieldStart("properties");
            g.writeStringField("correlation_id", props.getCorrelationId());
            g.writeStringField("reply_to", props.getReplyTo());
            g.writeNumberField("delivery_mode", props.getDeliveryMode() == null ? 2 : props.getDeliveryMode());
            g.writeObjectFieldStart("delivery_info");
            g.writeStringField("exchange", exchange);
            g.writeStringField("routing_key", routingKey);
            g.writeEndObject();
            g.writeNumberField("priority", 9 - Math.max(0, Math.min(9, props.getPriority() == null ? 0 : props.getPriority())));
            g.writeStringField("body_encoding", "base64");
            g.writeStringField("delivery_tag", deliveryTag());
            g.writeEndObject();
            g.writeEndObject();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // a StringWriter does not fail
        }
        return out.toString();
    }

    /**
     * A random version-4 UUID, as kombu's delivery tags are, from a thread-local generator: the
     * envelope's tag names the message, it guards nothing, so it needs no SecureRandom (whose lock
     * every delivery would take).
     */
    static String deliveryTag() {
        java.util.concurrent.ThreadLocalRandom r = java.util.concurrent.ThreadLocalRandom.current();
        long hi = (r.nextLong() & ~0xF000L) | 0x4000L;
        long lo = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
        return new UUID(hi, lo).toString();
    }

    /** An AMQP field value written as JSON, as {@link #json} converts it. */
    private static void write(JsonGenerator g, Object v) throws java.io.IOException {
        if (v == null) {
            g.writeNull();
        } else if (v instanceof LongString ls) {
            g.writeString(new String(ls.getBytes(), StandardCharsets.UTF_8));
        } else if (v instanceof String str) {
            g.writeString(str);
        } else if (v instanceof Boolean b) {
            g.writeBoolean(b);
        } else if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            g.writeNumber(((Number) v).intValue());
        } else if (v instanceof Long l) {
            g.writeNumber(l);
        } else if (v instanceof List<?> l) {
            g.writeStartArray();
            for (Object x : l) {
                write(g, x);
            }
            g.writeEndArray();
        } else if (v instanceof Map<?, ?> m) {
            g.writeStartObject();
            for (Map.Entry<?, ?> e : m.entrySet()) {
                g.writeFieldName(String.valueOf(e.getKey()));
                write(g, e.getValue());
            }
            g.writeEndObject();
        } else {
            g.writeTree(json(v)); // the rare kinds (decimals, doubles, dates, bytes): as json() has them
        }
    }

    /** The payload as a kombu envelope, or null when it is not one. */
    private static JsonNode envelope(String payload) {
        if (!payload.startsWith("{") || !payload.contains("\"headers\"")) {
            return null;
        }
        try {
            JsonNode env = Json.read(payload);
            return env.isObject() && env.path("body").isTextual() && env.path("headers").isObject()
                    && env.path("properties").isObject() ? env : null;
        } catch (Exception notJson) {
            return null;
        }
    }

    /** A JSON object as an AMQP table (null, lists, tables, numbers, booleans, strings). */
    static Map<String, Object> table(JsonNode obj) {
        Map<String, Object> out = new LinkedHashMap<>();
        obj.properties().forEach(e -> out.put(e.getKey(), value(e.getValue())));
        return out;
    }

    private static Object value(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isTextual()) {
            return n.asText();
        }
        if (n.isBoolean()) {
            return n.asBoolean();
        }
        if (n.isIntegralNumber()) {
            return n.canConvertToInt() ? (Object) n.intValue() : (Object) n.longValue();
        }
        if (n.isNumber()) {
            return n.doubleValue();
        }
        if (n.isArray()) {
            List<Object> l = new ArrayList<>();
            n.forEach(x -> l.add(value(x)));
            return l;
        }
        if (n.isObject()) {
            return table(n);
        }
        return n.toString();
    }

    /** An AMQP field value as JSON. */
    static JsonNode json(Object v) {
        if (v == null) {
            return Json.NODES.nullNode();
        }
        if (v instanceof LongString ls) {
            return Json.NODES.textNode(new String(ls.getBytes(), StandardCharsets.UTF_8));
        }
        if (v instanceof String s) {
            return Json.NODES.textNode(s);
        }
        if (v instanceof Boolean b) {
            return Json.NODES.booleanNode(b);
        }
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return Json.NODES.numberNode(((Number) v).intValue());
        }
        if (v instanceof Long l) {
            return Json.NODES.numberNode(l);
        }
        if (v instanceof BigDecimal d) {
            return Json.NODES.numberNode(d);
        }
        if (v instanceof Number n) {
            return Json.NODES.numberNode(n.doubleValue());
        }
        if (v instanceof List<?> l) {
            ArrayNode a = Json.NODES.arrayNode();
            l.forEach(x -> a.add(json(x)));
            return a;
        }
        if (v instanceof Map<?, ?> m) {
            ObjectNode o = Json.NODES.objectNode();
            m.forEach((k, x) -> o.set(String.valueOf(k), json(x)));
            return o;
        }
        if (v instanceof Date d) {
            return Json.NODES.textNode(CeleryTime.format(d.toInstant()));
        }
        if (v instanceof byte[] bytes) {
            return Json.NODES.textNode(Base64.getEncoder().encodeToString(bytes));
        }
        return Json.NODES.textNode(String.valueOf(v));
    }

    /** A JSON value read from an AMQP body, or null when it is not JSON. */
    static JsonNode body(byte[] body) {
        try {
            return Json.read(new String(body, StandardCharsets.UTF_8));
        } catch (Exception notJson) {
            return null;
        }
    }
}
