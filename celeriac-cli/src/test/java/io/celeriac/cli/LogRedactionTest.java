package io.celeriac.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.OutputStreamAppender;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Every log line Celeriac's own logging set-up writes goes through the one redaction. */
@Tag("unit")
class LogRedactionTest {
    @Test
    void aLogLineWithAPasswordOrAWebhookTokenIsWrittenMasked() {
        LoggerContext context = new LoggerContext();
        new LogSetup().configure(context);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        @SuppressWarnings("unchecked")
        OutputStreamAppender<ILoggingEvent> err = (OutputStreamAppender<ILoggingEvent>) root.getAppender("ERR");
        LoggingEvent e = new LoggingEvent(Logger.class.getName(), root, Level.WARN,
                "connecting to {} then {} with password=Pw3", null,
                new Object[] {"redis://:Pw1@h:6379/0", "https://hooks.slack.com/services/T/B/Tok2"});
        String line = new String(err.getEncoder().encode(e), StandardCharsets.UTF_8);
        assertThat(line).contains("redis://:***@h:6379/0", "https://hooks.slack.com/***", "password=***")
                .doesNotContain("Pw1", "Tok2", "Pw3");
        context.stop();
    }
}
