package io.celeriac.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/**
 * The broadcast control channel (Celery's pidbox): requests to every worker or to named ones, and
 * their replies. {@link Broker#control(Coordination)} gives each broker's: the default sends through one
 * mailbox queue per worker ({@link MailboxControl}); Redis speaks Celery's own pidbox, so that
 * Python's {@code celery inspect} and Celeriac's {@code inspect} see each other's workers.
 */
public interface ControlChannel {

    /**
     * Sends {@code method} with {@code arguments} to the workers in {@code destination} (null or
     * empty: every worker) and collects replies by node name until {@code timeout}, or until every
     * node in {@code expect} has answered (empty: wait the whole timeout).
     */
    Map<String, JsonNode> call(String method, ObjectNode arguments, List<String> destination, List<String> expect,
                               Duration timeout) throws InterruptedException;

    /**
     * Sends {@code method} to the workers in {@code destination} (null or empty: every worker) and
     * returns at once, asking for no reply (Celery's {@code broadcast(..., reply=False)}, as its
     * {@code revoke} does).
     */
    void cast(String method, ObjectNode arguments, List<String> destination);

    /**
     * Starts answering requests addressed to {@code node}: {@code handler} gets the method and its
     * arguments and returns the reply (Celery's shape, e.g. {@code {"ok": "pong"}}). Closing the
     * result stops it.
     */
    AutoCloseable serve(String node, BiFunction<String, JsonNode, JsonNode> handler);
}
