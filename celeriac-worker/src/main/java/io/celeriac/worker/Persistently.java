package io.celeriac.worker;

import io.celeriac.BrokerException;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a broker operation until it succeeds: a result or an ack must not be dropped because the
 * broker blinked. Logs the first failure and then at most every 30 s, and says when it recovered.
 * Gives up only when {@code giveUp} turns true (a cold shutdown), leaving the message to be
 * delivered again.
 */
final class Persistently {
    private static final Logger log = LoggerFactory.getLogger(Persistently.class);

    private Persistently() {
    }

    static boolean run(String what, Runnable op, BooleanSupplier giveUp) {
        long delay = 100;
        long lastLog = 0;
        boolean failedOnce = false;
        while (true) {
            try {
                op.run();
                if (failedOnce) {
                    log.warn("{}: succeeded after retrying", what);
                }
                return true;
            } catch (BrokerException e) {
                if (!e.recoverable() || giveUp.getAsBoolean()) {
                    log.error("{}: {}", what, e.getMessage());
                    return false;
                }
                long now = System.currentTimeMillis();
                if (now - lastLog >= 30_000) {
                    log.warn("{}: {}; retrying", what, e.getMessage());
                    lastLog = now;
                }
                failedOnce = true;
                try {
                    Thread.sleep(delay);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                delay = Math.min(delay * 2, 5_000);
            }
        }
    }
}
