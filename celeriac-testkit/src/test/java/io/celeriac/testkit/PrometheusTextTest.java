package io.celeriac.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The strict parser accepts the format and refuses what is malformed. */
class PrometheusTextTest {
    private static final String GOOD = """
            # HELP jobs_total Jobs done, with a \\\\ and a \\n in its help
            # TYPE jobs_total counter
            jobs_total{task="a\\"b\\\\c\\nd",outcome="success"} 3.0
            jobs_total{task="x",outcome="failure",} 1 1700000000000
            # A plain comment
            # TYPE runtime_seconds histogram
            runtime_seconds_bucket{task="x",le="0.5"} 1
            runtime_seconds_bucket{task="x",le="+Inf"} 2
            runtime_seconds_count{task="x"} 2
            runtime_seconds_sum{task="x"} 1.25
            up NaN
            temperature -Inf
            """;

    @Test
    void readsFamiliesLabelsAndValues() {
        PrometheusText p = PrometheusText.parse(GOOD);
        assertThat(p.families().keySet()).containsExactly("jobs_total", "runtime_seconds", "up", "temperature");
        assertThat(p.families().get("jobs_total").help()).isEqualTo("Jobs done, with a \\ and a \n in its help");
        assertThat(p.value("jobs_total", Map.of("task", "a\"b\\c\nd"))).isEqualTo(3.0);
        assertThat(p.samples("jobs_total", Map.of("task", "x")).get(0).timestamp()).isEqualTo(1700000000000L);
        assertThat(p.sum("jobs_total", Map.of())).isEqualTo(4.0);
        assertThat(p.value("runtime_seconds_count", Map.of("task", "x"))).isEqualTo(2.0);
        assertThat(p.families().get("runtime_seconds").type()).isEqualTo("histogram");
        assertThat(p.value("up", Map.of())).isNaN();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "x{a=\"1\"} 1", // no final line feed
            "1x 1\n", // bad metric name
            "x{a=1} 1\n", // unquoted label value
            "x{a=\"1} 1\n", // value not closed
            "x{a=\"\\t\"} 1\n", // unknown escape
            "x{a=\"1\" b=\"2\"} 1\n", // labels not separated
            "x{a=\"1\",a=\"2\"} 1\n", // label twice
            "x{1a=\"1\"} 1\n", // bad label name
            "x one\n", // not a number
            "x 1 2 3\n", // too many fields
            "x 1 1.5\n", // timestamp not an integer
            "x1\n", // no value
            "# TYPE x countr\nx 1\n", // unknown type
            "# TYPE x counter\n# TYPE x counter\nx 1\n", // TYPE twice
            "x 1\n# TYPE x counter\n", // TYPE after samples
            "x 1\nx 2\n", // series twice
            "x{a=\"1\"} 1\ny 1\nx{a=\"2\"} 1\n", // not one group
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n", // no +Inf
            "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n", // count not +Inf
            "# TYPE h histogram\nh_bucket 1\n", // bucket without le
            "# TYPE h histogram\nh 1\n", // histogram sample without suffix
            "# HELP x a \\t\nx 1\n", // bad HELP escape
    })
    void refusesWhatIsMalformed(String text) {
        assertThatThrownBy(() -> PrometheusText.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }
}
