package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.protocol.Json;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "events", mixinStandardHelpOptions = true,
        description = {"Print task and worker events live, one line each, until interrupted (Ctrl-C).",
                "Workers send them when started with -E (worker_send_task_events); clients send task-sent with",
                "task_send_sent_event. On Redis, Python Celery workers' events show too."})
final class EventsCommand implements Callable<Integer> {
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

    @Mixin
    ConfigOptions config;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--dump", description = "Print each event as one line of JSON (as received).")
    boolean dump;

    @Option(names = "--no-heartbeats", description = "Leave out worker-heartbeat events.")
    boolean noHeartbeats;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N events.")
    Integer count;

    @Option(names = "--duration", paramLabel = "SECONDS", description = "Stop after this long.")
    Double duration;

    @Override
    public Integer call() throws Exception {
        if (count != null && count < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be 1 or more, got " + count);
        }
        if (duration != null && !(duration > 0)) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--duration must be more than 0 seconds, got " + duration);
        }
        Config c = config.load(Map.of());
        PrintWriter out = spec.commandLine().getOut();
        CountDownLatch done = new CountDownLatch(1);
        AtomicInteger seen = new AtomicInteger();
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            Signals.onTermination("stop", "stop", done::countDown, done::countDown);
            try (AutoCloseable listening = app.events().listen(e -> {
                if (noHeartbeats && "worker-heartbeat".equals(e.path("type").asText())) {
                    return;
                }
                synchronized (out) {
                    out.println(dump ? Json.write(e) : line(e));
                    out.flush();
                }
                if (count != null && seen.incrementAndGet() >= count) {
                    done.countDown();
                }
            })) {
                String note = "listening for events on " + app.broker().describe() + " (Ctrl-C to stop)";
                if (dump) { // stdout stays one JSON object per line; the note goes to stderr, as Celery's evdump notes
                    spec.commandLine().getErr().println(note);
                    spec.commandLine().getErr().flush();
                } else {
                    out.println(note);
                    out.flush();
                }
                if (duration != null) {
                    done.await((long) (duration * 1000), TimeUnit.MILLISECONDS);
                } else {
                    done.await();
                }
            }
        }
        return Main.OK;
    }

    /** One line per event: time, type, task or worker, and what matters for the type. */
    static String line(JsonNode e) {
        String type = e.path("type").asText("?");
        double ts = e.path("timestamp").asDouble(System.currentTimeMillis() / 1000.0);
        String when = TIME.format(Instant.ofEpochMilli((long) (ts * 1000)));
        String host = e.path("hostname").asText("");
        StringBuilder sb = new StringBuilder(when).append("  ").append(String.format("%-16s", type)).append(' ');
        if (type.startsWith("task-")) {
            String name = e.path("name").asText("");
            sb.append(name.isEmpty() ? "" : name).append('[').append(e.path("uuid").asText()).append(']');
            sb.append(" @ ").append(host);
            switch (type) {
                case "task-received", "task-sent" -> sb.append(" args=").append(e.path("args").asText())
                        .append(" kwargs=").append(e.path("kwargs").asText());
                case "task-succeeded" -> sb.append(String.format(" in %.4f s: ", e.path("runtime").asDouble()))
                        .append(e.path("result").asText());
                case "task-failed", "task-retried" -> sb.append(": ").append(e.path("exception").asText());
                case "task-revoked" -> sb.append(e.path("expired").asBoolean() ? ": expired"
                        : e.path("terminated").asBoolean() ? ": terminated" : ": revoked");
                case "task-started" -> sb.append(" pid ").append(e.path("pid").asLong());
                default -> { }
            }
        } else {
            sb.append(host);
            if (e.has("active")) {
                sb.append(" active=").append(e.path("active").asInt()).append(" processed=").append(e.path("processed").asLong());
            }
        }
        return sb.toString();
    }
}
