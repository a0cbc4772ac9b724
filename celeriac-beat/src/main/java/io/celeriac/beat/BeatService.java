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
    private final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);

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

    /** {@link #run()} on a daemon thread of its own (beat inside a worker: {@code worker -B}). */
    public void start() {
        Thread t = new Thread(() -> {
            try {
                run();
            } finally {
                stopped.countDown();
            }
        }, "celeriac-beat");
        t.setDaemon(true);
        t.start();
    }

    /** After {@link #stop()}: waits until a {@link #start() started} service has released its lock; false on time-out. */
    public boolean awaitStop(Duration timeout) throws InterruptedException {
        return stopped.await(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    public void stop() {
        running = false;
        synchronized (wake) {
            wake.notifyAll();
        }
    }
}
