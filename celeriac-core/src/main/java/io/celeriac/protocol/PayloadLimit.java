package io.celeriac.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * {@code task_payload_max_bytes}: how big a message's arguments and a task's result may be, and
 * the one-line reason when they are bigger. The size of a message is that of its JSON body
 * {@code [args, kwargs, embed]} (UTF-8, before base64), of a result its value's JSON.
 */
public final class PayloadLimit {
    public static final String SETTING = "task_payload_max_bytes";

    private PayloadLimit() {
    }

    /** The bytes of the message's body, {@code [args,kwargs,embed]} as {@link MessageCodec} writes it. */
    public static long bodyBytes(TaskMessage m) {
        return 4 + Json.byteSize(m.argsNode()) + Json.byteSize(m.kwargsNode()) + Json.byteSize(m.embedNode());
    }

    /** {@code "15.0 MiB (15728662 bytes)"}. */
    public static String size(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB (%d bytes)", bytes / (1024.0 * 1024.0), bytes);
    }

    /** The reason a payload of {@code bytes} is refused, e.g. "arguments of task 'x' are 15.0 MiB (…), over task_payload_max_bytes …". */
    public static String over(String what, long bytes, long limit) {
        return what + " " + size(bytes) + ", over " + SETTING + " (" + size(limit) + ")";
    }

    /** The reason a result value is refused, or null when it fits. */
    public static String resultOver(String task, JsonNode value, long limit) {
        long bytes = Json.byteSize(value);
        return bytes <= limit ? null : over("result of task '" + LogText.escape(task) + "' is", bytes, limit);
    }
}
