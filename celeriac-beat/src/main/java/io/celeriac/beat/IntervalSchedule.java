package io.celeriac.beat;

import io.celeriac.config.Durations;
import java.time.Duration;
import java.time.Instant;

/**
 * Every fixed interval, on slots aligned to the Unix epoch: every 5 minutes is :00, :05, :10, …
 * Aligned slots are the same for every beat process and across restarts, so "once per slot" needs
 * no other agreement than the record of the last slot fired.
 */
final class IntervalSchedule implements Schedule {
    private final Duration every;

    IntervalSchedule(Duration every) {
        if (every.isZero() || every.isNegative()) {
            throw new IllegalArgumentException("interval must be positive");
        }
        this.every = every;
    }

    Duration every() {
        return every;
    }

    @Override
    public Instant latestAtOrBefore(Instant t) {
        long ms = every.toMillis();
        return Instant.ofEpochMilli(Math.floorDiv(t.toEpochMilli(), ms) * ms);
    }

    @Override
    public Instant nextAfter(Instant t) {
        return latestAtOrBefore(t).plus(every);
    }

    @Override
    public String describe() {
        return "every " + Durations.format(every);
    }
}
