package io.celeriac;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options of one call (Celery's {@code apply_async} keywords). Immutable; each {@code with…}
 * returns a copy. Conflicting options (countdown and eta) are rejected when set.
 */
public final class SendOptions {
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

    public static SendOptions options() {
        return NONE;
    }

    /** Use this id instead of a random UUID. */
    public SendOptions withTaskId(String id) {
        SendOptions o = copy();
        o.taskId = id;
        return o;
    }

    public SendOptions withQueue(String queue) {
        if (queue == null || queue.isBlank()) {
            throw new IllegalArgumentException("queue must not be blank");
        }
        SendOptions o = copy();
        o.queue = queue;
        return o;
    }

    /** 0–9; a lower number is consumed first. */
    public SendOptions withPriority(int priority) {
        if (priority < 0 || priority > 9) {
            throw new IllegalArgumentException("priority must be 0..9, got " + priority);
        }
        SendOptions o = copy();
        o.priority = priority;
        return o;
    }

    /** Run no earlier than this long from now. */
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

    /** Run no earlier than this instant. */
    public SendOptions withEta(Instant eta) {
        if (countdown != null) {
            throw new IllegalArgumentException("give countdown or eta, not both");
        }
        SendOptions o = copy();
        o.eta = eta;
        return o;
    }

    /** Do not run after this long from now: the task is then REVOKED with reason "expired". */
    public SendOptions withExpires(Duration in) {
        SendOptions o = copy();
        o.expiresIn = in;
        o.expiresAt = null;
        return o;
    }

    public SendOptions withExpires(Instant at) {
        SendOptions o = copy();
        o.expiresAt = at;
        o.expiresIn = null;
        return o;
    }

    public SendOptions withIgnoreResult(boolean ignore) {
        SendOptions o = copy();
        o.ignoreResult = ignore;
        return o;
    }

    /**
     * Time limits of this call (the {@code timelimit} header), over the task's and the app's: the
     * hard one stops the task, the soft one raises SoftTimeLimitExceeded in it. Null leaves one unset.
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

    /** An extra message header (kept and passed along; readable by the task from its context). */
    public SendOptions withHeader(String name, JsonNode value) {
        SendOptions o = copy();
        Map<String, JsonNode> h = new LinkedHashMap<>(headers);
        h.put(name, value);
        o.headers = Map.copyOf(h);
        return o;
    }

    public String taskId() { return taskId; }

    public String queue() { return queue; }

    public Integer priority() { return priority; }

    /** The ETA for a call made at {@code now}, or null to run at once. */
    public Instant etaFrom(Instant now) {
        return eta != null ? eta : countdown != null ? now.plus(countdown) : null;
    }

    /** The expiry for a call made at {@code now}, or null. */
    public Instant expiresFrom(Instant now) {
        return expiresAt != null ? expiresAt : expiresIn != null ? now.plus(expiresIn) : null;
    }

    public Boolean ignoreResult() { return ignoreResult; }

    /** The countdown given, or null. */
    public Duration countdown() { return countdown; }

    /** The ETA given, or null. */
    public Instant eta() { return eta; }

    /** The expiry given as a duration from sending, or null. */
    public Duration expiresIn() { return expiresIn; }

    /** The expiry given as an instant, or null. */
    public Instant expiresAt() { return expiresAt; }

    /** The hard time limit of this call, or null. */
    public Duration timeLimit() { return timeLimit; }

    /** The soft time limit of this call, or null. */
    public Duration softTimeLimit() { return softTimeLimit; }

    public Map<String, JsonNode> headers() { return headers; }
}
