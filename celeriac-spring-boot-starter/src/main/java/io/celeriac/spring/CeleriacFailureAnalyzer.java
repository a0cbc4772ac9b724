package io.celeriac.spring;

import io.celeriac.ConfigException;
import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** A bad {@code celeriac.*} property stops the application with its one line, not a stack trace. */
final class CeleriacFailureAnalyzer extends AbstractFailureAnalyzer<ConfigException> {
    @Override
    protected FailureAnalysis analyze(Throwable rootFailure, ConfigException cause) {
        return new FailureAnalysis("Celeriac: " + cause.getMessage(),
                "Correct the celeriac.* property named above (docs/SETTINGS.md lists the settings, docs/SPRING-BOOT.md their"
                        + " property names).", cause);
    }
}
