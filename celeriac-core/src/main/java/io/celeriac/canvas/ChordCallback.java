package io.celeriac.canvas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Canvas;
import io.celeriac.Signature;
import io.celeriac.protocol.ExceptionInfo;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskResult;
import io.celeriac.spi.ChordBody;
import io.celeriac.spi.Effects;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * A chord body as a header task's message carries it ({@code embed.chord}), and what its chord's
 * completion causes, as Celery's Redis backend does it: the body applied with the header's results
 * ({@code callback.delay(results)}, sent from the task that completed the header), or, when a header
 * task failed, the body stored as FAILURE {@code ChordError} and its errbacks applied with its id.
 * Celeriac also fails the rest of a chain that is the body, so that no result waits for ever.
 */
public final class ChordCallback implements ChordBody {
    private final Dispatch dispatch;
    private final JsonNode body;
    private final Dispatch.Parent parent;
    private final Clock clock;

    public ChordCallback(Dispatch dispatch, JsonNode body, Dispatch.Parent parent, Clock clock) {
        this.dispatch = dispatch;
        this.body = body;
        this.parent = parent;
        this.clock = clock;
    }

    @Override
    public String bodyId() {
        Signature s = Signature.fromJson(body);
        if (s.kind() == Signature.Kind.CHAIN) {
            List<Signature> steps = s.tasks();
            return steps.isEmpty() ? null : steps.get(steps.size() - 1).id();
        }
        return s.id();
    }

    @Override
    public Effects complete(JsonNode results) {
        Dispatch.Plan plan = new Dispatch.Plan(parent);
        ArrayNode args = Json.NODES.arrayNode();
        args.add(results);
        dispatch.apply(plan, Signature.fromJson(body), args, Json.NODES.objectNode(), Json.NODES.objectNode());
        return plan.effects();
    }

    @Override
    public Effects failed(String reason) {
        Signature s = Signature.fromJson(body);
        String id = s.kind() == Signature.Kind.CHAIN ? firstId(s) : s.id();
        Dispatch.Plan plan = new Dispatch.Plan(null);
        List<Signature> errbacks = Signature.readAll(s.kind() == Signature.Kind.CHAIN && !s.tasks().isEmpty()
                ? s.tasks().get(0).option("link_error") : s.option("link_error"));
        if (!errbacks.isEmpty() && id != null) {
            ArrayNode args = Json.NODES.arrayNode();
            args.add(id);
            ObjectNode opts = Json.NODES.objectNode();
            opts.put("parent_id", id);
            opts.put("root_id", id);
            dispatch.apply(plan, Canvas.group(errbacks), args, Json.NODES.objectNode(), opts);
        }
        ExceptionInfo exc = ExceptionInfo.of("ChordError", "celery.exceptions", reason);
        List<TaskResult> results = new ArrayList<>();
        for (String failed : failIds(s)) {
            TaskResult r = TaskResult.failure(failed, exc, clock.instant());
            if (failed.equals(id) && !plan.trail().isEmpty()) {
                ArrayNode children = Json.NODES.arrayNode();
                plan.trail().forEach(t -> children.add(t.asTuple()));
                r = r.withExtra("children", children);
            }
            results.add(r);
        }
        return new Effects(results, plan.publications(), plan.chordSizes());
    }

    private static String firstId(Signature chain) {
        List<Signature> steps = chain.tasks();
        return steps.isEmpty() ? null : steps.get(0).id();
    }

    /** The body's id, and for a chain body every step's, so the chain's own result fails too. */
    private static List<String> failIds(Signature s) {
        List<String> ids = new ArrayList<>();
        if (s.kind() == Signature.Kind.CHAIN) {
            s.tasks().forEach(t -> ids.addAll(failIds(t)));
        } else if (s.id() != null) {
            ids.add(s.id());
        }
        return ids;
    }
}
