package io.celeriac.bench;

import io.celeriac.beat.Beat;
import io.celeriac.beat.BeatService;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Beat's firing accuracy: an entry every 100 ms for 30 s on the embedded broker; for each slot, the
 * delay from the scheduled instant to the message being in the queue (its row's insert time).
 */
final class BeatAccuracy {
    private BeatAccuracy() {
    }

    record Figures(int slots, double p50, double p99, double max, int missed) {
    }

    static Figures run(Path work, Duration every, Duration length) throws Exception {
        Path db = work.resolve("beat-accuracy.db");
        Files.deleteIfExists(db);
        Config c = Config.builder()
                .set(Settings.BROKER_URL, "sqlite:" + db)
                .set(Settings.HEALTH_CHECK_INTERVAL, Duration.ZERO)
                .set(Settings.BEAT_SCHEDULE, Map.of("fast", Map.of("task", "noop", "schedule", every.toMillis() + "ms")))
                .build();
        try (Broker broker = Backends.openBroker(c); Coordination coordination = Backends.openCoordination(c)) {
            BeatService service = new BeatService(new Beat(c, broker, coordination, Clock.systemUTC(), "bench-beat@local"));
            Thread t = new Thread(service::run, "beat");
            t.start();
            Thread.sleep(length.toMillis());
            service.stop();
            t.join();
        }
        List<Long> delays = new ArrayList<>();
        try (Connection conn = DriverManager.getConnection("jdbc:sqlite:" + db); Statement s = conn.createStatement();
             ResultSet rs = s.executeQuery("SELECT available_at, payload FROM celeriac_messages ORDER BY id")) {
            while (rs.next()) {
                String slot = io.celeriac.protocol.MessageCodec.decode(rs.getString(2)).header("beat_slot").asText();
                delays.add(rs.getLong(1) - io.celeriac.protocol.CeleryTime.parse(slot).toEpochMilli());
            }
        }
        long[] d = delays.stream().mapToLong(Long::longValue).sorted().toArray();
        int expected = (int) (length.toMillis() / every.toMillis());
        return new Figures(d.length, d[d.length / 2], d[(int) (d.length * 0.99)], d[d.length - 1], Math.max(0, expected - d.length - 2));
    }

    static String report(Figures f, Duration every) {
        return String.format("beat accuracy: %d slots of an entry every %d ms: delay from slot to message in queue"
                + " p50 %.0f ms, p99 %.0f ms, max %.0f ms%n", f.slots(), every.toMillis(), f.p50(), f.p99(), f.max());
    }
}
