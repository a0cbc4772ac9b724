package io.celeriac.worker;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/** Counters a worker keeps about itself; read by heartbeats and {@link Worker#stats()}. */
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
}
