package io.celeriac.cli;

import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import io.celeriac.protocol.LogText;
import org.slf4j.helpers.MessageFormatter;

/**
 * {@code %safeMsg}: the log message with control characters escaped ({@link LogText#escape}), so
 * that a task name, id, header or reason from a message cannot write fake lines into the log
 * (log forging). Arguments marked {@link LogText.Multiline} (a traceback) keep their line breaks;
 * a throwable's stack trace is printed by {@code %ex} as before. Secrets are redacted
 * ({@link io.celeriac.config.Secrets#redact}) after escaping.
 */
public final class SafeMessageConverter extends ClassicConverter {
    @Override
    public String convert(ILoggingEvent event) {
        return io.celeriac.config.Secrets.redact(escaped(event));
    }

    private static String escaped(ILoggingEvent event) {
        Object[] args = event.getArgumentArray();
        if (args == null || args.length == 0 || event.getMessage() == null) {
            return LogText.escape(event.getFormattedMessage());
        }
        Object[] safe = new Object[args.length];
        for (int i = 0; i < args.length; i++) {
            Object a = args[i];
            if (a == null || a instanceof LogText.Multiline || a instanceof Number || a instanceof Boolean) {
                safe[i] = a;
            } else if (a instanceof Object[] array) {
                safe[i] = LogText.escape(java.util.Arrays.deepToString(array));
            } else {
                safe[i] = LogText.escape(String.valueOf(a));
            }
        }
        return MessageFormatter.basicArrayFormat(LogText.escape(event.getMessage()), safe);
    }
}
