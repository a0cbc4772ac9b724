package io.celeriac.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the real Celery 5.2 wrote to Redis for canvases ({@code celery-canvas/*.json}, made by
 * {@code capture.py} beside them), and a way to compare messages with them: keys sorted, ids
 * numbered by where they first appear, and what differs per process (origin, reply_to, delivery tag,
 * and kwargsrepr, where Python writes tuples) set aside.
 */
public final class CeleryCaptures {
    private static final Pattern UUID_RE = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");

    private CeleryCaptures() {
    }

    /** One capture file by case name (chain2, after-link_nobody, …). */
    public static JsonNode load(String name) {
        try (InputStream in = CeleryCaptures.class.getResourceAsStream("celery-canvas/" + name + ".json")) {
            if (in == null) {
                throw new IllegalArgumentException("no capture named " + name);
            }
            return Json.read(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The messages a capture found on the queues, oldest first (kombu LPUSHes), each as {@link #message}. */
    public static ArrayNode messages(JsonNode capture) {
        List<JsonNode> bodies = new ArrayList<>();
        capture.get("decoded_bodies").forEach(bodies::add);
        Collections.reverse(bodies);
        ArrayNode out = Json.NODES.arrayNode();
        bodies.forEach(b -> out.add(message(b.get("key").asText().split("\u0006\u0016")[0], b.get("headers"), b.get("properties"),
                b.get("body"))));
        return out;
    }

    /** A message as compared: its queue, headers and properties less what differs per process, and its decoded body. */
    public static ObjectNode message(String queue, JsonNode headers, JsonNode properties, JsonNode body) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("queue", queue);
        ObjectNode h = headers.deepCopy();
        h.remove(List.of("lang", "origin", "kwargsrepr"));
        o.set("headers", h);
        ObjectNode p = properties.deepCopy();
        p.remove(List.of("reply_to", "delivery_tag"));
        o.set("properties", p);
        o.set("body", body);
        return o;
    }

    /** Canonical text: keys sorted, ids numbered by first appearance, reply_to options blanked. */
    public static String normalise(JsonNode n) {
        String canonical = Json.write(sorted(n));
        Map<String, String> ids = new HashMap<>();
        Matcher m = UUID_RE.matcher(canonical);
        StringBuilder sb = new StringBuilder();
        while (m.find()) {
            m.appendReplacement(sb, ids.computeIfAbsent(m.group(), k -> "ID" + (ids.size() + 1)));
        }
        m.appendTail(sb);
        return sb.toString();
    }

    private static JsonNode sorted(JsonNode n) {
        if (n.isObject()) {
            ObjectNode o = Json.NODES.objectNode();
            Map<String, JsonNode> fields = new TreeMap<>();
            n.properties().forEach(e -> fields.put(e.getKey(), e.getValue()));
            fields.forEach((k, v) -> o.set(k, k.equals("reply_to") ? Json.NODES.textNode("*") : sorted(v)));
            return o;
        }
        if (n.isArray()) {
            ArrayNode a = Json.NODES.arrayNode();
            n.forEach(x -> a.add(sorted(x)));
            return a;
        }
        return n;
    }
}
