package io.celeriac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.config.Config;
import io.celeriac.config.RateLimit;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** rateLimit from @Task and from the Tasks builder, checked when the task is registered; annotations over both. */
class RateLimitOptionTest {
    public static class Limited {
        @Task(name = "limited", rateLimit = "100/m")
        public int limited() {
            return 1;
        }
    }

    public static class Malformed {
        @Task(name = "malformed", rateLimit = "10/d")
        public int malformed() {
            return 1;
        }
    }

    @Test
    void celerysFormsAreRead() {
        assertThat(RateLimit.intervalNanos("10/s")).isEqualTo(100_000_000L);
        assertThat(RateLimit.intervalNanos("100/m")).isEqualTo(600_000_000L);
        assertThat(RateLimit.intervalNanos("1000/h")).isEqualTo(3_600_000_000L);
        assertThat(RateLimit.intervalNanos("4")).isEqualTo(250_000_000L);
        assertThat(RateLimit.intervalNanos("0")).isZero();
    }

    @Test
    void theAnnotationAndTheBuilderSetItAndAMalformedOneNamesTheTask() {
        TaskRegistry r = new TaskRegistry().register(new Limited())
                .register(Tasks.task("lambda", () -> 1).rateLimit("5/s"));
        assertThat(r.require("limited").options().rateLimit()).isEqualTo("100/m");
        assertThat(r.require("lambda").options().rateLimit()).isEqualTo("5/s");
        assertThatThrownBy(() -> new TaskRegistry().register(new Malformed())).isInstanceOf(ConfigException.class)
                .hasMessage("task 'malformed' (Malformed.malformed): bad rate limit '10/d': expected N/s, N/m or N/h (e.g. 10/s)");
        assertThatThrownBy(() -> Tasks.task("fast", () -> 1).rateLimit("lots")).isInstanceOf(ConfigException.class)
                .hasMessageStartingWith("task 'fast': bad rate limit 'lots'");
    }

    @Test
    void taskAnnotationsOverrideItForTasksRegisteredBeforeAndAfter() {
        Config c = Config.builder().setRaw("task_annotations", Map.of("limited", Map.of("rate_limit", "1/s"),
                "later", Map.of("rate_limit", "2/s")), "test").build();
        TaskRegistry r = new TaskRegistry().register(new Limited());
        try (Celeriac app = Celeriac.eager(c, r)) {
            r.register(Tasks.task("later", () -> 1));
            assertThat(r.require("limited").options().rateLimit()).isEqualTo("1/s");
            assertThat(r.require("later").options().rateLimit()).isEqualTo("2/s");
        }
    }
}
