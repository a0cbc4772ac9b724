package io.celeriac.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.encoder.EncoderBase;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import io.celeriac.config.Secrets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Map;

/**
 * {@code log_format: json}: one JSON object per line — {@code timestamp} (ISO-8601 with the zone
 * offset), {@code level} (the names of the text format: INFO, WARN, ERROR), {@code logger},
 * {@code thread}, {@code message}, the MDC ({@code task_id}, {@code task_name}, {@code worker}
 * while a task runs), {@code worker} (the node name, in every line of a worker and its pool's
 * children) and {@code exception} (the stack trace as one field). The message and the stack
 * trace are redacted ({@link Secrets#redact}) as the text lines are; JSON escaping keeps line
 * breaks and other control characters inside their field, so a line cannot be forged.
 *
 * <p>Not Logback's {@code JsonEncoder}: its timestamp is epoch milliseconds, its message is not
 * redacted and cannot be made so without copying it, and its field names are Logback's
 * ({@code loggerName}, {@code threadName}, {@code mdc} as a nested object).
 */
public final class JsonLineEncoder extends EncoderBase<ILoggingEvent> {
    /** The node name when no MDC gives it: the worker sets it ({@link Logging#worker}), a child has it as a property. */
    static final String WORKER_PROPERTY = "celeriac.worker";
    private static final java.util.List<String> TASK_KEYS = java.util.List.of("task_id", "task_name", "worker");
    private static final JsonFactory JSON = new JsonFactory();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSXXX");
    private static final byte[] NOTHING = new byte[0];
    private final ZoneId zone = ZoneId.systemDefault();

    @Override
    public byte[] headerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] footerBytes() {
        return NOTHING;
    }

    @Override
    public byte[] encode(ILoggingEvent event) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("timestamp", TIME.format(Instant.ofEpochMilli(event.getTimeStamp()).atZone(zone)));
            g.writeStringField("level", event.getLevel().toString());
            g.writeStringField("logger", event.getLoggerName());
            g.writeStringField("thread", event.getThreadName());
            g.writeStringField("message", Secrets.redact(String.valueOf(event.getFormattedMessage())));
            Map<String, String> mdc = event.getMDCPropertyMap();
            for (String key : TASK_KEYS) { // in this order, then any other MDC entries (a user's own)
                String v = key.equals("worker") ? mdc.getOrDefault(key, worker()) : mdc.get(key);
                if (v != null) {
                    g.writeStringField(key, Secrets.redact(v));
                }
            }
            for (Map.Entry<String, String> e : mdc.entrySet()) {
                if (!TASK_KEYS.contains(e.getKey())) {
                    g.writeStringField(e.getKey(), Secrets.redact(String.valueOf(e.getValue())));
                }
            }
            IThrowableProxy t = event.getThrowableProxy();
            if (t != null) {
                g.writeStringField("exception", Secrets.redact(ThrowableProxyUtil.asString(t)));
            }
            g.writeEndObject();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        out.write('\n');
        return out.toByteArray();
    }

    private String worker() {
        String w = getContext() == null ? null : getContext().getProperty(WORKER_PROPERTY);
        return w != null ? w : System.getProperty(WORKER_PROPERTY);
    }
}
