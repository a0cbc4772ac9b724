package io.celeriac.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class ConfigLoaderTest {
    @TempDir
    Path dir;

    private Path yaml(String text) throws IOException {
        return Files.writeString(dir.resolve("celeriac.yaml"), text);
    }

    @Test
    void withNothingSetEverySettingHasItsDefault() {
        Config c = ConfigLoader.load(null, dir, Map.of(), Map.of());
        assertThat(c.get(Settings.BROKER_URL)).isEqualTo("sqlite:celeriac.db");
        assertThat(c.get(Settings.TASK_MAX_RETRIES)).isEqualTo(3);
        assertThat(c.get(Settings.RESULT_EXPIRES)).isEqualTo(Duration.ofDays(1));
        assertThat(c.source(Settings.BROKER_URL)).isEqualTo("default");
    }

    @Test
    void fileThenEnvironmentThenFlagsEachOverrideTheLast() throws IOException {
        yaml("broker_url: sqlite:file.db\nworker_concurrency: 2\ntask_acks_late: false\nworker_queues: [a, b]\n");
        Config c = ConfigLoader.load(null, dir, Map.of("CELERIAC_WORKER_CONCURRENCY", "3", "HOME", "/root"),
                Map.of("broker_url", "sqlite:flag.db"));
        assertThat(c.get(Settings.BROKER_URL)).isEqualTo("sqlite:flag.db");
        assertThat(c.get(Settings.WORKER_CONCURRENCY)).isEqualTo(3);
        assertThat(c.get(Settings.TASK_ACKS_LATE)).isFalse();
        assertThat(c.get(Settings.WORKER_QUEUES)).containsExactly("a", "b");
        assertThat(c.source(Settings.WORKER_CONCURRENCY)).isEqualTo("environment variable CELERIAC_WORKER_CONCURRENCY");
    }

    @Test
    void durationsReadAsCeleryNumbersOrWithUnits() throws IOException {
        yaml("result_expires: 600\nbroker_recovery_timeout: 1.5\ntask_default_retry_delay: 5m\nworker_heartbeat_interval: 250ms\n");
        Config c = ConfigLoader.load(null, dir, Map.of(), Map.of());
        assertThat(c.get(Settings.RESULT_EXPIRES)).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.get(Settings.BROKER_RECOVERY_TIMEOUT)).isEqualTo(Duration.ofMillis(1500));
        assertThat(c.get(Settings.TASK_DEFAULT_RETRY_DELAY)).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.get(Settings.WORKER_HEARTBEAT_INTERVAL)).isEqualTo(Duration.ofMillis(250));
    }

    @Test
    void autoscaleReadsAsCeleryWritesItFromYamlEnvironmentOrFlag() throws IOException {
        assertThat(ConfigLoader.load(null, dir, Map.of(), Map.of()).get(Settings.WORKER_AUTOSCALE)).isEmpty();
        yaml("worker_autoscale: 10,3\n");
        assertThat(ConfigLoader.load(null, dir, Map.of(), Map.of()).get(Settings.WORKER_AUTOSCALE)).containsExactly(10, 3);
        yaml("worker_autoscale: 10\nworker_autoscale_keepalive: 2s\n");
        Config c = ConfigLoader.load(null, dir, Map.of(), Map.of());
        assertThat(c.get(Settings.WORKER_AUTOSCALE)).as("MIN omitted: 0, as Celery").containsExactly(10, 0);
        assertThat(c.get(Settings.WORKER_AUTOSCALE_KEEPALIVE)).isEqualTo(Duration.ofSeconds(2));
        yaml("worker_autoscale: [6, 1]\n");
        assertThat(ConfigLoader.load(null, dir, Map.of(), Map.of()).get(Settings.WORKER_AUTOSCALE)).containsExactly(6, 1);
        assertThat(ConfigLoader.load(null, dir, Map.of("CELERIAC_WORKER_AUTOSCALE", ""), Map.of()).get(Settings.WORKER_AUTOSCALE))
                .as("empty: off").isEmpty();
        assertThat(ConfigLoader.load(null, dir, Map.of(), Map.of("worker_autoscale", " 4 , 2 ")).get(Settings.WORKER_AUTOSCALE))
                .containsExactly(4, 2);
        for (String bad : new String[] {"2,4", "0", "x", "4,", "4,2,1", "-3"}) {
            assertThatThrownBy(() -> ConfigLoader.load(null, dir, Map.of(), Map.of("worker_autoscale", bad)))
                    .as(bad).isInstanceOf(ConfigException.class).hasMessageStartingWith("setting 'worker_autoscale': '" + bad + "'");
        }
    }

    @Test
    void anUnknownSettingIsRejectedWithTheNearestValidName() throws IOException {
        yaml("worker_concurency: 2\n");
        assertThatThrownBy(() -> ConfigLoader.load(null, dir, Map.of(), Map.of()))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("unknown setting 'worker_concurency'")
                .hasMessageContaining("did you mean 'worker_concurrency'?");
        assertThatThrownBy(() -> ConfigLoader.load(null, Path.of("/nonexistent"), Map.of("CELERIAC_BROKER_ULR", "x"), Map.of()))
                .hasMessageContaining("'broker_ulr' (from environment variable CELERIAC_BROKER_ULR); did you mean 'broker_url'?");
    }

    @Test
    void invalidValuesAreRejectedNotClamped() throws IOException {
        yaml("worker_concurrency: 0\n");
        assertThatThrownBy(() -> ConfigLoader.load(null, dir, Map.of(), Map.of()))
                .hasMessageContaining("setting 'worker_concurrency': 0 is not a valid value; expected an integer from 1 to 10000");
        assertThatThrownBy(() -> ConfigLoader.load(null, Path.of("/nonexistent"), Map.of(), Map.of("task_acks_late", "maybe")))
                .hasMessageContaining("'maybe' is not a valid value; expected true or false");
        assertThatThrownBy(() -> ConfigLoader.load(null, Path.of("/nonexistent"), Map.of(), Map.of("result_expires", "-5")))
                .hasMessageContaining("setting 'result_expires'");
    }

    @Test
    void aFileThatIsMissingOrNotYamlSaysSoOnOneLine() throws IOException {
        assertThatThrownBy(() -> ConfigLoader.load(dir.resolve("nope.yaml"), dir, Map.of(), Map.of()))
                .hasMessage("config file '" + dir.resolve("nope.yaml") + "' does not exist");
        Path bad = yaml("broker_url: [unclosed\n");
        assertThatThrownBy(() -> ConfigLoader.load(bad, dir, Map.of(), Map.of()))
                .hasMessageStartingWith("config file '" + bad + "' is not valid YAML at line")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Path list = yaml("- a\n- b\n");
        assertThatThrownBy(() -> ConfigLoader.load(list, dir, Map.of(), Map.of()))
                .hasMessageContaining("must be a mapping of setting names to values");
    }

    @Test
    void theConfigFileCanComeFromTheEnvironment() throws IOException {
        Path other = Files.writeString(dir.resolve("other.yaml"), "task_default_queue: q1\n");
        Config c = ConfigLoader.load(null, Path.of("/nonexistent"), Map.of("CELERIAC_CONFIG", other.toString()), Map.of());
        assertThat(c.get(Settings.TASK_DEFAULT_QUEUE)).isEqualTo("q1");
    }

    @Test
    void listsAcceptCommaSeparatedStrings() {
        Config c = ConfigLoader.load(null, dir, Map.of("CELERIAC_WORKER_QUEUES", "a, b,c"), Map.of());
        assertThat(c.get(Settings.WORKER_QUEUES)).isEqualTo(List.of("a", "b", "c"));
    }
}
