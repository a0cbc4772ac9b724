package io.celeriac.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import org.slf4j.LoggerFactory;

/** Sets the log level from the {@code log_level} setting (logs go to standard error). */
final class Logging {
    private Logging() {
    }

    static void setLevel(String level) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel("WARNING".equals(level) ? "WARN" : level, Level.INFO));
    }
}
