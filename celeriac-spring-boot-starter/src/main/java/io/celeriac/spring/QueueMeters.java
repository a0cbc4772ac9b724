package io.celeriac.spring;

import io.celeriac.Celeriac;
import io.celeriac.config.Settings;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code celeriac.queue.length} (tag {@code queue}) on the application's registry, named as in the
 * fleet's {@code /metrics}: the messages waiting in the default queue, the queues the embedded
 * worker consumes ({@code worker_queues}) and the dead-letter queue, read from the broker when
 * scraped (NaN while it does not answer).
 */
final class QueueMeters {
    private static final Logger log = LoggerFactory.getLogger("celeriac.spring");

    private QueueMeters() {
    }

    static void bind(Celeriac app, MeterRegistry registry) {
        TreeSet<String> queues = new TreeSet<>(app.config().get(Settings.WORKER_QUEUES));
        queues.add(app.config().get(Settings.TASK_DEFAULT_QUEUE));
        queues.add(app.config().get(Settings.TASK_DEAD_LETTER_QUEUE));
        for (String q : queues) {
            Gauge.builder("celeriac.queue.length", app, a -> length(a, q)).tag("queue", q)
                    .description("Messages waiting in the queue (ready to be reserved).").register(registry);
        }
    }

    private static double length(Celeriac app, String queue) {
        try {
            return app.broker().size(queue);
        } catch (RuntimeException e) {
            log.debug("metrics: could not read the length of queue {}: {}", queue, e.getMessage());
            return Double.NaN;
        }
    }
}
