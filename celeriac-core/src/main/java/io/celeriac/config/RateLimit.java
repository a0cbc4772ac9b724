package io.celeriac.config;

import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Celery's rate-limit strings: "10/s", "100/m", "1000/h"; a bare number is per second; "0" or
 * empty is no limit. Read by {@code @Task(rateLimit)}, {@code task_annotations} and the
 * {@code rate_limit} remote-control command.
 */
public final class RateLimit {
    private static final Pattern RATE = Pattern.compile("\\s*(\\d+(?:\\.\\d+)?)\\s*(?:/\\s*([smh]))?\\s*");

    private RateLimit() {
    }

    /** The interval between starts for a rate string, in nanoseconds; 0 for no limit; IllegalArgumentException when malformed. */
    public static long intervalNanos(String rate) {
        if (rate == null || rate.isBlank()) {
            return 0;
        }
        Matcher m = RATE.matcher(rate);
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
}
