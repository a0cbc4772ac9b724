package io.celeriac;

import io.celeriac.config.Durations;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

/**
 * Per-task options. Unset (null) options fall back to the app-wide settings
 * ({@code task_default_queue}, {@code task_max_retries}, {@code task_acks_late},
 * {@code task_autoretry_for}, {@code task_retry_backoff}, {@code task_time_limit}, …).
 * Immutable; made with {@link #builder()} or from a {@link Task} annotation. Values are checked
 * when set: a bad one is rejected, never clamped.
 */
public final class TaskOptions {
    public static final TaskOptions DEFAULTS = builder().build();

    private final String queue;
    private final Integer priority;
    private final Integer maxRetries;
    private final Duration defaultRetryDelay;
    private final boolean ignoreResult;
    private final Boolean acksLate;
    private final Boolean trackStarted;
    private final List<Class<? extends Throwable>> autoretryFor;
    private final List<Class<? extends Throwable>> dontAutoretryFor;
    private final Duration retryBackoff;
    private final Duration retryBackoffMax;
    private final Boolean retryJitter;
    private final Duration softTimeLimit;
    private final Duration timeLimit;
    private final String rateLimit;

    private TaskOptions(Builder b) {
        this.queue = b.queue;
        this.priority = b.priority;
        this.maxRetries = b.maxRetries;
        this.defaultRetryDelay = b.defaultRetryDelay;
        this.ignoreResult = b.ignoreResult;
        this.acksLate = b.acksLate;
        this.trackStarted = b.trackStarted;
        this.autoretryFor = b.autoretryFor;
        this.dontAutoretryFor = b.dontAutoretryFor;
        this.retryBackoff = b.retryBackoff;
        this.retryBackoffMax = b.retryBackoffMax;
        this.retryJitter = b.retryJitter;
        this.softTimeLimit = b.softTimeLimit;
        this.timeLimit = b.timeLimit;
        this.rateLimit = b.rateLimit;
        if (softTimeLimit != null && timeLimit != null && !timeLimit.isZero() && !softTimeLimit.isZero()
                && softTimeLimit.compareTo(timeLimit) >= 0) {
            throw new IllegalArgumentException("softTimeLimit (" + Durations.format(softTimeLimit)
                    + ") must be shorter than timeLimit (" + Durations.format(timeLimit) + ")");
        }
    }

    public String queue() { return queue; }

    public Integer priority() { return priority; }

    public Integer maxRetries() { return maxRetries; }

    public Duration defaultRetryDelay() { return defaultRetryDelay; }

    public boolean ignoreResult() { return ignoreResult; }

    public Boolean acksLate() { return acksLate; }

    /** Store state STARTED when a worker begins the task (Celery's {@code track_started}); null: {@code task_track_started}. */
    public Boolean trackStarted() { return trackStarted; }

    /** Exception types that make the task retry by itself; null: {@code task_autoretry_for}. */
    public List<Class<? extends Throwable>> autoretryFor() { return autoretryFor; }

    /** Exception types that never trigger an automatic retry, even if they match {@link #autoretryFor()}. */
    public List<Class<? extends Throwable>> dontAutoretryFor() { return dontAutoretryFor; }

    /** Base of the exponential back-off (1 s, 2 s, 4 s, … for 1 s); zero: no back-off; null: the setting. */
    public Duration retryBackoff() { return retryBackoff; }

    public Duration retryBackoffMax() { return retryBackoffMax; }

    public Boolean retryJitter() { return retryJitter; }

    /** Zero: no soft limit; null: {@code task_soft_time_limit}. */
    public Duration softTimeLimit() { return softTimeLimit; }

    /** Zero: no hard limit; null: {@code task_time_limit}. */
    public Duration timeLimit() { return timeLimit; }

