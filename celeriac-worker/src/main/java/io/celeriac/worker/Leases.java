package io.celeriac.worker;

import io.celeriac.spi.Broker;
import io.celeriac.spi.Delivery;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The leases of the messages this worker reserved ahead and has not started, as far as the worker
 * can know them: a reservation that started at t holds until t + {@link Broker#lease()}; a
 * {@link Broker#renew} that started at k and returned at r renews, to k + lease, every lease
 * that still held at r. A worker that was paused longer than its lease (a GC pause, a frozen VM,
 * SIGSTOP) or could not renew (the broker did not answer) finds on resume messages whose lease may
 * have lapsed: another worker may have them already. Those are not run; they are dropped from the
 * buffer and given back (a give-back is a no-op when another worker holds the message), and the gap
 * is logged once, in one line, however many slots meet it.
 */
final class Leases {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");
    /** The gap line is written once no message was dropped for this long: one line per gap. */
    private static final long QUIET_MS = 300;

    private final Duration lease;
    private final long leaseMs;
    /** A lease this close to its end counts as lapsed (other workers' clocks, the time to start a task). */
    private final long marginMs;
    private final Clock clock;
    private final Map<Delivery, Long> ends = new ConcurrentHashMap<>();

    // the gap being reported: messages dropped, the longest time without renewal, the last drop
    private int dropped;
    private long gapMs;
    private long lastDropMs;
    private long lastSweepMs;

    Leases(Duration lease, Clock clock) {
        this.lease = lease;
        this.leaseMs = lease == null ? 0 : lease.toMillis();
        this.marginMs = Math.min(1000, leaseMs / 10);
        this.clock = clock;
    }

    long now() {
        return clock.millis();
    }

    /** Messages a reservation that started at {@code startedMs} returned. */
    void reserved(Collection<Delivery> got, long startedMs) {
        if (lease == null) {
            return;
        }
        long end = startedMs + leaseMs;
        for (Delivery d : got) {
            ends.put(d, end);
        }
    }

    /** A renewal that started at {@code startedMs} succeeded at {@code endedMs}: the leases still held then are renewed. */
    void renewed(long startedMs, long endedMs) {
        if (lease == null) {
            return;
        }
        long end = startedMs + leaseMs;
        ends.replaceAll((d, e) -> e > endedMs ? Math.max(e, end) : e);
    }

    /** The message leaves the buffer for good (given back at shutdown). */
    void forget(Delivery d) {
        ends.remove(d);
    }

    /**
     * A slot is about to start {@code d}: true when its lease surely still holds. False: it may have
     * lapsed, and the caller drops it; counted for the gap line.
     */
    boolean admit(Delivery d) {
        Long end = ends.remove(d);
        if (end == null || lease == null) {
            return true;
        }
        long now = now();
        if (now + marginMs < end) {
            return true;
        }
        lapsed(now, end);
        return false;
    }

    /**
     * Takes out of {@code buffer} the messages whose lease may have lapsed (checked at most every
     * 100 ms), for the caller to give back: they no longer count against the prefetch limit.
     */
    List<Delivery> sweep(Collection<Delivery> buffer) {
        if (lease == null || ends.isEmpty()) {
            return List.of();
        }
        long now = now();
        if (now - lastSweepMs < 100 && now >= lastSweepMs) {
            return List.of();
        }
        lastSweepMs = now;
        List<Delivery> out = new ArrayList<>();
        for (Map.Entry<Delivery, Long> e : ends.entrySet()) {
            if (now + marginMs >= e.getValue() && buffer.remove(e.getKey())) { // not taken by a slot meanwhile
                ends.remove(e.getKey());
                lapsed(now, e.getValue());
                out.add(e.getKey());
            }
        }
        return out;
    }

    private synchronized void lapsed(long now, long end) {
        dropped++;
        gapMs = Math.max(gapMs, now - (end - leaseMs));
        lastDropMs = now;
    }

    /** Writes the gap line once the drops of a gap are over. Called often, from any thread. */
    synchronized void report() {
        if (dropped == 0) {
            return;
        }
        long now = now();
        if (now - lastDropMs < QUIET_MS && now >= lastDropMs) {
            return;
        }
        log.warn("paused or cut off from the broker for {} s (no lease renewal; lease broker_recovery_timeout {} s):"
                        + " dropped {} reserved message(s) whose lease lapsed, not run here (another worker runs them)",
                String.format("%.1f", gapMs / 1000.0), String.format("%.1f", leaseMs / 1000.0), dropped);
        dropped = 0;
        gapMs = 0;
    }
}
