package io.celeriac.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The paced method's bookkeeping and the report's ratios, against a peer that completes each task 5 ms after its send. */
class PacedTest {
    /** A stand-in for a system: every task completes 5 ms after it was sent; the first two never do. */
    static final class FakePeer implements Peer {
        final Map<String, Instant> done = new ConcurrentHashMap<>();
        final AtomicInteger sent = new AtomicInteger();

        @Override public String name() { return "fake"; }
        @Override public String configuration() { return "fake"; }
        @Override public List<String> load(int n) { return List.of(); }
        @Override public void startWorker() { }
        @Override public String send() {
            int i = sent.incrementAndGet();
            String id = "t" + i;
            if (i > 2) {
                done.put(id, Instant.now().plusMillis(5));
            }
            return id;
        }
        @Override public Map<String, Instant> completions(List<String> ids, Duration timeout) {
            Map<String, Instant> m = new HashMap<>();
            ids.forEach(id -> { if (done.containsKey(id)) m.put(id, done.get(id)); });
            return m;
        }
        @Override public void stopWorker() { }
        @Override public void close() { }
    }

    @Test
    void sendsEveryTaskOfTheScheduleAndMeasuresFromSendToCompletion() throws Exception {
        FakePeer peer = new FakePeer();
        Paced.Figures f = Paced.run(peer, 200, Duration.ofMillis(250), 4);
        assertThat(f.tasks()).isEqualTo(50);
        assertThat(peer.sent.get()).isEqualTo(50);
        assertThat(f.completed()).isEqualTo(48); // the two that never completed are counted out, not as zero
        assertThat(f.p50ms()).isGreaterThanOrEqualTo(5.0);
        assertThat(f.p50ms()).isLessThanOrEqualTo(f.p90ms());
        assertThat(f.p90ms()).isLessThanOrEqualTo(f.p99ms());
        assertThat(f.p99ms()).isLessThanOrEqualTo(f.maxMs());
    }

    @Test
    void reportsCeleriacOverPeerRatiosForThePairsOnOneStore() {
        Paced.Figures fast = new Paced.Figures(100, 1000, 100, 1000, 1, 2, 4, 5);
        Paced.Figures slow = new Paced.Figures(50, 500, 50, 500, 10, 20, 40, 50);
        List<PeerSuite.Row> rows = List.of(
                new PeerSuite.Row("celeriac-pg", "c", 1000, 1, 300, 3, fast, fast, "load average 1", "load average 1"),
                new PeerSuite.Row("db-scheduler-pg", "d", 1000, 1, 100, 10, slow, slow, "load average 1", "load average 1"));
        String text = PeerReport.text(rows, "load average 1");
        assertThat(text).contains("celeriac-pg / db-scheduler-pg: burn-down 3.00x; paced 50%: p50 0.100, p90 0.100, p99 0.100");
        assertThat(text).doesNotContain("celeriac-redis / celery-redis"); // a pair not measured has no ratio
        assertThat(text).contains("- db-scheduler-pg: d");
    }
}