    /** Celery's rate limit ("10/s", "100/m", "1000/h"); null: none declared ("0": none). */
    public String rateLimit() { return rateLimit; }

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these options, to change some (how {@code task_annotations} apply). */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.queue = queue;
        b.priority = priority;
        b.maxRetries = maxRetries;
        b.defaultRetryDelay = defaultRetryDelay;
        b.ignoreResult = ignoreResult;
        b.acksLate = acksLate;
        b.autoretryFor = autoretryFor;
        b.dontAutoretryFor = dontAutoretryFor;
        b.retryBackoff = retryBackoff;
        b.retryBackoffMax = retryBackoffMax;
        b.retryJitter = retryJitter;
        b.softTimeLimit = softTimeLimit;
        b.timeLimit = timeLimit;
        b.rateLimit = rateLimit;
        b.trackStarted = trackStarted;
        return b;
    }

    static TaskOptions of(Task t) {
        Builder b = builder().ignoreResult(t.ignoreResult());
        if (!t.queue().isEmpty()) b.queue(t.queue());
        if (t.priority() >= 0) b.priority(t.priority());
        if (t.maxRetries() >= 0) b.maxRetries(t.maxRetries());
        if (t.defaultRetryDelay() >= 0) b.defaultRetryDelay(Durations.ofSeconds(t.defaultRetryDelay()));
        if (t.acksLate().value() != null) b.acksLate(t.acksLate().value());
        if (t.trackStarted().value() != null) b.trackStarted(t.trackStarted().value());
        if (t.autoretryFor().length > 0) b.autoretryFor(Arrays.asList(t.autoretryFor()));
        if (t.dontAutoretryFor().length > 0) b.dontAutoretryFor(Arrays.asList(t.dontAutoretryFor()));
        if (t.retryBackoff() >= 0) b.retryBackoff(Durations.ofSeconds(t.retryBackoff()));
        if (t.retryBackoffMax() >= 0) b.retryBackoffMax(Durations.ofSeconds(t.retryBackoffMax()));
        if (t.retryJitter().value() != null) b.retryJitter(t.retryJitter().value());
        if (t.softTimeLimit() >= 0) b.softTimeLimit(Durations.ofSeconds(t.softTimeLimit()));
        if (t.timeLimit() >= 0) b.timeLimit(Durations.ofSeconds(t.timeLimit()));
        if (!t.rateLimit().isEmpty()) b.rateLimit(t.rateLimit());
        return b.build();
    }

    /** Builds {@link TaskOptions}; every setter checks its value. */
    public static final class Builder {
        private String queue;
        private Integer priority;
        private Integer maxRetries;
        private Duration defaultRetryDelay;
        private boolean ignoreResult;
        private Boolean acksLate;
        private Boolean trackStarted;
        private List<Class<? extends Throwable>> autoretryFor;
        private List<Class<? extends Throwable>> dontAutoretryFor;
        private Duration retryBackoff;
        private Duration retryBackoffMax;
        private Boolean retryJitter;
        private Duration softTimeLimit;
        private Duration timeLimit;
        private String rateLimit;

        private Builder() {
        }

        public Builder queue(String queue) {
            if (queue == null || queue.isBlank()) {
                throw new IllegalArgumentException("queue must not be blank");
            }
            this.queue = queue;
            return this;
        }

        public Builder priority(int priority) {
            if (priority < 0 || priority > 9) {
                throw new IllegalArgumentException("priority must be 0..9, got " + priority);
            }
            this.priority = priority;
            return this;
        }

        public Builder maxRetries(int maxRetries) {
            if (maxRetries < 0) {
                throw new IllegalArgumentException("maxRetries must be ≥ 0, got " + maxRetries);
            }
            this.maxRetries = maxRetries;
            return this;
        }

        public Builder defaultRetryDelay(Duration d) {
            this.defaultRetryDelay = notNegative("defaultRetryDelay", d);
            return this;
        }

        public Builder ignoreResult(boolean ignoreResult) {
            this.ignoreResult = ignoreResult;
            return this;
        }

        public Builder acksLate(boolean acksLate) {
            this.acksLate = acksLate;
            return this;
        }

        public Builder trackStarted(boolean trackStarted) {
            this.trackStarted = trackStarted;
            return this;
        }

        public Builder autoretryFor(List<Class<? extends Throwable>> types) {
            this.autoretryFor = List.copyOf(types);
            return this;
        }

        public Builder dontAutoretryFor(List<Class<? extends Throwable>> types) {
            this.dontAutoretryFor = List.copyOf(types);
            return this;
        }

        public Builder retryBackoff(Duration base) {
            this.retryBackoff = notNegative("retryBackoff", base);
            return this;
        }

        public Builder retryBackoffMax(Duration max) {
            this.retryBackoffMax = notNegative("retryBackoffMax", max);
            return this;
        }

        public Builder retryJitter(boolean jitter) {
            this.retryJitter = jitter;
            return this;
        }

        public Builder softTimeLimit(Duration soft) {
            this.softTimeLimit = notNegative("softTimeLimit", soft);
            return this;
        }

        public Builder timeLimit(Duration hard) {
            this.timeLimit = notNegative("timeLimit", hard);
            return this;
        }

        /** Celery's rate limit: "10/s", "100/m", "1000/h", a bare number per second; "0": none. */
        public Builder rateLimit(String rate) {
            if (rate == null) {
                throw new IllegalArgumentException("rateLimit must not be null (\"0\": no limit)");
            }
            io.celeriac.config.RateLimit.intervalNanos(rate); // rejects a malformed one
            this.rateLimit = rate.strip();
            return this;
        }

        public TaskOptions build() {
            return new TaskOptions(this);
        }

        private static Duration notNegative(String what, Duration d) {
            if (d == null || d.isNegative()) {
                throw new IllegalArgumentException(what + " must be a duration ≥ 0, got " + d);
            }
            return d;
        }
    }
}
