package io.celeriac.canvas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.celeriac.protocol.Json;
import java.util.List;

/**
 * What applying a signature promises: a task's result (Celery's AsyncResult) or a group's
 * (GroupResult, with its members), each with the result it follows, if any. Mutable while a canvas
 * is being frozen (Celery links parents as it goes), then only read.
 */
public final class Ref {
    private final String id;
    private final List<Ref> members;
    private Ref parent;

    private Ref(String id, List<Ref> members) {
        this.id = id;
        this.members = members;
    }

    public static Ref task(String id) {
        return new Ref(id, null);
    }

    public static Ref group(String id, List<Ref> members) {
        return new Ref(id, List.copyOf(members));
    }

    public String id() {
        return id;
    }

    public boolean isGroup() {
        return members != null;
    }

    /** A group's members, in order (empty for a task). */
    public List<Ref> members() {
        return members == null ? List.of() : members;
    }

    public Ref parent() {
        return parent;
    }

    void parent(Ref parent) {
        this.parent = parent;
    }

    /**
     * Celery's {@code as_tuple()}, as stored in a result's {@code children} and a saved group:
     * {@code [[id, parent], null]} for a task, {@code [[id, parent], [members…]]} for a group.
     */
    public JsonNode asTuple() {
        ArrayNode t = Json.NODES.arrayNode();
        ArrayNode head = t.addArray();
        head.add(id);
        head.add(parent == null ? Json.NODES.nullNode() : parent.asTuple());
        if (members == null) {
            t.addNull();
        } else {
            ArrayNode ms = t.addArray();
            members.forEach(m -> ms.add(m.asTuple()));
        }
        return t;
    }

    /** Reads a tuple back ({@link #asTuple()}'s form); null when it is not one. */
    public static Ref fromTuple(JsonNode t) {
        if (t == null || !t.isArray() || t.size() != 2 || !t.get(0).isArray() || t.get(0).size() < 1) {
            return null;
        }
        String id = t.get(0).get(0).asText();
        JsonNode ms = t.get(1);
        Ref r;
        if (ms != null && ms.isArray()) {
            java.util.List<Ref> members = new java.util.ArrayList<>();
            for (JsonNode m : ms) {
                Ref child = fromTuple(m);
                if (child != null) {
                    members.add(child);
                }
            }
            r = group(id, members);
        } else {
            r = task(id);
        }
        if (t.get(0).size() > 1) {
            r.parent = fromTuple(t.get(0).get(1));
        }
        return r;
    }

    @Override
    public String toString() {
        return (isGroup() ? "group " : "") + id;
    }
}
