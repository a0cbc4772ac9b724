package io.celeriac.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.MalformedMessageException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * Reads and writes the kombu envelope of a protocol-v2 message: a JSON object with {@code body}
 * (base64 of the JSON {@code [args, kwargs, embed]}), {@code content-encoding}, {@code content-type},
 * {@code headers} and {@code properties}. Every broker stores messages in this one form, so a
 * message is the same bytes on SQLite as on Redis.
 */
public final class MessageCodec {
    private MessageCodec() {
    }

    public static String encode(TaskMessage m) {
        ObjectNode out = Json.NODES.objectNode();
        out.put("body", Base64.getEncoder().encodeToString(body(m).getBytes(StandardCharsets.UTF_8)));
        out.setAll(m.envelope());
        return Json.write(out);
    }

    /** The body's JSON text: {@code [args, kwargs, embed]}. */
    private static String body(TaskMessage m) {
        ArrayNode body = Json.NODES.arrayNode();
        body.add(m.argsNode());
        body.add(m.kwargsNode());
        body.add(m.embedNode());
        return Json.write(body);
    }

    /**
     * The envelope with the body as a JSON string instead of base64 (no {@code body_encoding}), which
     * kombu and Celery read as well: for messages a store assembles from text, such as a chord body
     * whose first argument is the header's results, filled in inside Redis.
     */
    public static String encodePlain(TaskMessage m) {
        ObjectNode out = Json.NODES.objectNode();
        out.put("body", body(m));
        ObjectNode env = m.envelope().deepCopy();
        ((ObjectNode) env.get("properties")).remove("body_encoding");
        out.setAll(env);
        return Json.write(out);
    }

    /**
     * Decodes a stored envelope. Anything that is not a protocol-2 JSON task message is a
     * {@link MalformedMessageException} whose message is the reason recorded in the dead-letter queue.
     */
    public static TaskMessage decode(String payload) {
        JsonNode root;
        try {
            root = Json.read(payload);
        } catch (JsonProcessingException e) {
            throw new MalformedMessageException("message is not JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new MalformedMessageException("message is not a JSON object (kombu envelope)");
        }
        ObjectNode env = (ObjectNode) root;
        JsonNode contentType = env.get("content-type");
        if (contentType != null && !contentType.isNull() && !"application/json".equals(contentType.asText())) {
            throw new MalformedMessageException("content type '" + contentType.asText()
                    + "' is not accepted; only application/json (Celery's json serializer) is");
        }
        JsonNode headers = env.get("headers");
        if (headers == null || !headers.isObject()) {
            throw new MalformedMessageException("message has no headers object");
        }
        if (env.get("properties") == null || !env.get("properties").isObject()) {
            env.putObject("properties");
        }
        JsonNode task = headers.get("task");
        if (task == null || !task.isTextual() || task.asText().isEmpty()) {
            throw new MalformedMessageException("message has no 'task' header (Celery protocol 1 is not supported)");
        }
        JsonNode id = headers.get("id");
        if (id == null || !id.isTextual() || id.asText().isEmpty()) {
            throw new MalformedMessageException("message for task '" + task.asText() + "' has no 'id' header");
        }
        for (String timeHeader : new String[] {"eta", "expires"}) {
            JsonNode t = headers.get(timeHeader);
            if (t != null && !t.isNull()) {
                try {
                    CeleryTime.parse(t.asText());
                } catch (IllegalArgumentException e) {
                    throw new MalformedMessageException("header '" + timeHeader + "' of task " + task.asText() + "["
                            + id.asText() + "]: " + e.getMessage());
                }
            }
        }
        JsonNode body = env.remove("body");
        JsonNode decoded = decodeBody(body, env.get("properties"), task.asText());
        if (!decoded.isArray() || decoded.size() != 3 || !decoded.get(0).isArray() || !decoded.get(1).isObject()) {
            throw new MalformedMessageException("body of task " + task.asText() + "[" + id.asText()
                    + "] is not [args, kwargs, embed] (Celery protocol 2)");
        }
        JsonNode embed = decoded.get(2);
        ObjectNode embedObj = embed != null && embed.isObject() ? (ObjectNode) embed : Json.NODES.objectNode();
        return new TaskMessage(env, (ArrayNode) decoded.get(0), (ObjectNode) decoded.get(1), embedObj);
    }

    private static JsonNode decodeBody(JsonNode body, JsonNode properties, String task) {
        if (body == null || body.isNull()) {
            throw new MalformedMessageException("message for task '" + task + "' has no body");
        }
        if (body.isArray()) {
            return body; // already decoded (some producers embed the JSON directly)
        }
        String text = body.asText();
        JsonNode encoding = properties.get("body_encoding");
        if (encoding != null && "base64".equals(encoding.asText())) {
            try {
                text = new String(Base64.getDecoder().decode(text), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new MalformedMessageException("body of task '" + task + "' is not valid base64");
            }
        }
        try {
            return Json.read(text);
        } catch (JsonProcessingException e) {
            throw new MalformedMessageException("body of task '" + task + "' is not JSON: " + e.getOriginalMessage());
        }
    }
}
