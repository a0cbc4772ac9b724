package io.celeriac.beat;

import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs a {@link Beat} until stopped: tick, wait as long as the tick says, again. */
public final class BeatService {
    private static final Logger log = LoggerFactory.getLogger("celeriac.beat");
    private final Beat beat;
    private final Object wake = new Object();
    private volatile boolean running = true;

    public BeatService(Beat beat) {
        this.beat = beat;
    }

    /** Runs on the calling thread until {@link #stop()}; then releases the leader lock. */
    public void run() {
        try {
            while (running) {
                Duration d = beat.tick();
                synchronized (wake) {
                    if (running) {
                        wake.wait(Math.max(1, d.toMillis()));
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            beat.stop();
            log.info("beat stopped");
        }
    }

    public void stop() {
        running = false;
        synchronized (wake) {
            wake.notifyAll();
        }
    }
}
