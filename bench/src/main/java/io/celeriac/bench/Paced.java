package io.celeriac.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * The paced method: producer threads send tasks on a fixed schedule (task i is due at
 * {@code i / rate} seconds) while the worker consumes; latency is from the moment before a task's
 * send to its completion as the system records it.
 */
final class Paced {
    record Figures(double targetPerSec, int tasks, double sentPerSec, int completed, double p50ms, double p90ms,
                   double p99ms, double maxMs) {
    }

    private Paced() {
    }

    static Figures run(Peer peer, double rate, Duration length, int producers) throws Exception {
        int total = Math.max(10, (int) Math.round(rate * length.toNanos() / 1e9));
        String[] ids = new String[total];
        Instant[] sentAt = new Instant[total];
        long start = System.nanoTime() + 50_000_000L;
        AtomicInteger next = new AtomicInteger();
        AtomicReference<Exception> failed = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < producers; t++) {
            Thread th = new Thread(() -> {
                int i;
                while ((i = next.getAndIncrement()) < total && failed.get() == null) {
                    long due = start + (long) (i * 1e9 / rate);
                    long wait;
                    while ((wait = due - System.nanoTime()) > 0) {
                        LockSupport.parkNanos(wait);
                    }
                    sentAt[i] = Instant.now();
                    try {
                        ids[i] = peer.send();
                    } catch (Exception e) {
                        failed.compareAndSet(null, e);
                    }
                }
            }, "producer-" + t);
            th.start();
            threads.add(th);
        }
        for (Thread th : threads) {
            th.join();
        }
        if (failed.get() != null) {
            throw failed.get();
        }
        Instant first = Arrays.stream(sentAt).min(Instant::compareTo).orElseThrow();
        Instant last = Arrays.stream(sentAt).max(Instant::compareTo).orElseThrow();
        double sentPerSec = (total - 1) / (Duration.between(first, last).toNanos() / 1e9);
        Map<String, Instant> done = peer.completions(Arrays.asList(ids), Duration.ofMinutes(3));
        long[] lat = new long[done.size()];
        int k = 0;
        for (int i = 0; i < total; i++) {
            Instant d = done.get(ids[i]);
            if (d != null) {
                lat[k++] = Duration.between(sentAt[i], d).toNanos();
            }
        }
        Arrays.sort(lat);
        int m = lat.length;
        if (m == 0) {
            return new Figures(rate, total, sentPerSec, 0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        return new Figures(rate, total, sentPerSec, m, lat[m / 2] / 1e6, lat[(int) (m * 0.90)] / 1e6,
                lat[(int) (m * 0.99)] / 1e6, lat[m - 1] / 1e6);
    }
}
