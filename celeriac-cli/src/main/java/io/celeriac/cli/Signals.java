package io.celeriac.cli;

import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;

/**
 * SIGTERM and SIGINT handling for long-running commands: the first signal asks for a warm stop,
 * the second for a cold one, and a process still alive {@link #COLD_GRACE} ms after the cold stop (a
 * task that ignores interruption), or that gets a third signal, halts at once: by then its
 * messages have been given back. Handled with {@code sun.misc.Signal} (not a shutdown hook) so
 * that the process decides its own exit code: 0 after a warm shutdown, as supervisors expect.
 */
final class Signals {
    private static final Logger log = LoggerFactory.getLogger("celeriac");

    /** How long a cold shutdown waits for interrupted tasks before the process halts. */
    static final long COLD_GRACE = 10_000;

    private Signals() {
    }

    static void onTermination(Runnable warm, Runnable cold) {
        onTermination("warm shutdown", "cold shutdown", warm, cold);
    }

    /** As {@link #onTermination(Runnable, Runnable)}, with the words the log uses for the two stops. */
    static void onTermination(String first, String second, Runnable warm, Runnable cold) {
        AtomicInteger count = new AtomicInteger();
        for (String name : new String[] {"TERM", "INT"}) {
            try {
                Signal.handle(new Signal(name), sig -> {
                    int n = count.incrementAndGet();
                    if (n >= 3) {
                        log.warn("SIG{} received ({}): exiting now", sig.getName(), n);
                        Runtime.getRuntime().halt(Main.FAILED);
                    }
                    log.warn("SIG{} received ({}): {}", sig.getName(), n, n == 1 ? first : second);
                    Thread t = new Thread(n == 1 ? warm : () -> {
                        cold.run();
                        sleepThenHalt(COLD_GRACE);
                    }, "celeriac-signal");
                    t.setDaemon(true);
                    t.start();
                });
            } catch (IllegalArgumentException e) {
                log.debug("signal {} cannot be handled here: {}", name, e.getMessage());
            }
        }
    }

    private static void sleepThenHalt(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            return;
        }
        log.warn("cold shutdown: tasks still running after {} ms (they ignore interruption); exiting now", ms);
        Runtime.getRuntime().halt(Main.FAILED);
    }
}
