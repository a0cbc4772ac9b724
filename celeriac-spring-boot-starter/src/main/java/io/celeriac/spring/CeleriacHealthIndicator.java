package io.celeriac.spring;

import io.celeriac.Celeriac;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;

/**
 * Actuator's {@code celeriac} health on Spring Boot 3: UP when the broker and the result store
 * answer and, with the embedded worker, when that worker runs and is making progress
 * ({@code CeleriacChecks}); each check's outcome is a detail.
 */
public final class CeleriacHealthIndicator implements HealthIndicator {
    private final CeleriacChecks checks;

    /**
     * @param app    the application's client
     * @param worker the embedded worker, or null when it is off
     */
    public CeleriacHealthIndicator(Celeriac app, EmbeddedWorker worker) {
        this.checks = new CeleriacChecks(app, worker);
    }

    @Override
    public Health health() {
        CeleriacChecks.Outcome o = checks.check();
        return (o.up() ? Health.up() : Health.down()).withDetails(o.details()).build();
    }
}
