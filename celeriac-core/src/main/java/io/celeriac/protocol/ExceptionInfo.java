package io.celeriac.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * An exception as Celery's JSON result backend stores it: {@code exc_type} (simple class name),
 * {@code exc_module} (Java package / Python module), {@code exc_message} (the exception's
 * arguments; for Java, the message), plus the formatted traceback kept beside it.
 */
public record ExceptionInfo(String type, String module, String message, String traceback) {

    /** Stack traces longer than this are cut (a deep recursion must not make a 10 MB result). */
    static final int MAX_TRACEBACK = 64 * 1024;

    public static ExceptionInfo of(Throwable t) {
        Class<?> c = t.getClass();
        String simple = c.getSimpleName().isEmpty() ? c.getName().substring(c.getName().lastIndexOf('.') + 1) : c.getSimpleName();
        String module = c.getPackageName();
        StringWriter sw = new StringWriter();
        t.printStackTrace(new PrintWriter(sw));
        String tb = sw.toString();
        if (tb.length() > MAX_TRACEBACK) {
            tb = tb.substring(0, MAX_TRACEBACK) + "\n\t... (traceback cut at " + MAX_TRACEBACK + " characters)\n";
        }
        return new ExceptionInfo(simple, module, t.getMessage(), tb);
    }

    /** An exception raised by the worker machinery itself (NotRegistered, TimeLimitExceeded, …). */
    public static ExceptionInfo of(String type, String module, String message) {
        return new ExceptionInfo(type, module, message, null);
    }

    /** {@code {"exc_type", "exc_message": [message], "exc_module"}}. */
    public ObjectNode toJson() {
        ObjectNode o = Json.NODES.objectNode();
        o.put("exc_type", type);
        ArrayNode msg = o.putArray("exc_message");
        if (message != null) {
            msg.add(message);
        }
        o.put("exc_module", module);
        return o;
    }

    /** Reads Celery's form; {@code exc_message} may be a list of arguments or a plain string. */
    public static ExceptionInfo fromJson(JsonNode o, String traceback) {
        if (o == null || !o.isObject()) {
            return new ExceptionInfo("Exception", "builtins", o == null || o.isNull() ? null : o.toString(), traceback);
        }
        String type = o.path("exc_type").asText("Exception");
        String module = o.path("exc_module").isNull() ? null : o.path("exc_module").asText(null);
        JsonNode m = o.get("exc_message");
        String message;
        if (m == null || m.isNull()) {
            message = null;
        } else if (m.isArray()) {
            if (m.isEmpty()) {
                message = null;
            } else if (m.size() == 1) {
                message = m.get(0).isTextual() ? m.get(0).asText() : m.get(0).toString();
            } else {
                message = m.toString();
            }
        } else {
            message = m.asText();
        }
        return new ExceptionInfo(type, module, message, traceback);
    }

    /** {@code module.Type: message}, as a log line would show it. */
    public String summary() {
        String q = module == null || module.isEmpty() || module.equals("builtins") ? type : module + "." + type;
        return message == null || message.isEmpty() ? q : q + ": " + message;
    }
}
