package io.celeriac;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.random.RandomGenerator;

/**
 * When a failed task retries by itself, and after how long: the task's options over the app-wide
 * settings. Pure logic: the randomness is passed in, so it is tested without time or luck.
 *
 * <p>Back-off as in Celery: retry {@code n} (0-based) waits {@code min(max, base × 2ⁿ)}; with jitter
 * a uniformly random delay between 0 and that, so a thousand tasks that failed together spread out.
 */
public final class RetryPolicy {
    private final int maxRetries;
    private final List<Class<? extends Throwable>> autoretryFor;
    private final List<Class<? extends Throwable>> dontAutoretryFor;
    private final Duration backoff;
    private final Duration backoffMax;
    private final boolean jitter;
    private final Duration defaultDelay;

    public RetryPolicy(int maxRetries, List<Class<? extends Throwable>> autoretryFor, List<Class<? extends Throwable>> dontAutoretryFor,
                       Duration backoff, Duration backoffMax, boolean jitter, Duration defaultDelay) {
        this.maxRetries = maxRetries;
        this.autoretryFor = List.copyOf(autoretryFor);
        this.dontAutoretryFor = List.copyOf(dontAutoretryFor);
        this.backoff = backoff;
        this.backoffMax = backoffMax;
        this.jitter = jitter;
        this.defaultDelay = defaultDelay;
    }

    /** The policy of {@code options}, with what they leave unset taken from {@code config}. */
    public static RetryPolicy of(TaskOptions o, Config c) {
        return new RetryPolicy(
                o.maxRetries() != null ? o.maxRetries() : c.get(Settings.TASK_MAX_RETRIES),
                o.autoretryFor() != null ? o.autoretryFor() : ExceptionTypes.resolve(Settings.TASK_AUTORETRY_FOR.name(), c.get(Settings.TASK_AUTORETRY_FOR)),
                o.dontAutoretryFor() != null ? o.dontAutoretryFor()
                        : ExceptionTypes.resolve(Settings.TASK_DONT_AUTORETRY_FOR.name(), c.get(Settings.TASK_DONT_AUTORETRY_FOR)),
                o.retryBackoff() != null ? o.retryBackoff() : c.get(Settings.TASK_RETRY_BACKOFF),
                o.retryBackoffMax() != null ? o.retryBackoffMax() : c.get(Settings.TASK_RETRY_BACKOFF_MAX),
                o.retryJitter() != null ? o.retryJitter() : c.get(Settings.TASK_RETRY_JITTER),
                o.defaultRetryDelay() != null ? o.defaultRetryDelay() : c.get(Settings.TASK_DEFAULT_RETRY_DELAY));
    }

    public int maxRetries() {
        return maxRetries;
    }

    /** Whether {@code t} makes the task retry by itself (it matches autoretryFor and not dontAutoretryFor). */
    public boolean autoretries(Throwable t) {
        return matches(autoretryFor, t) && !matches(dontAutoretryFor, t);
    }

    private static boolean matches(List<Class<? extends Throwable>> types, Throwable t) {
        for (Class<? extends Throwable> c : types) {
            if (c.isInstance(t)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The delay before retry number {@code retries + 1}: the exponential back-off (with jitter when
     * on), or the fixed default delay when back-off is off.
     */
    public Duration delay(int retries, RandomGenerator random) {
        if (backoff.isZero()) {
            return defaultDelay;
        }
        long ms = maxDelay(retries).toMillis();
        return jitter ? Duration.ofMillis(random.nextLong(ms + 1)) : Duration.ofMillis(ms); // full jitter: [0, ms]
    }

    /** The longest delay retry number {@code retries + 1} can get: {@code min(max, base × 2^retries)}. */
    public Duration maxDelay(int retries) {
        if (backoff.isZero()) {
            return defaultDelay;
        }
        long baseMs = backoff.toMillis();
        long capMs = backoffMax.toMillis();
        boolean overflows = retries >= 62 || baseMs > (capMs >> retries);
        return Duration.ofMillis(overflows ? capMs : Math.min(capMs, baseMs << retries));
    }

    @Override
    public String toString() {
        List<String> names = new ArrayList<>();
        autoretryFor.forEach(c -> names.add(c.getSimpleName()));
        return "RetryPolicy[maxRetries=" + maxRetries + ", autoretryFor=" + names + ", backoff=" + backoff
                + ", max=" + backoffMax + ", jitter=" + jitter + "]";
    }
}
