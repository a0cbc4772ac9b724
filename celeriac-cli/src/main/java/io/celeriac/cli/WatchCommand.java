package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.protocol.Json;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.LocalTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "watch", mixinStandardHelpOptions = true,
        description = {"A table of the tasks running on each worker, refreshed every few seconds",
                "(the seed's `watch -n 2 'celery inspect active'`). Ctrl-C to stop."})
final class WatchCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = {"-n", "--interval"}, paramLabel = "SECONDS", defaultValue = "2", description = "Refresh every this long (default 2).")
    double interval;

    @Option(names = {"-d", "--destination"}, split = ",", paramLabel = "NODE", description = "Only these workers.")
    List<String> destination;

    @Option(names = "--count", paramLabel = "N", description = "Stop after N refreshes (default: until interrupted).")
    Integer count;

    @Override
    public Integer call() throws Exception {
        if (!(interval >= 0.2) || interval > 3600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--interval must be between 0.2 and 3600 seconds, got " + interval);
        }
        if (count != null && count < 1) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--count must be 1 or more, got " + count);
        }
        Config c = config.load(Map.of());
        PrintWriter out = spec.commandLine().getOut();
        boolean terminal = System.console() != null && out == spec.commandLine().getOut() && count == null;
        CountDownLatch stop = new CountDownLatch(1);
        Signals.onTermination("stop", "stop", stop::countDown, stop::countDown);
        List<String> ask = destination == null ? List.of() : FlagChecks.names("-d", destination, "node name");
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            for (int i = 0; count == null || i < count; i++) {
                long t0 = System.nanoTime();
                Map<String, JsonNode> replies = app.control().call("active", null, ask, ask,
                        Duration.ofMillis((long) Math.min(1000, interval * 1000)));
                StringBuilder sb = new StringBuilder();
                if (terminal) {
                    sb.append("\u001b[H\u001b[2J"); // clear the screen, as watch(1) does
                }
                sb.append(table(replies, app.broker().describe()));
                out.print(sb);
                out.flush();
                long left = (long) (interval * 1000) - (System.nanoTime() - t0) / 1_000_000;
                if ((count == null || i + 1 < count) && stop.await(Math.max(0, left), TimeUnit.MILLISECONDS)) {
                    break;
                }
            }
        }
        return Main.OK;
    }

    static String table(Map<String, JsonNode> replies, String broker) {
        StringBuilder sb = new StringBuilder();
        sb.append("refreshed ").append(LocalTime.now().format(DateTimeFormatter.ofPattern("HH:mm:ss")))
                .append("  active tasks on ").append(broker).append('\n');
        sb.append(String.format("%-28s %-24s %-36s %9s  %s%n", "WORKER", "TASK", "ID", "RUNTIME", "ARGS"));
        double now = System.currentTimeMillis() / 1000.0;
        int rows = 0;
        for (Map.Entry<String, JsonNode> e : new TreeMap<>(replies).entrySet()) {
            JsonNode tasks = e.getValue();
            if (tasks == null || !tasks.isArray() || tasks.isEmpty()) {
                sb.append(String.format("%-28s %-24s%n", e.getKey(), "- idle -"));
                continue;
            }
            for (JsonNode t : tasks) {
                String runtime = t.has("time_start") ? String.format("%.1f s", now - t.path("time_start").asDouble()) : "waiting";
                sb.append(String.format("%-28s %-24s %-36s %9s  %s %s%n", e.getKey(), t.path("name").asText(), t.path("id").asText(),
                        runtime, Json.write(t.path("args")), t.path("kwargs").isEmpty() ? "" : Json.write(t.path("kwargs"))));
                rows++;
            }
        }
        if (replies.isEmpty()) {
            sb.append("(no worker answered)\n");
        }
        sb.append(rows).append(rows == 1 ? " task" : " tasks").append(" running on ").append(replies.size())
                .append(replies.size() == 1 ? " worker" : " workers").append("\n\n");
        return sb.toString();
    }
}
