package io.celeriac.canvas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Canvas;
import io.celeriac.Signature;
import io.celeriac.TaskState;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.ChordPart;
import io.celeriac.spi.Effects;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * What a finished task causes beyond its own result, as Celery 5.2's worker does it
 * ({@code app/trace.py}, {@code backends/base.py}), computed before anything is committed so that a
 * store can commit it together with the result and the ack:
 * <ul>
 *   <li>after SUCCESS: its {@code callbacks} applied with the result (several as a group), the next
 *       step of its {@code chain} with the result prepended and the rest of the chain, and its
 *       {@code chord} part counted; what was applied is recorded as the result's {@code children};</li>
 *   <li>after FAILURE: the same FAILURE stored for every later step of its chain (so the chain's
 *       result fails instead of staying PENDING), chord parts counted (its own and a later step's
 *       that belongs to a chord), its {@code errbacks} applied with its id;</li>
 *   <li>after REVOKED (revoked, expired, terminated): its chord part, and the rest of its chain
 *       stored REVOKED.</li>
 * </ul>
 * Shared by the worker and the eager mode ({@code task_always_eager}).
 */
public final class Continuations {
    private final Dispatch dispatch;
    private final Clock clock;

    public Continuations(Dispatch dispatch, Clock clock) {
        this.dispatch = dispatch;
        this.clock = clock;
    }

    /** Effects, chord parts and the children to record in the task's result. */
    public record After(Effects effects, List<ChordPart> chordParts, ArrayNode children) {
        public static final After NONE = new After(Effects.NONE, List.of(), null);

        public boolean isEmpty() {
            return effects.isEmpty() && chordParts.isEmpty() && (children == null || children.isEmpty());
        }
    }

    private static Dispatch.Parent parentOf(TaskMessage m) {
        return new Dispatch.Parent(m.id(), m.rootId() != null ? m.rootId() : m.id());
    }

    /** Celery's success path: callbacks, then the next chain step, then the chord part. */
    public After succeeded(TaskMessage m, JsonNode value) {
        if (!hasCanvas(m)) {
            return After.NONE;
        }
        Dispatch.Parent parent = parentOf(m);
        Dispatch.Plan plan = new Dispatch.Plan(parent);
        ArrayNode withValue = Json.NODES.arrayNode();
        withValue.add(value);
        ObjectNode from = Json.NODES.objectNode();
        from.put("parent_id", parent.id());
        from.put("root_id", parent.rootId());
        List<Signature> callbacks = Signature.readAll(m.embedded("callbacks"));
        if (callbacks.size() > 1) {
            List<Signature> plain = new ArrayList<>();
            for (Signature cb : callbacks) {
                if (cb.kind() == Signature.Kind.GROUP) { // groups are applied on their own
                    dispatch.apply(plan, cb, withValue, null, from);
                } else {
                    plain.add(cb);
                }
            }
            if (!plain.isEmpty()) {
                dispatch.apply(plan, Canvas.group(plain), withValue, null, from);
            }
        } else if (callbacks.size() == 1) {
            dispatch.apply(plan, callbacks.get(0), withValue, null, from);
        }
        JsonNode chain = m.embedded("chain");
        if (chain != null && chain.isArray() && !chain.isEmpty()) {
            ArrayNode rest = ((ArrayNode) chain).deepCopy();
            JsonNode next = rest.remove(rest.size() - 1);
            ObjectNode opts = from.deepCopy();
            opts.set("chain", rest);
            dispatch.apply(plan, Signature.fromJson(next), withValue, null, opts);
        }
        List<ChordPart> parts = new ArrayList<>();
        chordPart(m, TaskState.SUCCESS, value, parent).ifPresent(parts::add);
        ArrayNode children = Json.NODES.arrayNode();
        plan.trail().forEach(r -> children.add(r.asTuple()));
        return new After(plan.effects(), parts, children);
    }

    /** Celery's {@code mark_as_failure}: the chain's later steps fail too, chord parts, then the errbacks. */
    public After failed(TaskMessage m, ExceptionInfo exc) {
        return ended(m, TaskState.FAILURE, TaskResult.failure(m.id(), exc, clock.instant()).result(), exc, true);
    }

    /** Celery's {@code mark_as_revoked}: the chord part (the body fails); Celeriac also revokes the chain's later steps. */
    public After revoked(TaskMessage m, TaskResult revoked) {
        return ended(m, TaskState.REVOKED, revoked.result(), revoked.exception(), false);
    }

    private After ended(TaskMessage m, TaskState state, JsonNode encoded, ExceptionInfo exc, boolean errbacks) {
        if (!hasCanvas(m)) {
            return After.NONE;
        }
        Dispatch.Parent parent = parentOf(m);
        List<TaskResult> results = new ArrayList<>();
        List<ChordPart> parts = new ArrayList<>();
        chordPart(m, state, encoded, parent).ifPresent(parts::add);
        JsonNode chain = m.embedded("chain");
        if (chain != null && chain.isArray()) {
            for (JsonNode elem : chain) {
                JsonNode opts = elem.path("options");
                String id = opts.path("task_id").asText(null);
                if (id != null) {
                    TaskResult r = new TaskResult(id, state, encoded, exc.traceback(), clock.instant(), null);
                    if (opts.hasNonNull("group_id")) {
                        r = r.withExtra("group_id", opts.get("group_id"));
                    }
                    if (opts.hasNonNull("parent_id")) {
                        r = r.withExtra("parent_id", opts.get("parent_id"));
                    }
                    results.add(r);
                }
                if (opts.hasNonNull("chord") && opts.hasNonNull("group_id") && id != null) {
                    Integer index = opts.path("group_index").canConvertToInt() ? opts.get("group_index").intValue() : null;
                    parts.add(new ChordPart(opts.get("group_id").asText(), index, id, state, encoded,
                            new ChordCallback(dispatch, opts.get("chord"), parent, clock)));
                }
            }
        }
        Dispatch.Plan plan = new Dispatch.Plan(parent);
        List<Signature> ebs = errbacks ? Signature.readAll(m.embedded("errbacks")) : List.of();
        if (!ebs.isEmpty()) {
            // Celery calls an errback taking (request, exc, traceback) in its own process and sends the
            // others as tasks with the failed task's id; a Java worker cannot call Python, so every
            // errback is sent, as Celery's worker sends an errback it does not have itself.
            ArrayNode args = Json.NODES.arrayNode();
            args.add(m.id());
            ObjectNode from = Json.NODES.objectNode();
            from.put("parent_id", m.id());
            from.put("root_id", parent.rootId());
            dispatch.apply(plan, Canvas.group(ebs), args, null, from);
        }
        return new After(new Effects(results, plan.publications(), plan.chordSizes()), parts, null);
    }

    private java.util.Optional<ChordPart> chordPart(TaskMessage m, TaskState state, JsonNode encoded, Dispatch.Parent parent) {
        JsonNode chord = m.embedded("chord");
        if (chord == null || m.group() == null) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(new ChordPart(m.group(), m.groupIndex(), m.id(), state, encoded == null
                ? Json.NODES.nullNode() : encoded, new ChordCallback(dispatch, chord, parent, clock)));
    }

    private static boolean hasCanvas(TaskMessage m) {
        for (String part : List.of("callbacks", "errbacks", "chain", "chord")) {
            JsonNode n = m.embedded(part);
            if (n != null && !(n.isArray() && n.isEmpty())) {
                return true;
            }
        }
        return false;
    }
}
