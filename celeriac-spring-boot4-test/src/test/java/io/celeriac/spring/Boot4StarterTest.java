package io.celeriac.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.Celeriac;
import io.celeriac.testkit.RedisServer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.SpringBootVersion;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The starter on Spring Boot 4: the embedded worker runs a bean's task, meters count it, Boot 4's health reports it. */
class Boot4StarterTest {
    @TempDir
    Path dir;

    @Test
    void theEmbeddedWorkerRunsABeanTaskAndBoot4sHealthTurnsDownWhenRedisStops() throws Exception {
        assertThat(SpringBootVersion.getVersion()).startsWith("4.");
        try (RedisServer redis = RedisServer.start(dir, false)) {
            new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(CeleriacAutoConfiguration.class))
                    .withUserConfiguration(TaskBeansApp.class)
                    .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                    .withPropertyValues("celeriac.broker-url=" + redis.url(), "celeriac.worker.enabled=true",
                            "celeriac.worker-concurrency=1", "spring.lifecycle.timeout-per-shutdown-phase=5s")
                    .run(ctx -> {
                        assertThat(ctx).hasNotFailed();
                        Celeriac app = ctx.getBean(Celeriac.class);
                        assertThat(app.send("greet", "Boot 4").get(Duration.ofSeconds(20), String.class)).isEqualTo("Hello, Boot 4!");
                        assertThat(ctx.getBean(MeterRegistry.class).get("celeriac.tasks")
                                .tags("task", "greet", "outcome", "success").counter().count()).isEqualTo(1);

                        assertThat(ctx.getBean("celeriacHealthIndicator")).isInstanceOf(CeleriacHealthIndicator4.class); // not the Boot 3 one
                        HealthIndicator indicator = ctx.getBean("celeriacHealthIndicator", HealthIndicator.class);
                        assertThat(indicator.health().getStatus()).isEqualTo(Status.UP);
                        redis.stop();
                        Health down = indicator.health();
                        assertThat(down.getStatus()).isEqualTo(Status.DOWN);
                        assertThat(String.valueOf(down.getDetails().get("broker"))).startsWith("failing: ");
                        redis.start();
                    });
        }
    }
}
