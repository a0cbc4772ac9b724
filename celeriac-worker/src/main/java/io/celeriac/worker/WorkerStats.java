package io.celeriac.worker;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Counters a worker keeps about itself; read by heartbeats and {@link Worker#stats()}. Fed by
 * {@link #observer}, told of every message's fate like any other {@link TaskObserver}.
 */
public final class WorkerStats {
    final AtomicLong received = new AtomicLong();
    final AtomicLong succeeded = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong retried = new AtomicLong();
    final AtomicLong revoked = new AtomicLong();
    final AtomicLong deadLettered = new AtomicLong();
    final AtomicInteger active = new AtomicInteger();
    /** Tasks started, per task name (Celery's stats "total"). */
    final java.util.concurrent.ConcurrentHashMap<String, AtomicLong> total = new java.util.concurrent.ConcurrentHashMap<>();
    volatile long lastPollMillis;
    volatile long lastTaskDoneMillis;

    /** Keeps these counters. */
    final TaskObserver observer = new TaskObserver() {
        @Override
        public void received(io.celeriac.spi.Delivery delivery, io.celeriac.protocol.TaskMessage message, java.time.Instant at) {
            received.incrementAndGet();
        }

        @Override
        public void started(io.celeriac.protocol.TaskMessage message, String queue, java.time.Instant at) {
            active.incrementAndGet();
            total.computeIfAbsent(message.task(), n -> new AtomicLong()).incrementAndGet();
        }

        @Override
        public void finished(Finished f) {
            switch (f.fate()) {
                case SUCCESS -> succeeded.incrementAndGet();
                case FAILURE -> failed.incrementAndGet();
                case RETRY -> retried.incrementAndGet();
                case REVOKED -> revoked.incrementAndGet();
                default -> { }
            }
            if (f.deadLettered()) {
                deadLettered.incrementAndGet();
            }
            if (f.ran()) {
                active.decrementAndGet();
                if (f.state() != null) {
                    lastTaskDoneMillis = System.currentTimeMillis();
                }
            }
        }
    };

    /** Messages taken from the broker (Celery's "processed"). */
    public long received() { return received.get(); }

    public long succeeded() { return succeeded.get(); }

    public long failed() { return failed.get(); }

    public long retried() { return retried.get(); }

    /** Expired (or revoked) messages that were not run. */
    public long revoked() { return revoked.get(); }

    /** Malformed messages and unknown tasks sent to the dead-letter queue. */
    public long deadLettered() { return deadLettered.get(); }

    /** Tasks running now. */
    public int active() { return active.get(); }

    /** When the consumer last asked the broker for work (epoch ms), 0 before the first time. */
    public long lastPollMillis() { return lastPollMillis; }

    /** When a task last finished (epoch ms), 0 before the first. */
    public long lastTaskDoneMillis() { return lastTaskDoneMillis; }

    /** Seconds since this worker last polled the broker or finished a task ({@link HealthChecks#secondsWithoutProgress}). */
    public double secondsWithoutProgress() {
        return HealthChecks.secondsWithoutProgress(lastPollMillis / 1000.0, lastTaskDoneMillis / 1000.0, System.currentTimeMillis() / 1000.0);
    }
}
