package io.celeriac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RetryPolicyTest {
    private static RetryPolicy policy(Duration base, boolean jitter) {
        return new RetryPolicy(3, List.of(Exception.class), List.of(IllegalArgumentException.class), base,
                Duration.ofSeconds(600), jitter, Duration.ofSeconds(180));
    }

    @Test
    void backsOffExponentiallyFromTheBaseUpToTheCap() {
        RetryPolicy p = policy(Duration.ofSeconds(1), false);
        assertThat(p.delay(0, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(1));
        assertThat(p.delay(1, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(2));
        assertThat(p.delay(2, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(4));
        assertThat(p.delay(9, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(512));
        assertThat(p.delay(10, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(600));
        assertThat(p.delay(100, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(600));
    }

    @Test
    void jitterDrawsEachDelayBetweenZeroAndTheBackoff() {
        RetryPolicy p = policy(Duration.ofSeconds(1), true);
        SplittableRandom r = new SplittableRandom(42);
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < 1000; i++) {
            Duration d = p.delay(3, r);
            assertThat(d).isBetween(Duration.ZERO, Duration.ofSeconds(8));
            seen.add(d.toMillis());
        }
        assertThat(seen.size()).isGreaterThan(900); // spread, not a handful of values
    }

    @Test
    void withoutBackoffEveryRetryWaitsTheDefaultDelay() {
        RetryPolicy p = policy(Duration.ZERO, true);
        assertThat(p.delay(0, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(180));
        assertThat(p.delay(5, new SplittableRandom(1))).isEqualTo(Duration.ofSeconds(180));
    }

    @Test
    void retriesOnlyTheListedExceptionsAndNeverTheExcludedOnes() {
        RetryPolicy p = policy(Duration.ofSeconds(1), true);
        assertThat(p.autoretries(new IOException("down"))).isTrue();
        assertThat(p.autoretries(new UncheckedIOException(new IOException()))).isTrue();
        assertThat(p.autoretries(new IllegalArgumentException("bad input"))).isFalse();
        assertThat(p.autoretries(new OutOfMemoryError())).isFalse();
    }

    @Test
    void theSeedsAppWideSettingsApplyToTasksThatSetNothing() {
        Config c = Config.builder()
                .set(Settings.TASK_AUTORETRY_FOR, List.of("Exception"))
                .set(Settings.TASK_RETRY_BACKOFF, Duration.ofSeconds(1))
                .set(Settings.TASK_RETRY_BACKOFF_MAX, Duration.ofSeconds(600))
                .set(Settings.TASK_MAX_RETRIES, 3)
                .build();
        RetryPolicy p = RetryPolicy.of(TaskOptions.DEFAULTS, c);
        assertThat(p.maxRetries()).isEqualTo(3);
        assertThat(p.autoretries(new IOException())).isTrue();
        assertThat(p.maxDelay(2)).isEqualTo(Duration.ofSeconds(4));
        RetryPolicy own = RetryPolicy.of(TaskOptions.builder().maxRetries(7).autoretryFor(List.of(IOException.class)).build(), c);
        assertThat(own.maxRetries()).isEqualTo(7);
        assertThat(own.autoretries(new IllegalStateException())).isFalse();
    }

    @Test
    void anUnknownExceptionClassInTheSettingsIsAConfigError() {
        Config c = Config.builder().set(Settings.TASK_AUTORETRY_FOR, List.of("NoSuchException")).build();
        assertThatThrownBy(() -> RetryPolicy.of(TaskOptions.DEFAULTS, c))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("setting 'task_autoretry_for': no exception class 'NoSuchException'");
        Config notExc = Config.builder().set(Settings.TASK_AUTORETRY_FOR, List.of("java.lang.String")).build();
        assertThatThrownBy(() -> RetryPolicy.of(TaskOptions.DEFAULTS, notExc)).hasMessageContaining("is not an exception class");
    }

    @Test
    void aSoftLimitMustBeShorterThanTheHardOne() {
        assertThatThrownBy(() -> TaskOptions.builder().softTimeLimit(Duration.ofMinutes(5)).timeLimit(Duration.ofMinutes(4)).build())
                .hasMessageContaining("softTimeLimit (5m) must be shorter than timeLimit (4m)");
    }
}
