package io.celeriac.spi;

import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A daemon thread that reads one queue of a broker until interrupted: reserves a batch, hands each
 * message to {@code handle}, acks the batch; a broker error is logged at debug and retried after a
 * pause. What the control channel's mailboxes and the event listeners' queues are read with.
 */
final class QueueReader {
    private static final Logger log = LoggerFactory.getLogger("celeriac.control");

    private QueueReader() {
    }

    /** Starts reading; {@code beforeEachBatch} runs before every reservation (e.g. a keep-alive). */
    static Thread start(Broker broker, String queue, String threadName, Runnable beforeEachBatch, Consumer<Delivery> handle) {
        Thread t = new Thread(() -> {
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    beforeEachBatch.run();
                    List<Delivery> got = broker.reserve(List.of(queue), 100, Duration.ofMillis(250));
                    for (Delivery d : got) {
                        handle.accept(d);
                    }
                    broker.ack(got);
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    log.debug("{}: {}", queue, e.getMessage());
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException ie) {
                        return;
                    }
                }
            }
        }, threadName);
        t.setDaemon(true);
        t.start();
        return t;
    }
}
