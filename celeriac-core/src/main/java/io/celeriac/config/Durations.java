package io.celeriac.config;

import java.time.Duration;

/** Small helpers for durations written the way Celery users write them (seconds as numbers). */
public final class Durations {
    private Durations() {
    }

    public static Duration ofSeconds(double seconds) {
        return Duration.ofNanos(Math.round(seconds * 1_000_000_000d));
    }

    public static double toSeconds(Duration d) {
        return d.toNanos() / 1_000_000_000d;
    }

    /** The shortest exact form: 1d, 5m, 30s, 250ms, or 1.5s. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0 && !d.isZero()) {
            return d.toNanos() / 1000 + "us";
        }
        if (ms % 86_400_000 == 0 && ms != 0) {
            return ms / 86_400_000 + "d";
        }
        if (ms % 3_600_000 == 0 && ms != 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0 && ms != 0) {
            return ms / 60_000 + "m";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + "s";
        }
        if (ms < 1000) {
            return ms + "ms";
        }
        return (ms / 1000.0) + "s";
    }
}
