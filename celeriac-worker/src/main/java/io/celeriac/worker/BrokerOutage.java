package io.celeriac.worker;

import io.celeriac.BrokerException;
import io.celeriac.spi.Broker;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One broker's reachability as the parts of a worker see it (consumer, heartbeat, result writer,
 * revocations, control mailbox). An outage is logged once when the first part meets it and once
 * when it is over, however many parts retry meanwhile; each part keeps retrying with back-off on
 * its own.
 *
 * <p>It is over when no part that met it still fails: the parts are tracked, so that one that
 * works again (a small heartbeat on a nearly full disk) does not end an outage another still meets
 * (a big result that does not fit), which would log a new outage at its next retry, every couple
 * of seconds, for as long as the disk stays full.
 */
final class BrokerOutage {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");
    private static final Map<String, BrokerOutage> BY_BROKER = new ConcurrentHashMap<>();

    private final String broker;
    private final AtomicLong downSince = new AtomicLong();
    private final Set<Object> failing = ConcurrentHashMap.newKeySet();

    private BrokerOutage(String broker) {
        this.broker = broker;
    }

    static BrokerOutage of(Broker broker) {
        return BY_BROKER.computeIfAbsent(broker.describe(), BrokerOutage::new);
    }

    /** A call of the part named {@code what} failed (see {@link #failed(Object, String, Throwable)}). */
    void failed(String what, Throwable e) {
        failed(what, what, e);
    }

    /**
     * A call of {@code part} failed. A recoverable failure (the broker unreachable, its disk full)
     * is logged once per outage, and the outage lasts until {@code part} succeeds ({@link #ok(Object)});
     * any other is logged each time, prefixed with {@code what}. A null part is a call that may not
     * be retried soon (a read made when a task starts): it starts an outage, and does not hold it open.
     */
    void failed(Object part, String what, Throwable e) {
        if (e instanceof BrokerException be && be.recoverable()) {
            synchronized (this) {
                if (part != null) {
                    failing.add(part);
                }
                if (downSince.compareAndSet(0, System.currentTimeMillis())) {
                    log.warn("{}; retrying with back-off, keeping the tasks this worker holds", be.getMessage());
                    return;
                }
            }
            log.debug("{}: {}", what, be.getMessage());
        } else {
            log.warn("{}: {}", what, e.getMessage() == null ? e.toString() : e.getMessage());
        }
    }

    /** A call of {@code part} succeeded: ends the outage, if there was one and no other part still meets it. */
    void ok(Object part) {
        if (downSince.get() == 0) {
            return;
        }
        synchronized (this) {
            failing.remove(part);
            if (!failing.isEmpty()) {
                return;
            }
            long since = downSince.getAndSet(0);
            if (since != 0) {
                log.warn("broker {} reachable again after {} s; carrying on", broker,
                        String.format("%.1f", (System.currentTimeMillis() - since) / 1000.0));
            }
        }
    }

    /** {@code part} gave up (a cold shutdown): it no longer holds the outage open. */
    void forget(Object part) {
        synchronized (this) {
            failing.remove(part);
        }
    }

    boolean down() {
        return downSince.get() != 0;
    }
}
