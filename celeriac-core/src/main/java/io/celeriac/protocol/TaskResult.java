package io.celeriac.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.TaskState;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A task's stored state in Celery's result-backend form:
 * {@code {"status", "result", "traceback", "children", "date_done", "task_id", …}}.
 * For FAILURE, RETRY and REVOKED, {@code result} is the exception object
 * ({@code {"exc_type", "exc_message", "exc_module"}}). Extra fields (parent_id, group_id, name, …)
 * are kept as they came.
 */
public record TaskResult(String taskId, TaskState state, JsonNode result, String traceback, Instant dateDone,
                         ObjectNode extra) {

    public TaskResult {
        Objects.requireNonNull(taskId, "taskId");
        Objects.requireNonNull(state, "state");
        result = result == null ? NullNode.instance : result;
        extra = extra == null ? Json.NODES.objectNode() : extra;
    }

    public static TaskResult success(String taskId, JsonNode value, Instant at) {
        return new TaskResult(taskId, TaskState.SUCCESS, value, null, at, null);
    }

    public static TaskResult failure(String taskId, ExceptionInfo exc, Instant at) {
        return new TaskResult(taskId, TaskState.FAILURE, exc.toJson(), exc.traceback(), at, null);
    }

    public static TaskResult retry(String taskId, ExceptionInfo exc) {
        return new TaskResult(taskId, TaskState.RETRY, exc.toJson(), exc.traceback(), null, null);
    }

    /** REVOKED with Celery's reason: "expired", "revoked" or "terminated". */
    public static TaskResult revoked(String taskId, String reason, Instant at) {
        return new TaskResult(taskId, TaskState.REVOKED,
                ExceptionInfo.of("TaskRevokedError", "celery.exceptions", reason).toJson(), null, at, null);
    }

    public static TaskResult started(String taskId, long pid, String hostname) {
        ObjectNode r = Json.NODES.objectNode();
        r.put("pid", pid);
        r.put("hostname", hostname);
        return new TaskResult(taskId, TaskState.STARTED, r, null, null, null);
    }

    /** The exception of a FAILURE/RETRY/REVOKED result. */
    public ExceptionInfo exception() {
        return ExceptionInfo.fromJson(result, traceback);
    }

    public TaskResult withExtra(String field, JsonNode value) {
        ObjectNode e = extra.deepCopy();
        e.set(field, value);
        return new TaskResult(taskId, state, result, traceback, dateDone, e);
    }

    /** Celery's result JSON, written field by field (no tree built: this runs once for every finished task). */
    public String toJson() {
        java.io.StringWriter out = new java.io.StringWriter(160);
        try (com.fasterxml.jackson.core.JsonGenerator g = Json.MAPPER.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("status", state.name());
            g.writeFieldName("result");
            Json.writeTree(g, result);
            g.writeFieldName("traceback");
            if (traceback == null) g.writeNull(); else g.writeString(traceback);
            g.writeFieldName("children");
            JsonNode children = extra.get("children");
            if (children == null) {
                g.writeStartArray();
                g.writeEndArray();
            } else {
                Json.writeTree(g, children);
            }
            g.writeFieldName("date_done");
            if (dateDone == null) g.writeNull(); else g.writeString(CeleryTime.formatNaive(dateDone));
            g.writeStringField("task_id", taskId);
            for (Map.Entry<String, JsonNode> e : extra.properties()) {
                if (!e.getKey().equals("children")) {
                    g.writeFieldName(e.getKey());
                    Json.writeTree(g, e.getValue());
                }
            }
            g.writeEndObject();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toString();
    }

    /** Reads a stored result; throws {@link IllegalArgumentException} when it is not one. */
    public static TaskResult fromJson(String json) {
        JsonNode n;
        try {
            n = Json.read(json);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("stored result is not JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject() || !n.hasNonNull("task_id") || !n.hasNonNull("status")) {
            throw new IllegalArgumentException("stored result has no task_id/status");
        }
        ObjectNode extra = ((ObjectNode) n).deepCopy();
        extra.remove(java.util.List.of("status", "result", "traceback", "date_done", "task_id"));
        JsonNode dd = n.get("date_done");
        Instant done = dd == null || dd.isNull() ? null : CeleryTime.parse(dd.asText());
        JsonNode tb = n.get("traceback");
        return new TaskResult(n.get("task_id").asText(), TaskState.parse(n.get("status").asText()), n.get("result"),
                tb == null || tb.isNull() ? null : tb.asText(), done, extra);
    }
}
