package io.celeriac.worker;

import io.celeriac.BrokerException;
import io.celeriac.spi.Broker;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's reachability as the parts of a worker see it (consumer, heartbeat, result writer,
 * revocations, control mailbox). An outage is logged once when the first part meets it and once
 * when a call succeeds again, however many parts retry meanwhile; each part keeps retrying with
 * back-off on its own.
 */
final class BrokerOutage {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");
    private static final Map<String, BrokerOutage> BY_BROKER = new ConcurrentHashMap<>();

    private final String broker;
    private final AtomicLong downSince = new AtomicLong();

    private BrokerOutage(String broker) {
        this.broker = broker;
    }

    static BrokerOutage of(Broker broker) {
        return BY_BROKER.computeIfAbsent(broker.describe(), BrokerOutage::new);
    }

    /**
     * A call failed. A recoverable failure (the broker unreachable) is logged once per outage; any
     * other is logged each time, prefixed with {@code what}.
     */
    void failed(String what, Throwable e) {
        if (e instanceof BrokerException be && be.recoverable()) {
            if (downSince.compareAndSet(0, System.currentTimeMillis())) {
                log.warn("{}; retrying with back-off, keeping the tasks this worker holds", be.getMessage());
            } else {
                log.debug("{}: {}", what, be.getMessage());
            }
        } else {
            log.warn("{}: {}", what, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** A call succeeded: ends an outage, if there was one. */
    void ok() {
        if (downSince.get() == 0) {
            return;
        }
        long since = downSince.getAndSet(0);
        if (since != 0) {
            log.warn("broker {} reachable again after {} s; carrying on", broker,
                    String.format("%.1f", (System.currentTimeMillis() - since) / 1000.0));
        }
    }

    boolean down() {
        return downSince.get() != 0;
    }
}
