package io.celeriac.spring;

import io.celeriac.Celeriac;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * Actuator's {@code celeriac} health on Spring Boot 4, whose health API moved to
 * {@code org.springframework.boot.health.contributor}: the same checks as
 * {@link CeleriacHealthIndicator} ({@code CeleriacChecks}).
 */
public final class CeleriacHealthIndicator4 implements HealthIndicator {
    private final CeleriacChecks checks;

    /**
     * @param app    the application's client
     * @param worker the embedded worker, or null when it is off
     */
    public CeleriacHealthIndicator4(Celeriac app, EmbeddedWorker worker) {
        this.checks = new CeleriacChecks(app, worker);
    }

    @Override
    public Health health() {
        CeleriacChecks.Outcome o = checks.check();
        return (o.up() ? Health.up() : Health.down()).withDetails(o.details()).build();
    }
}
