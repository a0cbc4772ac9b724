package io.celeriac.worker;

import io.celeriac.BrokerException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a broker operation until it succeeds: a result or an ack must not be dropped because the
 * broker blinked. The outage is logged once (see {@link BrokerOutage}), with its end.
 * Gives up only when {@code giveUp} turns true (a cold shutdown), leaving the message to be
 * delivered again.
 */
final class Persistently {
    private static final Logger log = LoggerFactory.getLogger(Persistently.class);

    private Persistently() {
    }

    static boolean run(String what, Runnable op, BooleanSupplier giveUp, BrokerOutage outage) {
        long delay = 100;
        Object part = new Object(); // this call: the outage lasts until it succeeds
        while (true) {
            try {
                op.run();
                outage.ok(part);
                return true;
            } catch (BrokerException e) {
                if (!e.recoverable() || giveUp.getAsBoolean()) {
                    outage.forget(part);
                    log.error("{}: {}", what, e.getMessage());
                    return false;
                }
                outage.failed(part, what, e);
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    outage.forget(part);
                    Thread.currentThread().interrupt();
                    return false;
                }
                delay = Math.min(delay * 2, 2_000);
            }
        }
    }
}
