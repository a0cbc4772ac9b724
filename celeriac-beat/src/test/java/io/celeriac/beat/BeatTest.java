package io.celeriac.beat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.MessageCodec;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.jdbc.SqliteBackend;
import io.celeriac.spi.Backends;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.Delivery;
import io.celeriac.testkit.ManualClock;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Beat driven by a manual clock against a real SQLite file: no sleeping, real locks and records. */
@Tag("integration")
class BeatTest {
    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock(Instant.parse("2026-03-28T20:00:00.250Z"));
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : open) {
            c.close();
        }
    }

    private Config config(Map<String, Object> schedule, String... more) {
        Config.Builder b = Config.builder()
                .set(Settings.BROKER_URL, "sqlite:" + dir.resolve("beat.db"))
                .set(Settings.BEAT_SCHEDULE, schedule)
                .set(Settings.HEALTH_CHECK_INTERVAL, Duration.ZERO)
                .set(Settings.BEAT_LOCK_TIMEOUT, Duration.ofSeconds(30));
        for (int i = 0; i < more.length; i += 2) {
            b.setRaw(more[i], more[i + 1], "test");
        }
        return b.build();
    }

    private Beat beat(Config c, String node) {
        SqliteBackend backend = new SqliteBackend(clock); // the store's leases and locks run on the test's clock
        Broker broker = backend.openBroker(c.get(Settings.BROKER_URL), c);
        Coordination coordination = backend.openCoordination(c.get(Settings.BROKER_URL), c);
        open.add(broker);
        open.add(coordination);
        return new Beat(c, broker, coordination, clock, node);
    }

    private static Map<String, Object> entry(String task, Object schedule, Object... more) {
        Map<String, Object> e = new LinkedHashMap<>(Map.of("task", task, "schedule", schedule));
        for (int i = 0; i < more.length; i += 2) {
            e.put((String) more[i], more[i + 1]);
        }
        return e;
    }

    /** Every message sent so far: the slot it was sent for, in order. */
    private List<String> sent(Config c) throws InterruptedException {
        Broker b = Backends.openBroker(c);
        open.add(b);
        List<String> slots = new ArrayList<>();
        List<Delivery> ds;
        while (!(ds = b.reserve(List.of("celery"), 100, Duration.ZERO)).isEmpty()) {
            for (Delivery d : ds) {
                TaskMessage m = MessageCodec.decode(d.payload());
                slots.add(m.header("beat_entry").asText() + "@" + CeleryTime.parse(m.header("beat_slot").asText()));
            }
            b.ack(ds);
        }
        return slots;
    }

    private void tickAt(Beat b, String instant) {
        clock.set(Instant.parse(instant));
        b.tick();
    }

    @Test
    void anIntervalEntryFiresOncePerSlotAcrossARestart() throws Exception {
        Config c = config(Map.of("every10", entry("add", "10s", "args", List.of(1, 2))));
        Beat first = beat(c, "beat1");
        tickAt(first, "2026-03-28T20:00:00.250Z"); // a new entry waits for its next slot
        tickAt(first, "2026-03-28T20:00:10.001Z");
        tickAt(first, "2026-03-28T20:00:15.000Z");
        first.stop(); // restart
        Beat second = beat(c, "beat2");
        tickAt(second, "2026-03-28T20:00:15.500Z");
        tickAt(second, "2026-03-28T20:00:20.000Z");
        tickAt(second, "2026-03-28T20:00:20.900Z");
        assertThat(sent(c)).containsExactly("every10@2026-03-28T20:00:10Z", "every10@2026-03-28T20:00:20Z");
    }

    @Test
    void aCronEntryFiresAtTheRightInstantsAcrossDaylightSaving() throws Exception {
        Config c = config(Map.of("madrid", entry("noop", "0 */6 * * *", "timezone", "Europe/Madrid")));
        Beat b = beat(c, "beat1");
        Instant t = Instant.parse("2026-03-28T20:00:00Z");
        while (t.isBefore(Instant.parse("2026-03-30T00:00:00Z"))) { // tick every 10 minutes for two days
            clock.set(t);
            b.tick();
            t = t.plus(Duration.ofMinutes(10));
        }
        assertThat(sent(c)).containsExactly("madrid@2026-03-28T23:00:00Z", "madrid@2026-03-29T04:00:00Z",
                "madrid@2026-03-29T10:00:00Z", "madrid@2026-03-29T16:00:00Z", "madrid@2026-03-29T22:00:00Z");
    }

    @Test
    void twoBeatsOnOneBrokerSendEachOfSixtySlotsExactlyOnce() throws Exception {
        Config c = config(Map.of("tick", entry("noop", "1m")));
        Beat a = beat(c, "beat-a");
        Beat b = beat(c, "beat-b");
        Instant t = Instant.parse("2026-03-28T20:00:00Z");
        clock.set(t);
        a.tick();
        b.tick();
        java.util.Random order = new java.util.Random(7);
        for (int slot = 1; slot <= 60; slot++) {
            // several ticks per slot, in random order, a little after the slot
            for (int k = 0; k < 3; k++) {
                clock.set(t.plus(Duration.ofMinutes(slot)).plusMillis(order.nextInt(2000)));
                if (order.nextBoolean()) {
                    a.tick();
                    b.tick();
                } else {
                    b.tick();
                    a.tick();
                }
            }
        }
        List<String> slots = sent(c);
        assertThat(slots).hasSize(60).doesNotHaveDuplicates();
        assertThat(slots.get(0)).isEqualTo("tick@2026-03-28T20:01:00Z");
        assertThat(slots.get(59)).isEqualTo("tick@2026-03-28T21:00:00Z");
        assertThat(a.isLeader() ^ b.isLeader()).isTrue();
    }

    @Test
    void whenTheLeaderStopsRenewingTheOtherTakesOverWithinTheLeaseWithoutLosingASlot() throws Exception {
        Config c = config(Map.of("tick", entry("noop", "1m")), "beat_lock_timeout", "30s");
        Beat a = beat(c, "beat-a");
        Beat b = beat(c, "beat-b");
        clock.set(Instant.parse("2026-03-28T20:00:00Z"));
        a.tick();
        b.tick();
        assertThat(a.isLeader()).isTrue();
        tickAt(a, "2026-03-28T20:01:00.100Z");
        // a dies here (no more ticks, no unlock); its lease ends 30 s after its last renewal
        tickAt(b, "2026-03-28T20:01:20.000Z");
        assertThat(b.isLeader()).isFalse();
        tickAt(b, "2026-03-28T20:01:31.000Z");
        assertThat(b.isLeader()).isTrue();
        tickAt(b, "2026-03-28T20:02:00.050Z");
        assertThat(sent(c)).containsExactly("tick@2026-03-28T20:01:00Z", "tick@2026-03-28T20:02:00Z");
    }

    @Test
    void aSlotDueWhileTheLeaderDiesIsFiredByTheStandbyEvenWithCatchUpSkip() throws Exception {
        Config c = config(Map.of("minutely", entry("noop", "1m", "catch_up", "skip")), "beat_lock_timeout", "5s"); // the default
        Beat a = beat(c, "beat-a");
        Beat b = beat(c, "beat-b");
        tickAt(a, "2026-03-28T20:00:00.100Z");
        tickAt(b, "2026-03-28T20:00:00.200Z");
        tickAt(a, "2026-03-28T20:00:59.900Z"); // renews the lock, then dies just before the 20:01 slot
        tickAt(b, "2026-03-28T20:01:04.000Z");
        assertThat(b.isLeader()).isFalse();
        // the lease (5 s) has run out; the standby looks every tenth of it and sees the slot 5.4 s late
        tickAt(b, "2026-03-28T20:01:05.400Z");
        assertThat(b.isLeader()).isTrue();
        assertThat(sent(c)).containsExactly("minutely@2026-03-28T20:01:00Z");
    }

    @Test
    void aBeatThatWakesLateFiresOnceAndNotTheWholeBacklog() throws Exception {
        Config c = config(Map.of("minutely", entry("noop", "1m")));
        Beat b = beat(c, "beat1");
        tickAt(b, "2026-03-28T20:00:00.100Z");
        tickAt(b, "2026-03-28T20:01:00.100Z");
        tickAt(b, "2026-03-28T21:30:20.000Z"); // the machine slept for 89 minutes
        assertThat(sent(c)).containsExactly("minutely@2026-03-28T20:01:00Z", "minutely@2026-03-28T21:30:00Z");
    }

    @Test
    void aSlotMissedWhileNoBeatRanFiresOnceOrIsSkippedAsConfigured() throws Exception {
        Map<String, Object> schedule = new LinkedHashMap<>();
        schedule.put("once", entry("noop", "1h"));
        schedule.put("skipped", entry("noop", "1h", "catch_up", "skip"));
        Config c = config(schedule);
        Beat first = beat(c, "beat1");
        tickAt(first, "2026-03-28T20:00:00.100Z");
        first.stop();
        Beat later = beat(c, "beat2"); // no beat ran from 20:00 to 23:10
        tickAt(later, "2026-03-28T23:10:00Z");
        assertThat(sent(c)).containsExactly("once@2026-03-28T23:00:00Z");
        tickAt(later, "2026-03-29T00:00:00.010Z"); // and both go on normally
        assertThat(sent(c)).containsExactlyInAnyOrder("once@2026-03-29T00:00:00Z", "skipped@2026-03-29T00:00:00Z");
    }

    @Test
    void tickSaysHowLongToWaitForTheNextSlot() {
        Config c = config(Map.of("every10", entry("noop", "10s")));
        Beat b = beat(c, "beat1");
        clock.set(Instant.parse("2026-03-28T20:00:08.500Z"));
        assertThat(b.tick()).isEqualTo(Duration.ofMillis(1500));
        clock.set(Instant.parse("2026-03-28T20:00:11Z"));
        assertThat(b.tick()).as("at least every 2 s, for the heartbeat").isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void theHealthCheckIsScheduledByDefaultEveryFiveMinutes() {
        Config c = Config.builder().set(Settings.BROKER_URL, "sqlite:" + dir.resolve("beat.db")).build();
        Beat b = beat(c, "beat1");
        assertThat(b.describe()).singleElement().asString().contains("celeriac.health_check").contains("every 5m");
    }

    @Test
    void badEntriesAreRejectedWithTheEntryNamed() {
        assertBad(Map.of("x", entry("add", "61 * * * *")), "beat_schedule entry 'x': malformed cron expression '61 * * * *'");
        assertBad(Map.of("x", entry("add", "* * *")), "beat_schedule entry 'x': malformed cron expression '* * *'");
        assertBad(Map.of("x", entry("add", "0 * * * *", "timezone", "Mars/Olympus")), "beat_schedule entry 'x': unknown time zone 'Mars/Olympus'");
        assertBad(Map.of("x", entry("add", -5)), "beat_schedule entry 'x': schedule must be a positive interval, not -5");
        assertBad(Map.of("x", entry("add", 0)), "beat_schedule entry 'x': schedule must be a positive interval, not 0");
        assertBad(Map.of("x", entry("add", "0s")), "beat_schedule entry 'x': schedule must be a positive interval, not 0s");
        assertBad(Map.of("x", Map.of("schedule", "5m")), "beat_schedule entry 'x': has no task name");
        assertBad(Map.of("x", entry("add", "5m", "sched", 1)), "beat_schedule entry 'x': unknown field 'sched'");
        assertBad(Map.of("x", entry("add", "5m", "options", Map.of("priority", 12))), "options.priority");
    }

    private void assertBad(Map<String, Object> schedule, String message) {
        assertThatThrownBy(() -> Beat.validate(config(schedule)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining(message);
    }

    @Test
    void anEntryWithoutAQueueGoesWhereTaskRoutesSay() throws Exception {
        Config c = config(Map.of("daily", entry("report.daily", "10s"), "pinned", entry("report.pinned", "10s",
                "options", Map.of("queue", "celery"))), "task_routes", "{\"report.*\": \"reports\"}");
        Beat b = beat(c, "beat1");
        tickAt(b, "2026-03-28T20:00:00.250Z");
        tickAt(b, "2026-03-28T20:00:10.001Z");
        Broker broker = Backends.openBroker(c);
        open.add(broker);
        assertThat(broker.size("reports")).isEqualTo(1); // routed
        assertThat(broker.size("celery")).isEqualTo(1); // the entry's own queue comes first
    }
}
