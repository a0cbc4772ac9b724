package io.celeriac.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.TaskState;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ConfigurableApplicationContext;

/** The embedded worker in a real application context, on a SQLite broker. */
class EmbeddedWorkerTest {
    @TempDir
    Path dir;

    private ApplicationContextRunner runner() {
        // Boot's metrics auto-configuration: its registry, and the MeterBinder beans bound to it
        return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(CeleriacAutoConfiguration.class,
                        MetricsAutoConfiguration.class, CompositeMeterRegistryAutoConfiguration.class,
                        SimpleMetricsExportAutoConfiguration.class))
                .withUserConfiguration(TaskBeansApp.class)
                .withPropertyValues("celeriac.broker-url=sqlite:" + dir.resolve("broker.db"), "celeriac.worker.enabled=true",
                        "celeriac.worker-concurrency=2", "celeriac.worker-heartbeat-interval=0.5",
                        "celeriac.broker-recovery-timeout=2");
    }

    @Test
    void aBeanTaskWithAnInjectedDependencyRunsOnTheEmbeddedWorkerAndItsResultComesBack() {
        runner().run(ctx -> {
            assertThat(ctx).hasNotFailed();
            Celeriac app = ctx.getBean(Celeriac.class);
            assertThat(app.registry().names()).contains("greet", "nap", "shout");
            assertThat(app.send("greet", "Ada").get(Duration.ofSeconds(20), String.class)).isEqualTo("Hello, Ada!");
            assertThat(ctx.getBean(TaskBeansApp.Greeter.class).greeted).hasValue(1);
            assertThat(app.send("shout", "Grace").get(Duration.ofSeconds(20), String.class)).isEqualTo("HELLO, GRACE!");
            // a typed client bean of the same interface sends, and is not registered as the task's implementation
            assertThat(ctx.getBean("shoutingClient", TaskBeansApp.Shouting.class).shout("Alan")).isEqualTo("HELLO, ALAN!");

            assertThat(ctx.getBean(CeleriacHealthIndicator.class).health().getStatus()).isEqualTo(Status.UP);
            assertThat(ctx.getBean(CeleriacHealthIndicator.class).health().getDetails()).containsKeys("broker", "result_backend",
                    "worker");
        });
    }

    @Test
    void theMicrometerMetersCountTheTasksByOutcome() {
        runner().run(ctx -> {
            Celeriac app = ctx.getBean(Celeriac.class);
            MeterRegistry meters = ctx.getBean(MeterRegistry.class);
            app.send("greet", "Ada").get(Duration.ofSeconds(20));
            app.send("greet", "Grace").get(Duration.ofSeconds(20));
            AsyncResult bad = app.send("greet"); // a missing argument: FAILURE TypeError
            await().atMost(Duration.ofSeconds(20)).until(bad::ready);
            await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                assertThat(meters.get("celeriac.tasks").tags("task", "greet", "outcome", "success").counter().count()).isEqualTo(2);
                assertThat(meters.get("celeriac.tasks").tags("task", "greet", "outcome", "failure").counter().count()).isEqualTo(1);
            });
            assertThat(meters.get("celeriac.task.runtime").tags("task", "greet").timer().count()).isEqualTo(3);
            String node = ctx.getBean(EmbeddedWorker.class).worker().nodeName();
            assertThat(meters.get("celeriac.pool.size").tags("worker", node).gauge().value()).isEqualTo(2);
            assertThat(meters.get("celeriac.queue.length").tags("queue", "celery").gauge().value()).isEqualTo(0);
        });
    }

    @Test
    void beatInsideTheApplicationLeadsAndSendsItsSchedule() {
        runner().withPropertyValues("celeriac.beat.enabled=true", "celeriac.beat-schedule.hello.task=greet",
                "celeriac.beat-schedule.hello.schedule=1", "celeriac.beat-schedule.hello.args[0]=beat").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            EmbeddedBeat beat = ctx.getBean(EmbeddedBeat.class);
            TaskBeansApp.Greeter greeter = ctx.getBean(TaskBeansApp.Greeter.class);
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(greeter.greeted.get()).isGreaterThanOrEqualTo(2));
            assertThat(beat.beat().isLeader()).isTrue();
        });
    }

    @Test
    void closingTheContextDuringRunningTasksLosesNone() {
        List<String> ids = new ArrayList<>();
        // a short shutdown phase: the warm shutdown gets 1 s, then what still runs goes back to the queue
        ApplicationContextRunner first = runner().withPropertyValues("spring.lifecycle.timeout-per-shutdown-phase=2s");
        first.run(ctx -> {
            Celeriac app = ctx.getBean(Celeriac.class);
            ids.add(app.send("nap", 0.2).id()); // finishes within the warm shutdown
            for (int i = 0; i < 5; i++) {
                ids.add(app.send("nap", 3.0).id()); // running (given back at the cold step) or buffered (given back at once)
            }
            EmbeddedWorker worker = ctx.getBean(EmbeddedWorker.class);
            await().atMost(Duration.ofSeconds(20)).until(() -> worker.worker().stats().active() == 2);
            ((ConfigurableApplicationContext) ctx.getSourceApplicationContext()).close();
            assertThat(worker.isRunning()).isFalse();
        });
        Config config = Config.builder().setRaw("broker_url", "sqlite:" + dir.resolve("broker.db"), "test").build();
        try (Celeriac reader = Celeriac.connect(config, new io.celeriac.TaskRegistry())) {
            long done = ids.stream().filter(id -> reader.result(id).state() == TaskState.SUCCESS).count();
            long waiting = reader.broker().size(config.get(Settings.TASK_DEFAULT_QUEUE));
            assertThat(done + waiting).as("every task either finished or is back on its queue").isGreaterThanOrEqualTo(ids.size());
        }
        runner().run(ctx -> {
            Celeriac app = ctx.getBean(Celeriac.class);
            for (String id : ids) {
                assertThat(app.result(id).get(Duration.ofSeconds(30), Double.class)).isPositive();
            }
        });
    }
}
