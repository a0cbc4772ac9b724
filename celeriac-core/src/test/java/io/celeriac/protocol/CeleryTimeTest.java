package io.celeriac.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class CeleryTimeTest {
    private static final Instant T = Instant.parse("2026-11-24T13:20:29.787612Z");

    @Test
    void writesIsoWithMicrosecondsAndAnOffsetLikePython() {
        assertThat(CeleryTime.format(T)).isEqualTo("2026-11-24T13:20:29.787612+00:00");
        assertThat(CeleryTime.formatNaive(T)).isEqualTo("2026-11-24T13:20:29.787612");
    }

    @Test
    void theNaiveFormWrittenByHandIsTheFormattersOverManyInstants() {
        java.time.format.DateTimeFormatter naive = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSS");
        java.util.Random random = new java.util.Random(16);
        java.util.List<Instant> instants = new java.util.ArrayList<>(java.util.List.of(Instant.EPOCH,
                Instant.parse("1000-01-01T00:00:00Z"), Instant.parse("9999-12-31T23:59:59.999999999Z"),
                Instant.parse("0999-12-31T23:59:59.5Z"), Instant.parse("+10000-01-01T00:00:00.000001Z"), T.plusNanos(999)));
        for (int i = 0; i < 10_000; i++) {
            instants.add(Instant.ofEpochSecond(random.nextLong(-40_000_000_000L, 300_000_000_000L), random.nextInt(1_000_000_000)));
        }
        for (Instant t : instants) {
            assertThat(CeleryTime.formatNaive(t)).as("%s", t)
                    .isEqualTo(naive.format(t.truncatedTo(java.time.temporal.ChronoUnit.MICROS).atOffset(java.time.ZoneOffset.UTC)));
        }
    }

    @Test
    void readsEveryFormPythonWrites() {
        assertThat(CeleryTime.parse("2026-11-24T13:20:29.787612+00:00")).isEqualTo(T);
        assertThat(CeleryTime.parse("2026-11-24T13:20:29.787612")).isEqualTo(T);
        assertThat(CeleryTime.parse("2026-11-24T13:20:29.787612Z")).isEqualTo(T);
        assertThat(CeleryTime.parse("2026-11-24T14:20:29.787612+01:00")).isEqualTo(T);
        assertThat(CeleryTime.parse("2026-11-24T14:20:29.787612+0100")).isEqualTo(T);
        assertThat(CeleryTime.parse("2026-11-24T13:20:29")).isEqualTo(Instant.parse("2026-11-24T13:20:29Z"));
        assertThat(CeleryTime.parse("2026-11-24 13:20:29")).isEqualTo(Instant.parse("2026-11-24T13:20:29Z"));
    }

    @Test
    void namesTheTextItCannotRead() {
        assertThatThrownBy(() -> CeleryTime.parse("soon")).hasMessageContaining("'soon'");
    }
}
