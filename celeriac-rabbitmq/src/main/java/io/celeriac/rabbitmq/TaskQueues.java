package io.celeriac.rabbitmq;

import com.rabbitmq.client.AMQP;
import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Task queues declared as Celery declares them: a durable queue, not auto-delete, with no
 * arguments unless configured ({@code task_queue_max_priority} → {@code x-max-priority},
 * {@code task_default_queue_type: quorum} → {@code x-queue-type}), and a durable direct exchange of
 * its name bound to it by its name. A queue that exists with other arguments (declared by a
 * differently configured app) is used as it is, with one warning: RabbitMQ refuses (406) any
 * declaration that differs, and Celery would fail there.
 */
final class TaskQueues {
    private static final Logger log = LoggerFactory.getLogger("celeriac.broker");
    private static final int NOT_FOUND = 404;
    private static final int PRECONDITION_FAILED = 406;

    private final RabbitConnection conn;
    private final Map<String, Object> arguments;
    private final Set<String> declared = ConcurrentHashMap.newKeySet();

    TaskQueues(RabbitConnection conn, Config config) {
        this.conn = conn;
        Map<String, Object> args = new LinkedHashMap<>();
        int maxPriority = config.get(Settings.TASK_QUEUE_MAX_PRIORITY);
        boolean quorum = "quorum".equals(config.get(Settings.TASK_DEFAULT_QUEUE_TYPE));
        if (maxPriority > 0 && quorum) {
            throw new ConfigException("task_queue_max_priority and task_default_queue_type: quorum cannot go together:"
                    + " RabbitMQ's quorum queues have no priorities");
        }
        if (maxPriority > 0) {
            args.put("x-max-priority", maxPriority);
        }
        if (quorum) {
            args.put("x-queue-type", "quorum");
        }
        this.arguments = Map.copyOf(args);
        conn.onRecovery(declared::clear);
    }

    /** Declares {@code queue} (once per connection) as Celery does. */
    void declare(String queue) {
        if (declared.contains(queue)) {
            return;
        }
        int ex = conn.declare("declare exchange '" + queue + "'", ch -> ch.exchangeDeclare(queue, "direct", true));
        if (ex == PRECONDITION_FAILED) {
            log.warn("exchange '{}' exists as another type; publishing to the queue directly", queue);
        }
        int q = conn.declareQueue(queue, true, false, arguments);
        if (q == PRECONDITION_FAILED) {
            log.warn("queue '{}' exists with other arguments than {}; using it as it is", queue, arguments);
        } else if (q != 0) {
            throw new io.celeriac.BrokerException("RabbitMQ refused to declare queue '" + queue + "' (" + q + ")", false, null);
        }
        if (ex == 0) {
            conn.declare("bind queue '" + queue + "'", ch -> ch.queueBind(queue, queue, queue));
        }
        declared.add(queue);
    }

    /** Messages ready on {@code queue} (0 when it does not exist), without declaring it. */
    long ready(String queue) {
        AtomicLong n = new AtomicLong();
        int code = conn.declare("look at queue '" + queue + "'", ch -> {
            AMQP.Queue.DeclareOk ok = ch.queueDeclarePassive(queue);
            n.set(ok.getMessageCount());
            return ok;
        });
        return code == NOT_FOUND ? 0 : n.get();
    }

    /** Deletes the messages ready on {@code queue}; how many (0 when it does not exist). */
    long purge(String queue) {
        AtomicLong n = new AtomicLong();
        int code = conn.declare("purge queue '" + queue + "'", ch -> {
            AMQP.Queue.PurgeOk ok = ch.queuePurge(queue);
            n.set(ok.getMessageCount());
            return ok;
        });
        return code == NOT_FOUND ? 0 : n.get();
    }
}
