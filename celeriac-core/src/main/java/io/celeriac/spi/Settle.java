package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.celeriac.TaskState;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import java.util.List;
import java.util.Optional;

/**
 * The one path of a {@link Settlement} through a store, written once for the stores that run Java
 * inside their commit (a SQL transaction, a lock held on memory): claim the delivery (skip the
 * whole settlement when it was settled already), publish, store, record chord sizes, count chord
 * parts and fire a completed chord's body, ack. Redis does the same steps in one Lua script.
 */
public final class Settle {
    private Settle() {
    }

    /** What a store does inside its commit. */
    public interface Tx {
        /**
         * Before anything else of a settlement that acks a delivery: true when the delivery is still
         * unacknowledged (a store that can acks it here, atomically with the rest); false when it was
         * settled already, so nothing of this settlement is applied again.
         */
        boolean claim(Delivery delivery);

        void store(TaskResult result);

        void publish(Publication publication);

        void chordSize(String groupId, int size);

        /**
         * Records a chord part; when it is the part that completes its group (parts recorded equal the
         * group's size), returns every part of the group in header order, and forgets the group. Once.
         */
        Optional<List<Part>> addPart(ChordPart part);

        /** After everything else: ack the delivery, for a store that could not in {@link #claim}. */
        void ack(Delivery delivery);
    }

    /**
     * What a store whose broker is elsewhere leaves for after its own commit: the messages, published
     * through that broker, then the acks (a crash in between runs the task again: at-least-once).
     */
    public static final class Elsewhere {
        private final List<Publication> publications = new java.util.ArrayList<>();
        private final List<Delivery> acks = new java.util.ArrayList<>();

        public void publish(Publication p) {
            publications.add(p);
        }

        public void ack(Delivery d) {
            acks.add(d);
        }

        /** Forgets what was left (a transaction that is run again). */
        public void clear() {
            publications.clear();
            acks.clear();
        }

        public void send(Broker broker) {
            publications.forEach(p -> broker.publish(p.queue(), p.message()));
            if (!acks.isEmpty()) {
                broker.ack(acks);
            }
        }
    }

    /** A recorded chord part, as read back when its group completes. */
    public record Part(String taskId, TaskState state, JsonNode result) {
    }

    public static void apply(Tx tx, Settlement s) {
        if (s.acksDelivery() && !tx.claim(s.delivery())) {
            return;
        }
        effects(tx, s.effects());
        for (ChordPart part : s.chordParts()) {
            tx.addPart(part).ifPresent(parts -> effects(tx, fire(part.body(), parts)));
        }
        if (s.acksDelivery()) {
            tx.ack(s.delivery());
        }
    }

    private static void effects(Tx tx, Effects e) {
        e.chordSizes().forEach(tx::chordSize);
        e.publications().forEach(tx::publish);
        e.results().forEach(tx::store);
    }

    /** What a completed chord does: the body with the results in order, or its failure when a part failed. */
    public static Effects fire(ChordBody body, List<Part> parts) {
        ArrayNode results = Json.NODES.arrayNode();
        for (Part p : parts) {
            if (p.state().propagates()) {
                return body.failed(dependencyFailed(p.taskId(), p.state(), p.result()));
            }
            results.add(p.result());
        }
        return body.complete(results);
    }

    /**
     * The reason a chord fails when a header task did: Celery's {@code "Dependency <id> raised <repr>"},
     * the repr built from the stored exception ({@code ValueError('boom')}).
     */
    public static String dependencyFailed(String taskId, TaskState state, JsonNode result) {
        io.celeriac.protocol.ExceptionInfo e = io.celeriac.protocol.ExceptionInfo.fromJson(result, null);
        StringBuilder repr = new StringBuilder(e.type()).append('(');
        JsonNode msg = result == null ? null : result.get("exc_message");
        if (msg != null && msg.isArray()) {
            for (int i = 0; i < msg.size(); i++) {
                if (i > 0) {
                    repr.append(", ");
                }
                repr.append(io.celeriac.protocol.PythonRepr.of(msg.get(i)));
            }
        } else if (e.message() != null) {
            repr.append(io.celeriac.protocol.PythonRepr.of(Json.NODES.textNode(e.message())));
        }
        repr.append(')');
        return "Dependency " + taskId + " raised " + repr;
    }
}
