package io.celeriac;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options of one call (Celery's {@code apply_async} keywords). Immutable; each {@code with…}
 * returns a copy. Conflicting options (countdown and eta) are rejected when set. An option left
 * unset falls back to the task's own ({@link Task}), then to the app's settings.
 *
 * <pre>{@code
 * SendOptions o = SendOptions.options()
 *         .withCountdown(Duration.ofMinutes(5))      // Celery's countdown=300
 *         .withExpires(Duration.ofHours(1))          // not run after that: REVOKED "expired"
 *         .withQueue("scraping")
 *         .withPriority(3);
 * app.send("scrape", List.of(url), Map.of(), o);
 * }</pre>
 */
public final class SendOptions {
    /** No options: the task's and the app's defaults. */
    public static final SendOptions NONE = new SendOptions();

    private String taskId;
    private String queue;
    private Integer priority;
    private Duration countdown;
    private Instant eta;
    private Duration expiresIn;
    private Instant expiresAt;
    private Boolean ignoreResult;
    private Duration timeLimit;
    private Duration softTimeLimit;
    private Map<String, JsonNode> headers = Map.of();

    private SendOptions() {
    }

    private SendOptions copy() {
        SendOptions o = new SendOptions();
        o.taskId = taskId;
        o.queue = queue;
        o.priority = priority;
        o.countdown = countdown;
        o.eta = eta;
        o.expiresIn = expiresIn;
        o.expiresAt = expiresAt;
        o.ignoreResult = ignoreResult;
        o.timeLimit = timeLimit;
        o.softTimeLimit = softTimeLimit;
        o.headers = headers;
        return o;
    }

    /**
     * The starting point of a chain of {@code with…} calls.
     *
     * @return {@link #NONE}
     */
    public static SendOptions options() {
        return NONE;
    }

    /**
     * Use this id instead of a random UUID (Celery's {@code task_id}).
     *
     * @param id the task id
     * @return a copy with it set
     */
    public SendOptions withTaskId(String id) {
        SendOptions o = copy();
        o.taskId = id;
        return o;
    }

    /**
     * The queue to send to, over the task's {@code queue} and {@code task_default_queue}.
     *
     * @param queue the queue's name
     * @return a copy with it set
     * @throws IllegalArgumentException {@code queue} is null or blank
     */
    public SendOptions withQueue(String queue) {
        if (queue == null || queue.isBlank()) {
            throw new IllegalArgumentException("queue must not be blank");
        }
        SendOptions o = copy();
        o.queue = queue;
        return o;
    }

    /**
     * The message priority, over the task's.
     *
     * @param priority 0–9; a lower number is consumed first
     * @return a copy with it set
     * @throws IllegalArgumentException {@code priority} is outside 0–9
     */
    public SendOptions withPriority(int priority) {
        if (priority < 0 || priority > 9) {
            throw new IllegalArgumentException("priority must be 0..9, got " + priority);
        }
        SendOptions o = copy();
        o.priority = priority;
        return o;
    }

    /**
     * Run no earlier than this long from now (Celery's {@code countdown}); the message waits in the broker.
     *
     * @param countdown the delay
     * @return a copy with it set
     * @throws IllegalArgumentException it is negative, or an ETA is set already
     */
    public SendOptions withCountdown(Duration countdown) {
        if (eta != null) {
            throw new IllegalArgumentException("give countdown or eta, not both");
        }
        if (countdown.isNegative()) {
            throw new IllegalArgumentException("countdown must not be negative");
        }
        SendOptions o = copy();
        o.countdown = countdown;
        return o;
    }

    /**
     * Run no earlier than this instant (Celery's {@code eta}).
     *
     * @param eta when the task may run
     * @return a copy with it set
     * @throws IllegalArgumentException a countdown is set already
     */
    public SendOptions withEta(Instant eta) {
        if (countdown != null) {
            throw new IllegalArgumentException("give countdown or eta, not both");
        }
        SendOptions o = copy();
        o.eta = eta;
        return o;
    }

    /**
     * Do not run after this long from now: the task is then REVOKED with reason "expired" (Celery's {@code expires}).
     *
     * @param in how long from sending the task may still start
     * @return a copy with it set (replacing an expiry instant)
     */
    public SendOptions withExpires(Duration in) {
        SendOptions o = copy();
        o.expiresIn = in;
        o.expiresAt = null;
        return o;
    }

    /**
     * Do not run after this instant: the task is then REVOKED with reason "expired".
     *
     * @param at the last instant the task may start
     * @return a copy with it set (replacing an expiry duration)
     */
    public SendOptions withExpires(Instant at) {
        SendOptions o = copy();
        o.expiresAt = at;
        o.expiresIn = null;
        return o;
    }

    /**
     * Do not store the result of a successful run of this call (failures are still stored).
     *
     * @param ignore true to drop it
     * @return a copy with it set
     */
    public SendOptions withIgnoreResult(boolean ignore) {
        SendOptions o = copy();
        o.ignoreResult = ignore;
        return o;
    }

    /**
     * Time limits of this call (the {@code timelimit} header), over the task's and the app's: the
     * hard one stops the task, the soft one raises SoftTimeLimitExceeded in it. Null leaves one unset.
     *
     * @param hard the hard limit (zero: none), or null
     * @param soft the soft limit (zero: none), or null
     * @return a copy with them set
     * @throws IllegalArgumentException a limit is negative, or the soft one is not shorter than the hard one
     */
    public SendOptions withTimeLimits(Duration hard, Duration soft) {
        if ((hard != null && hard.isNegative()) || (soft != null && soft.isNegative())) {
            throw new IllegalArgumentException("time limits must not be negative");
        }
        if (hard != null && soft != null && !hard.isZero() && soft.compareTo(hard) >= 0) {
            throw new IllegalArgumentException("the soft time limit must be shorter than the hard one");
        }
        SendOptions o = copy();
        o.timeLimit = hard;
        o.softTimeLimit = soft;
        return o;
    }

    /**
     * An extra message header (kept and passed along; readable by the task from {@link TaskContext#headers()}).
     *
     * @param name  the header's name
     * @param value its value
     * @return a copy with it added
     */
    public SendOptions withHeader(String name, JsonNode value) {
        SendOptions o = copy();
        Map<String, JsonNode> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        o.headers = Map.copyOf(h);
        return o;
    }

    /** @return the task id given, or null (a random UUID is used) */
    public String taskId() { return taskId; }

    /** @return the queue given, or null */
    public String queue() { return queue; }

    /** @return the priority given, or null */
    public Integer priority() { return priority; }

    /**
     * The ETA for a call made at {@code now}.
     *
     * @param now when the call is made
     * @return the ETA, or null to run at once
     */
    public Instant etaFrom(Instant now) {
        return eta != null ? eta : countdown != null ? now.plus(countdown) : null;
    }

    /**
     * The expiry for a call made at {@code now}.
     *
     * @param now when the call is made
     * @return the expiry, or null for none
     */
    public Instant expiresFrom(Instant now) {
        return expiresAt != null ? expiresAt : expiresIn != null ? now.plus(expiresIn) : null;
    }

    /** @return whether to drop the result of this call, or null for the task's setting */
    public Boolean ignoreResult() { return ignoreResult; }

    /** @return the countdown given, or null */
    public Duration countdown() { return countdown; }

    /** @return the ETA given, or null */
    public Instant eta() { return eta; }

    /** @return the expiry given as a duration from sending, or null */
    public Duration expiresIn() { return expiresIn; }

    /** @return the expiry given as an instant, or null */
    public Instant expiresAt() { return expiresAt; }

    /** @return the hard time limit of this call, or null */
    public Duration timeLimit() { return timeLimit; }

    /** @return the soft time limit of this call, or null */
    public Duration softTimeLimit() { return softTimeLimit; }

    /** @return the extra headers given (unmodifiable; empty when none) */
    public Map<String, JsonNode> headers() { return headers; }
}
