package io.celeriac.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.Celeriac;
import io.celeriac.testkit.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The starter on a real, private Redis: tasks run, and the health turns DOWN when Redis stops. */
class RedisHealthTest {
    @TempDir
    Path dir;

    @Test
    void theHealthIndicatorTurnsDownWhenTheBrokerStopsAndUpWhenItIsBack() throws Exception {
        try (RedisServer redis = RedisServer.start(dir, false)) {
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(CeleriacAutoConfiguration.class))
                    .withUserConfiguration(TaskBeansApp.class)
                    .withPropertyValues("celeriac.broker-url=" + redis.url(), "celeriac.worker.enabled=true",
                            "celeriac.worker-concurrency=1", "spring.lifecycle.timeout-per-shutdown-phase=5s")
                    .run(ctx -> {
                        assertThat(ctx).hasNotFailed();
                        Celeriac app = ctx.getBean(Celeriac.class);
                        assertThat(app.send("greet", "Redis").get(Duration.ofSeconds(20), String.class)).isEqualTo("Hello, Redis!");
                        CeleriacHealthIndicator indicator = ctx.getBean(CeleriacHealthIndicator.class);
                        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);

                        redis.stop();
                        Health down = indicator.health();
                        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                        assertThat(String.valueOf(down.getDetails().get("broker"))).startsWith("failing: ");

                        redis.start();
                        await().atMost(Duration.ofSeconds(20)).until(() -> indicator.health().getStatus().equals(Status.UP));
                        assertThat(app.send("greet", "again").get(Duration.ofSeconds(20), String.class)).isEqualTo("Hello, again!");
                    });
        }
    }
}
