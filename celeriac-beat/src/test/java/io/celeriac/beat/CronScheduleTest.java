package io.celeriac.beat;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class CronScheduleTest {
    private static final ZoneId MADRID = ZoneId.of("Europe/Madrid");

    private static List<String> next(CronSchedule s, String from, int n) {
        List<String> out = new ArrayList<>();
        Instant t = Instant.parse(from);
        for (int i = 0; i < n; i++) {
            t = s.nextAfter(t);
            out.add(t.toString());
        }
        return out;
    }

    @Test
    void sixHourlySlotsStayOnLocalWallClockTimesAcrossTheSpringChange() {
        // 2026-03-29: Madrid goes from +01:00 to +02:00 at 02:00 local
        assertThat(next(new CronSchedule("0 */6 * * *", MADRID), "2026-03-28T20:00:00Z", 5)).containsExactly(
                "2026-03-28T23:00:00Z", // 00:00 +01:00
                "2026-03-29T04:00:00Z", // 06:00 +02:00
                "2026-03-29T10:00:00Z",
                "2026-03-29T16:00:00Z",
                "2026-03-29T22:00:00Z");
    }

    @Test
    void aTimeSkippedBySpringForwardFiresOnceAtTheChange() {
        assertThat(next(new CronSchedule("30 2 * * *", MADRID), "2026-03-28T12:00:00Z", 3)).containsExactly(
                "2026-03-29T01:00:00Z", // 02:30 does not exist that night: at the change, 03:00 +02:00
                "2026-03-30T00:30:00Z", // 02:30 +02:00
                "2026-03-31T00:30:00Z");
    }

    @Test
    void aTimeRepeatedByFallBackFiresOnceAtItsFirstOccurrence() {
        // 2026-10-25: Madrid goes from +02:00 back to +01:00 at 03:00 local; 02:30 happens twice
        assertThat(next(new CronSchedule("30 2 * * *", MADRID), "2026-10-24T12:00:00Z", 3)).containsExactly(
                "2026-10-25T00:30:00Z", // 02:30 +02:00, and not again at 02:30 +01:00
                "2026-10-26T01:30:00Z",
                "2026-10-27T01:30:00Z");
    }

    @Test
    void theLatestSlotAtOrBeforeAnInstantIncludesTheInstantItself() {
        CronSchedule s = new CronSchedule("*/15 * * * *", ZoneId.of("UTC"));
        assertThat(s.latestAtOrBefore(Instant.parse("2026-01-01T10:15:00Z"))).isEqualTo(Instant.parse("2026-01-01T10:15:00Z"));
        assertThat(s.latestAtOrBefore(Instant.parse("2026-01-01T10:14:59.999Z"))).isEqualTo(Instant.parse("2026-01-01T10:00:00Z"));
        CronSchedule skipped = new CronSchedule("30 2 * * *", MADRID);
        assertThat(skipped.latestAtOrBefore(Instant.parse("2026-03-29T05:00:00Z"))).isEqualTo(Instant.parse("2026-03-29T01:00:00Z"));
    }

    @Test
    void intervalSlotsAreAlignedToTheEpoch() {
        IntervalSchedule s = new IntervalSchedule(java.time.Duration.ofMinutes(5));
        assertThat(s.latestAtOrBefore(Instant.parse("2026-01-01T10:07:30Z"))).isEqualTo(Instant.parse("2026-01-01T10:05:00Z"));
        assertThat(s.nextAfter(Instant.parse("2026-01-01T10:05:00Z"))).isEqualTo(Instant.parse("2026-01-01T10:10:00Z"));
    }
}
