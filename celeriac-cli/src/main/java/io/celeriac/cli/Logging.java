package io.celeriac.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import org.slf4j.LoggerFactory;

/** Sets the log level from the {@code log_level} setting (logs go to standard error). */
final class Logging {
    private Logging() {
    }

    /**
     * From now on, log lines go to {@code file} (appended) instead of standard error, in the same
     * format ({@code --logfile}). A user's own logback configuration is left as it is.
     */
    static void toFile(java.nio.file.Path file) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        if (root.getAppender(LogSetup.FILE_APPENDER) != null
                || !(root.getAppender(LogSetup.CONSOLE_APPENDER) instanceof OutputStreamAppender<ILoggingEvent> console)) {
            return; // already there (CELERIAC_LOG_FILE), or not our set-up
        }
        root.addAppender(LogSetup.fileAppender(root.getLoggerContext(), console.getEncoder(), file.toAbsolutePath().toString()));
        root.detachAppender(console);
    }

    /**
     * Log lines from now on in {@code format} ({@code log_format}: text or json), whichever appender
     * writes them (standard error or {@code --logfile}); the encoder comes from {@link LogSetup#encoder}.
     */
    static void setFormat(String format) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        boolean json = "json".equals(format);
        for (String name : java.util.List.of(LogSetup.CONSOLE_APPENDER, LogSetup.FILE_APPENDER)) {
            if (root.getAppender(name) instanceof OutputStreamAppender<ILoggingEvent> a
                    && json != (a.getEncoder() instanceof JsonLineEncoder)) {
                a.stop();
                a.setEncoder(LogSetup.encoder(root.getLoggerContext(), format));
                a.start();
            }
        }
    }

    /** Whether {@code c} asks for JSON lines ({@code log_format: json}): then a command prints no banner to standard error. */
    static boolean json(io.celeriac.config.Config c) {
        return "json".equals(c.get(io.celeriac.config.Settings.LOG_FORMAT));
    }

    /** The node name in every JSON line of this process ({@code worker}), where no task's MDC gives it. */
    static void worker(String node) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.getLoggerContext().putProperty(JsonLineEncoder.WORKER_PROPERTY, node);
    }

    static void setLevel(String level) {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.toLevel("WARNING".equals(level) ? "WARN" : level, Level.INFO));
    }
}
