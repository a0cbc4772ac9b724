package io.celeriac.canvas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.Json;

/** Celery's list options of a signature ({@code link}, {@code link_error}): a single value becomes a list of one. */
public final class OptionLists {
    private OptionLists() {
    }

    /** The list under {@code name} in {@code options}, made (and put there) if it is missing or a single value. */
    public static ArrayNode of(ObjectNode options, String name) {
        JsonNode cur = options.get(name);
        if (cur instanceof ArrayNode a) {
            return a;
        }
        ArrayNode l = Json.NODES.arrayNode();
        if (cur != null && !cur.isNull()) {
            l.add(cur);
        }
        options.set(name, l);
        return l;
    }

    /** Celery's {@code append_to_list_option}: adds {@code value} unless the list has it already. */
    public static void append(ObjectNode options, String name, JsonNode value) {
        ArrayNode l = of(options, name);
        for (JsonNode existing : l) {
            if (existing.equals(value)) {
                return;
            }
        }
        l.add(value.deepCopy());
    }
}
