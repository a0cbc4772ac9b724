package io.celeriac.worker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Per-task rate limits of one worker, as Celery's {@code rate_limit} ("10/s", "100/m", "5/h"; a
 * bare number is per second; "0" or empty removes the limit): starts of a limited task are spaced
 * at least 1/rate apart; a slot whose task must wait sleeps until its turn.
 */
final class RateLimits {
    private static final Pattern RATE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*(?:/\\s*([smh]))?\\s*");

    private final Map<String, long[]> limits = new ConcurrentHashMap<>(); // task -> {interval ns, next start ns}

    /** The interval between starts for a rate string, in nanoseconds; 0 for no limit. */
    static long intervalNanos(String rate) {
        Matcher m = RATE.matcher(rate == null ? "" : rate);
        if (rate == null || rate.isBlank()) {
            return 0;
        }
        if (!m.matches()) {
            throw new IllegalArgumentException("bad rate limit '" + rate + "': expected N/s, N/m or N/h (e.g. 10/s)");
        }
        double n = Double.parseDouble(m.group(1));
        if (n == 0) {
            return 0;
        }
        long unit = switch (m.group(2) == null ? "s" : m.group(2)) {
            case "m" -> TimeUnit.MINUTES.toNanos(1);
            case "h" -> TimeUnit.HOURS.toNanos(1);
            default -> TimeUnit.SECONDS.toNanos(1);
        };
        return (long) (unit / n);
    }

    void set(String task, String rate) {
        long interval = intervalNanos(rate);
        if (interval == 0) {
            limits.remove(task);
        } else {
            limits.put(task, new long[] {interval, System.nanoTime()});
        }
    }

    Map<String, Long> intervals() {
        Map<String, Long> out = new java.util.TreeMap<>();
        limits.forEach((k, v) -> out.put(k, v[0]));
        return out;
    }

    /** Waits, if {@code task} is limited, until it may start. */
    void acquire(String task) throws InterruptedException {
        long[] l = limits.get(task);
        if (l == null) {
            return;
        }
        long start;
        synchronized (l) {
            long now = System.nanoTime();
            start = Math.max(now, l[1]);
            l[1] = start + l[0];
        }
        long wait = start - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
        }
    }
}
