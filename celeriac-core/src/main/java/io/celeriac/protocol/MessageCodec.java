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
        return decode(payload, Long.MAX_VALUE);
    }

    /**
     * Decodes a stored envelope whose body may be at most {@code maxBodyBytes} (task_payload_max_bytes).
     * When the message's id can be read, the {@link MalformedMessageException} carries it, with the
     * exception Celery or kombu would name: {@code ContentDisallowed} (pickle, another content type),
     * {@code DecodeError} (body not base64, not JSON), {@code ValueError} (a bad eta or expires),
     * {@code LimitExceeded} (body over the limit), {@code InvalidTaskError} (not protocol 2).
     */
    public static TaskMessage decode(String payload, long maxBodyBytes) {
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
        JsonNode headers = env.get("headers");
        if (headers == null || !headers.isObject()) {
            throw new MalformedMessageException("message has no headers object");
        }
        JsonNode idNode = headers.get("id");
        String id = idNode != null && idNode.isTextual() && !idNode.asText().isEmpty() ? idNode.asText() : null;
        JsonNode taskNode = headers.get("task");
        String name = taskNode != null && taskNode.isTextual() && !taskNode.asText().isEmpty() ? taskNode.asText() : null;
        JsonNode contentType = env.get("content-type");
        if (contentType != null && !contentType.isNull() && !"application/json".equals(contentType.asText())) {
            throw new MalformedMessageException("content type '" + contentType.asText()
                    + "' is not accepted; only application/json (Celery's json serializer) is", id, name,
                    "ContentDisallowed", "kombu.exceptions");
        }
        if (env.get("properties") == null || !env.get("properties").isObject()) {
            env.putObject("properties");
        }
        if (name == null) {
            throw new MalformedMessageException("message has no 'task' header (Celery protocol 1 is not supported)",
                    id, null, "InvalidTaskError", "celery.exceptions");
        }
        if (id == null) {
            throw new MalformedMessageException("message for task '" + name + "' has no 'id' header");
        }
        for (String timeHeader : new String[] {"eta", "expires"}) {
            JsonNode t = headers.get(timeHeader);
            if (t != null && !t.isNull()) {
                try {
                    CeleryTime.parse(t.asText());
                } catch (IllegalArgumentException e) {
                    throw new MalformedMessageException("header '" + timeHeader + "' of task " + name + "["
                            + id + "]: " + e.getMessage(), id, name, "ValueError", "builtins");
                }
            }
        }
        JsonNode body = env.remove("body");
        JsonNode decoded = decodeBody(body, env.get("properties"), name, id, maxBodyBytes);
        if (!decoded.isArray() || decoded.size() != 3 || !decoded.get(0).isArray() || !decoded.get(1).isObject()) {
            throw new MalformedMessageException("body of task " + name + "[" + id
                    + "] is not [args, kwargs, embed] (Celery protocol 2)", id, name, "InvalidTaskError", "celery.exceptions");
        }
        JsonNode embed = decoded.get(2);
        ObjectNode embedObj = embed != null && embed.isObject() ? (ObjectNode) embed : Json.NODES.objectNode();
        return new TaskMessage(env, (ArrayNode) decoded.get(0), (ObjectNode) decoded.get(1), embedObj);
    }

    private static JsonNode decodeBody(JsonNode body, JsonNode properties, String task, String id, long maxBodyBytes) {
        if (body == null || body.isNull()) {
            throw new MalformedMessageException("message for task '" + task + "' has no body", id, task,
                    "InvalidTaskError", "celery.exceptions");
        }
        if (body.isArray()) {
            long bytes = Json.byteSize(body);
            if (bytes > maxBodyBytes) {
                throw tooLarge(task, id, bytes, maxBodyBytes);
            }
            return body; // already decoded (some producers embed the JSON directly)
        }
        String text = body.asText();
        JsonNode encoding = properties.get("body_encoding");
        if (encoding != null && "base64".equals(encoding.asText())) {
            if (text.length() / 4L * 3 - 2 > maxBodyBytes) { // at least this many bytes: too large before decoding it
                throw tooLarge(task, id, text.length() / 4L * 3, maxBodyBytes);
            }
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(text);
            } catch (IllegalArgumentException e) {
                throw new MalformedMessageException("body of task '" + task + "' is not valid base64", id, task,
                        "DecodeError", "kombu.exceptions");
            }
            if (bytes.length > maxBodyBytes) {
                throw tooLarge(task, id, bytes.length, maxBodyBytes);
            }
            try {
                return Json.read(bytes); // the UTF-8 bytes as they are: no string made of them first
            } catch (JsonProcessingException e) {
                throw notJson(task, id, e);
            }
        } else if (text.length() > maxBodyBytes / 3) {
            long bytes = StandardCharsets.UTF_8.encode(text).remaining();
            if (bytes > maxBodyBytes) {
                throw tooLarge(task, id, bytes, maxBodyBytes);
            }
        }
        try {
            return Json.read(text);
        } catch (JsonProcessingException e) {
            throw notJson(task, id, e);
        }
    }

    private static MalformedMessageException notJson(String task, String id, JsonProcessingException e) {
        return new MalformedMessageException("body of task '" + task + "' is not JSON: " + e.getOriginalMessage(),
                id, task, "DecodeError", "kombu.exceptions");
    }

    private static MalformedMessageException tooLarge(String task, String id, long bytes, long limit) {
        return new MalformedMessageException(PayloadLimit.over("the arguments of task '" + task + "' [" + id + "] are",
                bytes, limit), id, task, "LimitExceeded", "kombu.exceptions");
    }
}
