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
