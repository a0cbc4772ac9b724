package io.celeriac.spi;

import io.celeriac.protocol.TaskResult;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Everything the end of one message's handling causes, to be committed as one step: the results to
 * store, the messages to publish (the next chain step, callbacks, errbacks, a retry, a dead letter, a
 * copy parked for its ETA), the chord sizes to record, the chord part to count, and the ack of the
 * delivery. A store that holds the broker's queues too commits it atomically
 * ({@link ResultStore#settle}); a worker killed at any instant then neither drops a continuation nor
 * publishes it twice.
 *
 * <p>When {@code delivery} is set and {@code ack} is true, a store that can tell applies the
 * settlement only while the delivery is still unacknowledged: a second settlement of the same
 * message (a duplicate run after a lapsed lease, or a retried commit) publishes nothing again.
 *
 * @param delivery   the message handled, or null (a client applying a canvas)
 * @param ack        whether to ack {@code delivery}
 * @param effects    results, publications and chord sizes
 * @param chordParts chord header parts to record (its own, and for a failed chain, the rest of the chain's)
 */
public record Settlement(Delivery delivery, boolean ack, Effects effects, List<ChordPart> chordParts) {
    public Settlement {
        effects = effects == null ? Effects.NONE : effects;
        chordParts = List.copyOf(chordParts);
    }

    /** Just an ack (and, if given, one result). */
    public static Settlement ack(Delivery delivery, TaskResult result) {
        return new Settlement(delivery, true, new Effects(result == null ? List.of() : List.of(result), List.of(), Map.of()), List.of());
    }

    /** Effects with no delivery (a client's canvas). */
    public static Settlement of(Effects effects) {
        return new Settlement(null, false, effects, List.of());
    }

    /** True when it acks a delivery that a store can check is still unacknowledged. */
    public boolean acksDelivery() {
        return delivery != null && ack;
    }

    /** Every result of a batch, in order. */
    public static List<TaskResult> results(List<Settlement> batch) {
        List<TaskResult> out = new ArrayList<>();
        batch.forEach(s -> out.addAll(s.effects().results()));
        return out;
    }
}
