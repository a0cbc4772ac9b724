package io.celeriac.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.FileAppender;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.ProcessId;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker or beat started by the manager watches it: the manager gives its {@link ProcessId} in
 * {@code CELERIAC_MANAGER}; once that process is gone (kill -9, the OOM killer) the program begins
 * its warm shutdown rather than run on unsupervised — after a deploy, old code would otherwise keep
 * consuming beside the new. Its output pipe went with the manager, so from then on its log lines go
 * to its log file ({@code CELERIAC_MANAGER_LOG}) directly, the first saying why it stops.
 */
final class ManagerWatch {
    private static final Logger log = LoggerFactory.getLogger("celeriac");
    static final Duration INTERVAL = Duration.ofSeconds(1);

    private ManagerWatch() {
    }

    /** Watches the manager named in the environment, if any; {@code warmStop} runs once when it is gone. */
    static void start(String what, Runnable warmStop) {
        String env = System.getenv(Daemon.MANAGER_ENV);
        if (env == null || env.isBlank()) {
            return; // not started by a manager (a shell, systemd, supervisord)
        }
        Optional<ProcessId> parsed = ProcessId.parse(env);
        if (parsed.isEmpty()) {
            log.warn("{}={} is not PID:START; not watching the manager", Daemon.MANAGER_ENV, env);
            return;
        }
        ProcessId manager = parsed.get();
        Thread t = new Thread(() -> {
            try {
                while (manager.alive()) {
                    Thread.sleep(INTERVAL.toMillis());
                }
            } catch (InterruptedException e) {
                return;
            }
            logToFile(System.getenv(Daemon.LOG_ENV));
            log.warn("the manager (pid {}) that started this {} is gone (killed?): warm shutdown, rather than run unsupervised",
                    manager.pid(), what);
            warmStop.run();
        }, "celeriac-manager-watch");
        t.setDaemon(true);
        t.start();
    }

    /** From now on, log lines go to {@code file} (appended) instead of the dead manager's pipe. */
    private static void logToFile(String file) {
        if (file == null || file.isBlank() || !(LoggerFactory.getILoggerFactory() instanceof LoggerContext context)) {
            return;
        }
        try {
            PatternLayoutEncoder encoder = new PatternLayoutEncoder();
            encoder.setContext(context);
            encoder.setPattern(LogSetup.PATTERN);
            encoder.start();
            FileAppender<ILoggingEvent> appender = new FileAppender<>();
            appender.setContext(context);
            appender.setName("ORPHANED");
            appender.setFile(file);
            appender.setAppend(true);
            appender.setEncoder(encoder);
            appender.start();
            ch.qos.logback.classic.Logger root = context.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            root.addAppender(appender);
            root.detachAppender("ERR"); // standard error is the pipe to the manager that is gone
        } catch (RuntimeException e) {
            log.debug("cannot log to {}: {}", file, e.getMessage());
        }
    }
}
