package io.celeriac.testkit;

import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Timeout;

/**
 * What the three contracts ({@link BrokerConformanceTest}, {@link CoordinationConformanceTest},
 * {@link ResultStoreConformanceTest}) share: a fresh queue name per test, the instances a test
 * opened (closed after it), and small helpers. {@link ConformanceKit} runs all three.
 */
@Tag("integration")
@Timeout(value = 60, unit = TimeUnit.SECONDS)
public abstract class ConformanceSupport {
    /** A lease no test outlives. */
    protected static final Duration LONG_LEASE = Duration.ofMinutes(5);
    private final List<AutoCloseable> opened = Collections.synchronizedList(new ArrayList<>());
    /** This test's own queue. */
    protected final String queue = "q-" + UUID.randomUUID();

    /** A subclass of another package makes the instances. */
    protected ConformanceSupport() {
    }

    /**
     * A new consumer identity on the shared store, whose leases last {@code lease}. Two calls give
     * two consumers that compete for the same queues.
     *
     * @param lease how long a reservation holds a message
     * @return an open broker
     */
    protected abstract Broker openBroker(Duration lease);

    /**
     * Closes {@code c} after the test.
     *
     * @param c what was opened
     * @param <T> its type
     * @return {@code c}
     */
    protected <T extends AutoCloseable> T track(T c) {
        opened.add(c);
        return c;
    }

    /**
     * @param lease how long a reservation holds a message
     * @return a broker closed after the test
     */
    protected Broker broker(Duration lease) {
        return track(openBroker(lease));
    }

    /** @return a broker with a long lease, closed after the test */
    protected Broker broker() {
        return broker(LONG_LEASE);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : opened) {
            c.close();
        }
    }

    /**
     * @param payload the payload, also the task id
     * @return a message of priority 0 with no ETA
     */
    protected static BrokerMessage msg(String payload) {
        return new BrokerMessage(payload, payload, 0, null);
    }

    /**
     * @param payload  the payload, also the task id
     * @param priority its priority
     * @return a message with no ETA
     */
    protected static BrokerMessage msg(String payload, int priority) {
        return new BrokerMessage(payload, payload, priority, null);
    }

    /**
     * @param ds deliveries
     * @return their payloads in order
     */
    protected static List<String> payloads(List<Delivery> ds) {
        return ds.stream().map(Delivery::payload).toList();
    }

    /**
     * Reserves and acks everything ready on {@code queue}.
     *
     * @param b     the consumer
     * @param queue the queue
     * @param batch how many to reserve at a time
     * @return the payloads in delivery order
     * @throws InterruptedException interrupted while reserving
     */
    protected static List<String> drain(Broker b, String queue, int batch) throws InterruptedException {
        List<String> out = new ArrayList<>();
        while (true) {
            List<Delivery> ds = b.reserve(List.of(queue), batch, Duration.ZERO);
            if (ds.isEmpty()) {
                return out;
            }
            out.addAll(payloads(ds));
            b.ack(ds);
        }
    }
}
