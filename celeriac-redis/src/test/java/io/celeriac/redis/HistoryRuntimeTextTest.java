package io.celeriac.redis;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The task history's runtime text: read back by Double.valueOf as the very same double. */
class HistoryRuntimeTextTest {

    @Test
    void runtimesKeptToTheMicrosecondAreWrittenByHandAndReadBackExactly() {
        assertThat(RedisTaskHistory.runtime(0.25)).isEqualTo("0.25");
        assertThat(RedisTaskHistory.runtime(0.000001)).isEqualTo("0.000001");
        assertThat(RedisTaskHistory.runtime(0.0)).isEqualTo("0.0");
        assertThat(RedisTaskHistory.runtime(12.0)).isEqualTo("12.0");
        assertThat(RedisTaskHistory.runtime(null)).isNull();
        SplittableRandom random = new SplittableRandom(14);
        for (int i = 0; i < 100_000; i++) {
            long us = i < 50_000 ? random.nextLong(10_000_000L) : random.nextLong(1L << 40);
            double v = us / 1e6;
            assertThat(Double.valueOf(RedisTaskHistory.runtime(v))).isEqualTo(v);
        }
    }

    @Test
    void otherRuntimesAreWrittenAsDoubleToStringWrites() {
        for (double v : new double[] {0.1234567891, 1e-9, -0.5, 1e300, Double.NaN}) {
            assertThat(RedisTaskHistory.runtime(v)).isEqualTo(Double.toString(v));
        }
    }
}
