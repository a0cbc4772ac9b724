package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import java.time.Instant;

/** What {@code inspect active|reserved} say of one task request, in Celery's shape. */
final class Inspection {
    private Inspection() {
    }

    static ObjectNode request(TaskMessage m, String queue, String hostname, boolean redelivered) {
        ObjectNode o = Json.NODES.objectNode();
        o.put("id", m.id());
        o.put("name", m.task());
        o.set("args", m.args().deepCopy());
        o.set("kwargs", m.kwargs().deepCopy());
        o.put("type", m.task());
        o.put("hostname", hostname);
        m.eta().ifPresent(eta -> o.put("eta", CeleryTime.format(eta)));
        ObjectNode di = o.putObject("delivery_info");
        di.put("exchange", "");
        di.put("routing_key", queue);
        di.put("priority", m.priority());
        di.put("redelivered", redelivered);
        return o;
    }

    /** A running task: its request plus when it started (epoch seconds, as Celery) and the pid running it. */
    static ObjectNode running(RequestContext ctx, String queue, String hostname, long pid) {
        ObjectNode o = request(ctx.message(), queue, hostname, false);
        Instant started = ctx.startedAt();
        if (started != null) {
            o.put("time_start", started.toEpochMilli() / 1000.0);
        }
        o.put("acknowledged", false);
        o.put("worker_pid", pid);
        return o;
    }

    static ArrayNode array() {
        return Json.NODES.arrayNode();
    }
}
