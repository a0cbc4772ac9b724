package io.celeriac.worker;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.protocol.Json;
import io.celeriac.spi.ControlChannel;
import java.util.Map;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The worker's end of the broker's control channel ({@link io.celeriac.spi.Broker#control}): answers the
 * requests addressed to this node with the methods the worker hands it ({@code ping} →
 * {@code {"ok": "pong"}}, {@code stats}, {@code active}, {@code reserved}, {@code registered},
 * {@code revoked}, {@code conf}), in Celery's reply shapes. An unknown method gets what Celery 5.2's
 * worker answers, {@code {"error": "KeyError('name')"}}.
 */
final class ControlServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");

    private final ControlChannel channel;
    private final String node;
    private final Map<String, Function<JsonNode, JsonNode>> methods;
    private AutoCloseable serving;

    ControlServer(ControlChannel channel, String node, Map<String, Function<JsonNode, JsonNode>> methods) {
        this.channel = channel;
        this.node = node;
        this.methods = methods;
    }

    void start() {
        serving = channel.serve(node, this::handle);
    }

    JsonNode handle(String method, JsonNode arguments) {
        Function<JsonNode, JsonNode> m = methods.get(method);
        if (m == null) {
            return Json.NODES.objectNode().put("error", "KeyError('" + method + "')"); // what a Celery 5.2 worker says
        }
        try {
            return m.apply(arguments == null ? Json.NODES.objectNode() : arguments);
        } catch (IllegalArgumentException e) { // bad arguments: the asker's mistake, said plainly
            return Json.NODES.objectNode().put("error", e.getMessage());
        } catch (RuntimeException e) {
            log.warn("control: {} failed: {}", method, e.toString());
            return Json.NODES.objectNode().put("error", e.toString());
        }
    }

    @Override
    public void close() {
        if (serving != null) {
            try {
                serving.close();
            } catch (Exception e) {
                log.debug("control: {}", e.toString());
            }
        }
    }
}
