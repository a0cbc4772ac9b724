package io.celeriac.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.celeriac.Celeriac;
import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The celeriac.* properties of a real application context, read into the settings table. */
class CeleriacPropertiesTest {
    @TempDir
    Path dir;

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner().withConfiguration(AutoConfigurations.of(CeleriacAutoConfiguration.class))
                .withPropertyValues("celeriac.broker-url=sqlite:" + dir.resolve("broker.db"));
    }

    @Test
    void propertiesBindOneToOneOntoTheSettingsInEachSpelling() {
        runner().withPropertyValues("celeriac.task-max-retries=5", "celeriac.task_default_queue=facts",
                        "celeriac.workerPrefetchMultiplier=2", "celeriac.result-expires=2h", "celeriac.worker-queues=a,b",
                        "celeriac.task-autoretry-for[0]=java.io.IOException", "celeriac.task-autoretry-for[1]=TimeoutError",
                        "celeriac.beat-schedule.scrape.task=scrape_all_sources", "celeriac.beat-schedule.scrape.schedule=300",
                        "celeriac.health-check-jdbc-url=${app.db}", "app.db=jdbc:sqlite:app.db")
                .run(ctx -> {
                    assertThat(ctx).hasNotFailed();
                    Config c = ctx.getBean(Celeriac.class).config();
                    assertThat(c.get(Settings.BROKER_URL)).isEqualTo("sqlite:" + dir.resolve("broker.db"));
                    assertThat(c.get(Settings.TASK_MAX_RETRIES)).isEqualTo(5);
                    assertThat(c.get(Settings.TASK_DEFAULT_QUEUE)).isEqualTo("facts");
                    assertThat(c.get(Settings.WORKER_PREFETCH_MULTIPLIER)).isEqualTo(2);
                    assertThat(c.get(Settings.RESULT_EXPIRES)).isEqualTo(Duration.ofHours(2));
                    assertThat(c.get(Settings.WORKER_QUEUES)).containsExactly("a", "b");
                    assertThat(c.get(Settings.TASK_AUTORETRY_FOR)).containsExactly("java.io.IOException", "TimeoutError");
                    assertThat(c.get(Settings.BEAT_SCHEDULE))
                            .isEqualTo(Map.of("scrape", Map.of("task", "scrape_all_sources", "schedule", "300")));
                    assertThat(c.get(Settings.HEALTH_CHECK_JDBC_URL)).isEqualTo("jdbc:sqlite:app.db");
                    assertThat(c.source(Settings.TASK_MAX_RETRIES)).startsWith("property celeriac.task-max-retries");
                    assertThat(ctx).doesNotHaveBean(EmbeddedWorker.class).doesNotHaveBean(EmbeddedBeat.class);
                });
    }

    @Test
    void aMappingTakesOneJsonValueToo() {
        runner().withPropertyValues("celeriac.task-annotations={\"add\": {\"rate_limit\": \"10/s\"}}").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(Celeriac.class).config().get(Settings.TASK_ANNOTATIONS))
                    .isEqualTo(Map.of("add", Map.of("rate_limit", "10/s")));
        });
    }

    @Test
    void anUnknownPropertyIsRejectedWithTheNearestName() {
        runner().withPropertyValues("celeriac.broker-ulr=redis://localhost").run(ctx -> {
            assertThat(ctx).hasFailed();
            ConfigException e = rootConfigException(ctx.getStartupFailure());
            assertThat(e.getMessage()).startsWith("unknown property 'celeriac.broker-ulr'")
                    .endsWith("did you mean 'celeriac.broker-url'?");
            FailureAnalysis analysis = new CeleriacFailureAnalyzer().analyze(ctx.getStartupFailure());
            assertThat(analysis.getDescription()).isEqualTo("Celeriac: " + e.getMessage());
        });
        runner().withPropertyValues("celeriac.worker.enabeld=true").run(ctx ->
                assertThat(rootConfigException(ctx.getStartupFailure()).getMessage())
                        .contains("did you mean 'celeriac.worker.enabled'?"));
    }

    @Test
    void aValueTheSettingRejectsStopsTheApplicationWithItsReason() {
        runner().withPropertyValues("celeriac.task-max-retries=-1").run(ctx ->
                assertThat(rootConfigException(ctx.getStartupFailure()).getMessage())
                        .contains("task_max_retries").contains("property celeriac.task-max-retries"));
    }

    @Test
    void theProcessPoolIsRefusedAtStartupNotAtTheFirstTask() {
        runner().withPropertyValues("celeriac.worker.enabled=true", "celeriac.worker-pool=process").run(ctx -> {
            assertThat(ctx).hasFailed();
            assertThat(rootConfigException(ctx.getStartupFailure()).getMessage())
                    .startsWith("celeriac.worker-pool=process (property celeriac.worker-pool")
                    .contains("cannot run inside a Spring application").contains("celeriac.worker-pool=threads");
        });
    }

    @Test
    void theEmbeddedWorkerRunsThreadsUnlessToldOtherwise() {
        runner().withPropertyValues("celeriac.worker.enabled=true").run(ctx -> {
            assertThat(ctx).hasNotFailed();
            assertThat(ctx.getBean(EmbeddedWorker.class).worker().options().pool()).isEqualTo("threads");
        });
    }

    @Test
    void theIdeMetadataIsTheSettingsTable() throws Exception {
        // the starter's own copy (every Boot jar has a file of that name): in its classes folder or its jar
        java.net.URL own = PropertiesMetadata.class.getProtectionDomain().getCodeSource().getLocation();
        String base = own.toString().endsWith("/") ? own.toString() : "jar:" + own + "!/";
        String inJar;
        try (var in = new java.net.URL(base + "META-INF/spring-configuration-metadata.json").openStream()) {
            inJar = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        }
        assertThat(inJar).as("the jar's META-INF/spring-configuration-metadata.json is not the settings table's (the build renders it)").isEqualTo(PropertiesMetadata.render());
        assertThat(inJar).contains("\"name\" : \"celeriac.broker-url\"", "\"name\" : \"celeriac.worker.enabled\"");
        assertThat(CeleriacProperties.propertyNames()).hasSize(Settings.all().size() + 2);
        assertThat(List.of(CeleriacProperties.settingName("brokerUrl"), CeleriacProperties.settingName("broker-url")))
                .containsOnly("broker_url");
    }

    static ConfigException rootConfigException(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof ConfigException e) {
                return e;
            }
        }
        throw new AssertionError("no ConfigException in", t);
    }
}
