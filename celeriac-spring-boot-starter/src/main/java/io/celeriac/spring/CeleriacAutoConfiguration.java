package io.celeriac.spring;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.worker.WorkerOptions;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Celeriac in a Spring Boot application: one {@link Celeriac} client from the {@code celeriac.*}
 * properties ({@link CeleriacProperties}), the {@code @Task} methods of the application's beans in
 * its {@link TaskRegistry}, an {@link EmbeddedWorker} when {@code celeriac.worker.enabled=true}, an
 * {@link EmbeddedBeat} when {@code celeriac.beat.enabled=true}, and with Actuator the
 * {@code celeriac} health ({@link CeleriacHealthIndicator}) and the worker's and queues' meters on
 * the application's {@link MeterRegistry}. Each bean gives way to one the application defines.
 */
@AutoConfiguration
@ConditionalOnClass(Celeriac.class)
public class CeleriacAutoConfiguration {

    /** Static: a bean post-processor is made before the other beans. */
    @Bean
    static TaskBeans celeriacTaskBeans(ObjectProvider<TaskRegistry> registry) {
        return new TaskBeans(registry);
    }

    /**
     * @param env the application's environment
     * @return the settings read from it
     */
    @Bean
    @ConditionalOnMissingBean
    public CeleriacProperties celeriacProperties(ConfigurableEnvironment env) {
        return CeleriacProperties.from(env);
    }

    /** @return the tasks: the beans' {@code @Task} methods are added as the beans are made */
    @Bean
    @ConditionalOnMissingBean
    public TaskRegistry celeriacTaskRegistry() {
        return new TaskRegistry();
    }

    /**
     * @param properties the settings
     * @param registry   the tasks
     * @return the client, open on {@code broker_url} and {@code result_backend}; closed with the context
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Celeriac celeriac(CeleriacProperties properties, TaskRegistry registry) {
        return Celeriac.open(properties.config(), registry);
    }

    /**
     * @param app    the client
     * @param meters the application's meter registry, when it has one
     * @param env    for {@code spring.lifecycle.timeout-per-shutdown-phase}
     * @return the embedded worker, started and stopped with the context
     */
    @Bean
    @ConditionalOnProperty(name = CeleriacProperties.WORKER_ENABLED, havingValue = "true")
    public EmbeddedWorker celeriacWorker(Celeriac app, ObjectProvider<MeterRegistry> meters, Environment env) {
        Duration phase = Binder.get(env).bind("spring.lifecycle.timeout-per-shutdown-phase", Duration.class)
                .orElse(Duration.ofSeconds(30));
        return new EmbeddedWorker(app, meters.getIfAvailable(), phase);
    }

    /**
     * @param app the client
     * @return beat, started and stopped with the context
     */
    @Bean
    @ConditionalOnProperty(name = CeleriacProperties.BEAT_ENABLED, havingValue = "true")
    public EmbeddedBeat celeriacBeat(Celeriac app) {
        return new EmbeddedBeat(app, "beat-" + WorkerOptions.from(app.config()).nodeName());
    }

    /**
     * @param app the client
     * @return the queues' lengths, bound by Actuator to its registry
     */
    @Bean
    @ConditionalOnClass(MeterBinder.class)
    public MeterBinder celeriacQueueMeters(Celeriac app) {
        return registry -> QueueMeters.bind(app, registry);
    }

    /** Actuator's {@code celeriac} health, when the application has Actuator (Boot 3). */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.health.HealthIndicator")
    static class Health {
        @Bean
        @ConditionalOnMissingBean(name = "celeriacHealthIndicator")
        CeleriacHealthIndicator celeriacHealthIndicator(Celeriac app, ObjectProvider<EmbeddedWorker> worker) {
            return new CeleriacHealthIndicator(app, worker.getIfAvailable());
        }
    }

    /** Actuator's {@code celeriac} health on Boot 4, whose health API is {@code org.springframework.boot.health}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    @ConditionalOnMissingClass("org.springframework.boot.actuate.health.HealthIndicator") // Boot 3's, when both are there
    static class Health4 {
        @Bean
        @ConditionalOnMissingBean(name = "celeriacHealthIndicator")
        CeleriacHealthIndicator4 celeriacHealthIndicator(Celeriac app, ObjectProvider<EmbeddedWorker> worker) {
            return new CeleriacHealthIndicator4(app, worker.getIfAvailable());
        }
    }
}
