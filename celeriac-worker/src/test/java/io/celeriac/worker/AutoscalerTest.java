package io.celeriac.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.testkit.ManualClock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The autoscaler's decision alone, on a manual clock: grow at once, shrink after the keepalive, within [min, max]. */
class AutoscalerTest {
    private final ManualClock clock = new ManualClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final Autoscaler scaler = new Autoscaler(6, 1, Duration.ofSeconds(30), clock);
    private int slots = 1;

    /** Applies the decision for {@code qty} held messages, as the worker does; returns the change. */
    private int tick(int qty) {
        int delta = scaler.decide(qty, slots);
        slots += delta;
        return delta;
    }

    @Test
    void growsAtOnceToTheBacklogButNotPastMax() {
        assertThat(tick(0)).isZero();
        assertThat(tick(3)).isEqualTo(2);
        assertThat(slots).isEqualTo(3);
        assertThat(tick(24)).isEqualTo(3);
        assertThat(slots).isEqualTo(6);
        assertThat(tick(24)).isZero();
    }

    @Test
    void shrinksInOneStepOnlyAfterTheKeepaliveAndNeverBelowMin() {
        tick(10);
        assertThat(slots).isEqualTo(6);
        clock.advance(Duration.ofSeconds(29));
        assertThat(tick(0)).as("idle, but the keepalive has not passed since the pool was last full").isZero();
        clock.advance(Duration.ofSeconds(1));
        assertThat(tick(0)).isEqualTo(-5);
        assertThat(slots).isEqualTo(1);
        clock.advance(Duration.ofMinutes(10));
        assertThat(tick(0)).as("never below min").isZero();
    }

    @Test
    void shrinksToWhatIsStillHeldAndTheKeepaliveCountsFromTheLastMomentThePoolWasFull() {
        tick(6);
        clock.advance(Duration.ofSeconds(25));
        assertThat(tick(6)).as("still fully used").isZero();
        clock.advance(Duration.ofSeconds(25));
        assertThat(tick(2)).as("50 s after the growth, 25 s after the pool was last full").isZero();
        clock.advance(Duration.ofSeconds(5));
        assertThat(tick(2)).isEqualTo(-4);
        assertThat(slots).isEqualTo(2);
    }

    @Test
    void aGrowthRestartsTheKeepalive() {
        tick(3);
        clock.advance(Duration.ofSeconds(20));
        tick(6);
        clock.advance(Duration.ofSeconds(20));
        assertThat(tick(0)).isZero();
        clock.advance(Duration.ofSeconds(10));
        assertThat(tick(0)).isEqualTo(-5);
    }

    @Test
    void aNewRangeTakesEffectAtOnce() {
        tick(6);
        assertThat(scaler.update(3, null)).containsExactly(3, 1);
        assertThat(tick(6)).as("above the new max: down to it now, no keepalive").isEqualTo(-3);
        assertThat(scaler.update(null, 2)).containsExactly(3, 2);
        tick(0);
        clock.advance(Duration.ofMinutes(1));
        assertThat(tick(0)).isEqualTo(-1);
        assertThat(slots).isEqualTo(2);
        assertThat(scaler.update(8, 4)).containsExactly(8, 4);
        assertThat(tick(0)).as("below the new min: up to it now").isEqualTo(2);
        assertThatThrownBy(() -> scaler.update(2, null)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("min ≤ max");
        assertThat(scaler.max()).isEqualTo(8);
    }

    @Test
    void minZeroStartsEmptyAndGrowsOnTheFirstMessage() {
        Autoscaler zero = new Autoscaler(4, 0, Duration.ofSeconds(30), clock);
        assertThat(zero.decide(0, 0)).isZero();
        assertThat(zero.decide(1, 0)).isEqualTo(1);
        clock.advance(Duration.ofSeconds(30));
        assertThat(zero.decide(0, 1)).isEqualTo(-1);
    }

    @Test
    void growingKeepsSlotsStillDueToRetire() {
        AtomicInteger retiring = new AtomicInteger(3);
        assertThat(Autoscaler.keepRetiring(retiring, 2)).isZero();
        assertThat(retiring).hasValue(1);
        assertThat(Autoscaler.keepRetiring(retiring, 4)).isEqualTo(3);
        assertThat(retiring).hasValue(0);
        assertThat(Autoscaler.keepRetiring(retiring, -2)).isZero();
    }
}
