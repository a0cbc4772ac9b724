package io.celeriac.worker;

import java.time.Clock;
import java.time.Duration;

/**
 * Celery's autoscaler ({@code celery.worker.autoscale}): how many slots the pool should have, from
 * how many messages the worker holds ({@code qty}: reserved ahead + running, Celery's
 * {@code reserved_requests}), between {@code min} and {@code max}.
 *
 * <ul>
 *   <li>Grows at once: to {@code min(qty, max)} when that is more than the slots it has (and to
 *       {@code min} when below it, after {@code autoscale} raised it).</li>
 *   <li>Shrinks to {@code max(qty, min)}, in one step, once the pool has had more slots than it
 *       needed for {@code keepalive} ({@code worker_autoscale_keepalive}, Celery's
 *       {@code AUTOSCALE_KEEPALIVE}, 30 s). Celery counts the keepalive from its last growth, so a
 *       pool busy for longer than that sheds slots at the first momentary dip; this one counts from
 *       the last moment every slot was needed, so it sheds only slots that stayed idle.</li>
 *   <li>Above a lowered {@code max}: shrinks to it at once (Celery's {@code update}).</li>
 * </ul>
 *
 * A pure decision: the worker applies it (grows slots and children, retires idle ones; a running
 * task is never stopped). Thread-safe.
 */
final class Autoscaler {
    private final Clock clock;
    private final long keepaliveMillis;
    private int max;
    private int min;
    /** When the pool last needed all its slots (or grew). */
    private long neededAt;

    Autoscaler(int max, int min, Duration keepalive, Clock clock) {
        check(max, min);
        this.max = max;
        this.min = min;
        this.keepaliveMillis = keepalive.toMillis();
        this.clock = clock;
        this.neededAt = clock.millis();
    }

    private static void check(int max, int min) {
        if (max < 1 || min < 0 || min > max) {
            throw new IllegalArgumentException("autoscale needs 1 ≤ max and 0 ≤ min ≤ max, got max=" + max + " min=" + min);
        }
    }

    /**
     * The change in slots for a pool of {@code slots} holding {@code qty} messages: positive to grow,
     * negative to shrink, 0 to stay.
     */
    synchronized int decide(int qty, int slots) {
        long now = clock.millis();
        int wanted = Math.max(min, Math.min(qty, max));
        if (wanted > slots) {
            neededAt = now;
            return wanted - slots;
        }
        if (slots > max) {
            return max - slots;
        }
        if (qty >= slots) {
            neededAt = now;
            return 0;
        }
        if (wanted < slots && now - neededAt >= keepaliveMillis) {
            neededAt = now;
            return wanted - slots;
        }
        return 0;
    }

    /** Celery's {@code autoscale} command: a new range (null: that bound unchanged); returns {@code [max, min]}. */
    synchronized int[] update(Integer newMax, Integer newMin) {
        int mx = newMax == null ? max : newMax;
        int mn = newMin == null ? min : newMin;
        check(mx, mn);
        max = mx;
        min = mn;
        return new int[] {max, min};
    }

    /**
     * Growing by {@code growth} while {@code retiring} slots (or children) are still due to leave:
     * takes up to {@code growth} of them off that count, so they stay; returns how many new ones to start.
     */
    static int keepRetiring(java.util.concurrent.atomic.AtomicInteger retiring, int growth) {
        while (growth > 0) {
            int pending = retiring.get();
            if (pending == 0) {
                break;
            }
            int kept = Math.min(pending, growth);
            if (retiring.compareAndSet(pending, pending - kept)) {
                growth -= kept;
            }
        }
        return Math.max(0, growth);
    }

    synchronized int max() {
        return max;
    }

    synchronized int min() {
        return min;
    }
}
