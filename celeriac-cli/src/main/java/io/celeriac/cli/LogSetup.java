package io.celeriac.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ConfiguratorRank;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.FileAppender;
import ch.qos.logback.core.OutputStreamAppender;
import ch.qos.logback.core.encoder.Encoder;
import ch.qos.logback.classic.pattern.MessageConverter;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.pattern.DynamicConverter;
import ch.qos.logback.core.spi.ContextAwareBase;
import io.celeriac.config.Secrets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Celeriac's logging set up in code rather than from an XML file: logs go to standard error (a
 * command's own output — ids, results — stays clean on standard output), in Celery's format, at
 * the level of {@code -Dceleriac.log_level} (INFO by default). Parsing a logback.xml costs a JVM
 * some 50 ms of CPU (an XML parser and logback's configuration model); every process-pool child
 * pays it at start, so this matters for recycling. A user's own file still wins:
 * {@code -Dlogback.configurationFile=…} or a {@code logback.xml} ahead on the class path.
 * Every message goes through {@link Secrets#redact(String)} ({@code %msg} is {@link Redacted}), so a
 * URL with a password, a secret parameter or a webhook token never reaches a log file.
 */
@ConfiguratorRank(ConfiguratorRank.CUSTOM_HIGH_PRIORITY)
public final class LogSetup extends ContextAwareBase implements Configurator {
    static final String CONSOLE_APPENDER = "ERR";
    static final String FILE_APPENDER = "FILE";
    /** A log file ({@code --logfile}) instead of standard error: for a detached process and its pool's children. */
    static final String LOG_FILE_ENV = "CELERIAC_LOG_FILE";
    /** As {@link #LOG_FILE_ENV}, given to the process pool's children of a worker that logs to a file. */
    static final String LOG_FILE_PROPERTY = "celeriac.log_file";
    /** {@code log_format} of a process that logs before its settings are read: the pool's children. */
    static final String LOG_FORMAT_PROPERTY = "celeriac.log_format";
    static final String PATTERN = "[%d{\"yyyy-MM-dd HH:mm:ss,SSS\"}: %-5level/%thread] %logger{0}: %safeMsg%n";

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (System.getProperty("logback.configurationFile") != null
                || LogSetup.class.getClassLoader().getResource("logback.xml") != null
                || LogSetup.class.getClassLoader().getResource("logback-test.xml") != null) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        // %safeMsg: secrets redacted (Secrets) and control characters from message data (task names,
        // ids, reasons) escaped, so no forged lines; %m/%msg/%message redacted too
        Map<String, Supplier<DynamicConverter<?>>> rules = new HashMap<>();
        for (String word : List.of("m", "msg", "message")) {
            rules.put(word, Redacted::new);
        }
        rules.put("safeMsg", SafeMessageConverter::new);
        context.putObject(CoreConstants.PATTERN_RULE_REGISTRY_FOR_SUPPLIERS, rules);
        Encoder<ILoggingEvent> encoder = encoder(context, System.getProperty(LOG_FORMAT_PROPERTY, "text"));
        String file = System.getProperty(LOG_FILE_PROPERTY, System.getenv(LOG_FILE_ENV));
        OutputStreamAppender<ILoggingEvent> err;
        if (file != null && !file.isBlank()) {
            err = fileAppender(context, encoder, file);
        } else {
            ConsoleAppender<ILoggingEvent> console = new ConsoleAppender<>();
            console.setContext(context);
            console.setName(CONSOLE_APPENDER);
            console.setTarget("System.err");
            console.setEncoder(encoder);
            console.start();
            err = console;
        }
        context.getLogger("org.sqlite").setLevel(Level.WARN);
        context.getLogger("com.zaxxer.hikari").setLevel(Level.ERROR); // its WARNs (a broken connection, with a stack trace) repeat what the outage line says
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        String level = System.getProperty("celeriac.log_level", "INFO");
        root.setLevel(Level.toLevel("WARNING".equals(level) ? "WARN" : level, Level.INFO));
        root.addAppender(err);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    /**
     * The one place that makes the encoder of every appender ({@code log_format}): {@code json} →
     * {@link JsonLineEncoder}, anything else → the text {@link #PATTERN}.
     */
    static Encoder<ILoggingEvent> encoder(LoggerContext context, String format) {
        Encoder<ILoggingEvent> encoder;
        if ("json".equals(format)) {
            encoder = new JsonLineEncoder();
        } else {
            PatternLayoutEncoder text = new PatternLayoutEncoder();
            text.setPattern(PATTERN);
            encoder = text;
        }
        encoder.setContext(context);
        encoder.start();
        return encoder;
    }

    /** An appender that appends to {@code file} (several processes may share it: each line is one write). */
    static FileAppender<ILoggingEvent> fileAppender(LoggerContext context, Encoder<ILoggingEvent> encoder, String file) {
        FileAppender<ILoggingEvent> f = new FileAppender<>();
        f.setContext(context);
        f.setName(FILE_APPENDER);
        f.setFile(file);
        f.setAppend(true);
        f.setEncoder(encoder);
        f.start();
        return f;
    }

    /** {@code %msg} with its secrets masked. */
    public static final class Redacted extends MessageConverter {
        @Override
        public String convert(ILoggingEvent event) {
            return Secrets.redact(super.convert(event));
        }
    }
}
