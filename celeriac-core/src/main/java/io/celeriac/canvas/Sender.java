package io.celeriac.canvas;

import static io.celeriac.canvas.SigJson.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.TaskOptions;
import io.celeriac.config.Durations;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Publication;
import java.time.Clock;
import java.time.Instant;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Applies signatures as Celery 5.2's {@code apply_async} does — task, chain, group, chord, chunks,
 * map, starmap — without sending anything: the messages and chord sizes go into a {@link Plan},
 * which the caller commits (a client publishes it; a worker commits it with the result and ack of
 * the task that caused it). The rules follow Celery's {@code canvas.py} ({@code prepare_steps},
 * {@code _freeze_group_tasks}, {@code chord.run}, …) so the messages are the ones a Python client
 * or worker would send, and a Python worker can carry on any workflow a Celeriac one started.
 *
 * <p>Signatures are worked on as mutable JSON copies, because Celery's freezing (giving every step
 * its task id, group id and chord before anything is sent) mutates them as it goes.
 */
/** Celery's {@code app.send_task}: one protocol-2 message from a task name, arguments and Celery's options, into a plan. */
final class Sender {
    private final Function<String, TaskOptions> taskOptions;
    private final Function<String, String> defaultQueue;
    private final Clock clock;
    private final Supplier<String> ids;
    private final boolean etaOnQueue;

    Sender(Function<String, TaskOptions> taskOptions, Function<String, String> defaultQueue, Clock clock, Supplier<String> ids, boolean etaOnQueue) {
        this.taskOptions = taskOptions;
        this.defaultQueue = defaultQueue;
        this.clock = clock;
        this.ids = ids;
        this.etaOnQueue = etaOnQueue;
    }

    /** {@code app.send_task}: one protocol-2 message from a task name, arguments and Celery's options. */
    Ref send(Dispatch.Plan p, String name, ArrayNode args, ObjectNode kwargs, ObjectNode o, boolean trail) {
        TaskOptions defaults = taskOptions.apply(name);
        String id = text(o.get("task_id"));
        if (id == null) {
            id = ids.get();
        }
        String rootId = text(o.get("root_id"));
        String parentId = text(o.get("parent_id"));
        if (p.parent != null) {
            if (rootId == null) {
                rootId = p.parent.rootId() != null ? p.parent.rootId() : p.parent.id();
            }
            if (parentId == null) {
                parentId = p.parent.id();
            }
        }
        String queue = text(o.get("queue"));
        if (queue == null) {
            queue = text(o.get("routing_key"));
        }
        if (queue == null && defaults != null) {
            queue = defaults.queue();
        }
        if (queue == null) {
            queue = defaultQueue.apply(name); // task_routes, else task_default_queue
        }
        Integer priority = o.path("priority").canConvertToInt() ? o.get("priority").intValue() : null;
        if (priority == null && defaults != null) {
            priority = defaults.priority();
        }
        Instant now = clock.instant();
        Instant eta = null;
        JsonNode countdown = o.get("countdown");
        if (countdown != null && countdown.isNumber() && countdown.doubleValue() > 0) {
            eta = now.plus(Durations.ofSeconds(countdown.doubleValue()));
        } else if (o.hasNonNull("eta")) {
            eta = CeleryTime.parse(o.get("eta").asText());
        }
        Instant expires = null;
        JsonNode exp = o.get("expires");
        if (exp != null && exp.isNumber()) {
            expires = now.plus(Durations.ofSeconds(exp.doubleValue()));
        } else if (exp != null && exp.isTextual()) {
            expires = CeleryTime.parse(exp.asText());
        }
        boolean ignore = o.hasNonNull("ignore_result") ? o.get("ignore_result").asBoolean()
                : defaults != null && defaults.ignoreResult();
        TaskMessage.Builder b = TaskMessage.builder(name).id(id).args(args).kwargs(kwargs).queue(queue)
                .priority(priority == null ? 0 : priority).eta(eta).expires(expires).ignoreResult(ignore)
                .rootId(rootId).parentId(parentId).group(text(o.get("group_id")))
                .groupIndex(o.path("group_index").canConvertToInt() ? o.get("group_index").intValue() : null)
                .retries(o.path("retries").asInt(0))
                .shadow(text(o.get("shadow")))
                .replyTo(text(o.get("reply_to")))
                .embed(list(nullToNone(o.get("link"))), list(nullToNone(o.get("link_error"))), nullToNone(o.get("chain")),
                        nullToNone(o.get("chord")));
        JsonNode hard = o.get("time_limit");
        JsonNode soft = o.get("soft_time_limit");
        if ((hard != null && hard.isNumber()) || (soft != null && soft.isNumber())) {
            b.timeLimit(hard != null && hard.isNumber() ? hard.doubleValue() : null, soft != null && soft.isNumber() ? soft.doubleValue() : null);
        }
        JsonNode headers = o.get("headers");
        if (headers != null && headers.isObject()) {
            headers.properties().forEach(e -> b.header(e.getKey(), e.getValue()));
        }
        TaskMessage m = b.build();
        p.messages.add(m);
        p.publications.add(new Publication(queue, toBroker(m)));
        Ref ref = Ref.task(id);
        if (trail) {
            p.trail.add(ref);
        }
        return ref;
    }

    /** The one conversion from a task message to what a broker stores. */
    public BrokerMessage toBroker(TaskMessage m) {
        Instant eta = etaOnQueue ? null : m.eta().orElse(null);
        return new BrokerMessage(m.id(), MessageCodec.encode(m), Math.max(0, Math.min(9, m.priority())), eta);
    }
}
