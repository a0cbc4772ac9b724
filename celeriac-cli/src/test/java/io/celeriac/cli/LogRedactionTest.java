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

    @Test
    void aJsonLineIsOneObjectWithItsSecretsMaskedInTheMessageAndTheStackTrace() throws Exception {
        LoggerContext context = new LoggerContext();
        new LogSetup().configure(context);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.encoder.Encoder<ILoggingEvent> json = LogSetup.encoder(context, "json");
        context.putProperty(JsonLineEncoder.WORKER_PROPERTY, "w1@host");
        LoggingEvent e = new LoggingEvent(Logger.class.getName(), root, Level.ERROR,
                "connecting to {}\n{\"level\":\"ERROR\",\"message\":\"forged\"}", new IllegalStateException(
                        "refused by postgresql://app:Pw4@db:5432/app"), new Object[] {"redis://:Pw1@h:6379/0"});
        e.setMDCPropertyMap(java.util.Map.of("task_id", "id-1", "task_name", "add"));
        String line = new String(json.encode(e), StandardCharsets.UTF_8);
        assertThat(line).endsWith("\n").doesNotContain("Pw1", "Pw4");
        assertThat(line.strip()).doesNotContain("\n", "\r");
        com.fasterxml.jackson.databind.JsonNode n = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
        assertThat(n.path("message").asText()).isEqualTo("connecting to redis://:***@h:6379/0\n{\"level\":\"ERROR\",\"message\":\"forged\"}");
        assertThat(n.path("level").asText()).isEqualTo("ERROR");
        assertThat(n.path("task_id").asText()).isEqualTo("id-1");
        assertThat(n.path("task_name").asText()).isEqualTo("add");
        assertThat(n.path("worker").asText()).isEqualTo("w1@host");
        assertThat(n.path("exception").asText()).startsWith("java.lang.IllegalStateException: refused by postgresql://app:***@db:5432/app")
                .contains("\tat ");
        assertThat(n.path("timestamp").asText()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}(Z|[+-]\\d\\d:\\d\\d)");
        context.stop();
    }
}
