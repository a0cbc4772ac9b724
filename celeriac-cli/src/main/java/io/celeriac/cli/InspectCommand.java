package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.protocol.Json;
import io.celeriac.spi.NodeBeat;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Ask running workers, through the broker, what they are doing (Celery's inspect).",
                "  ping        each worker answers pong",
                "  active      the tasks running now: id, name, args, kwargs, runtime, pid",
                "  reserved    messages taken ahead and not started yet",
                "  scheduled   tasks waiting for their ETA (countdown, eta, retry back-off) on the worker's queues",
                "  registered  the task names each worker knows",
                "  stats       pid, uptime, pool and its processes, tasks done per name, prefetch, broker, memory",
                "  revoked     the revoked task ids a worker knows",
                "  conf        the worker's effective settings (passwords masked)",
                "Exit 0: at least one worker answered; 1: none did within the timeout; 2: bad input."})
final class InspectCommand implements Callable<Integer> {
    static final List<String> METHODS = List.of("ping", "active", "reserved", "scheduled", "registered", "stats", "revoked", "conf");
    /** A worker whose last heartbeat is older than this is not asked. */
    private static final Duration FORGOTTEN = Duration.ofMinutes(5);

    @Mixin
    ConfigOptions config;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "METHOD", description = "ping, active, reserved, scheduled, registered, stats, revoked or conf.")
    String method;

    @Option(names = {"-d", "--destination"}, split = ",", paramLabel = "NODE",
            description = "Ask only these workers (node names such as celeriac@host); default: every worker.")
    List<String> destination;

    @Option(names = {"-t", "--timeout"}, paramLabel = "SECONDS", defaultValue = "1.0",
            description = "How long to wait for answers (default 1.0).")
    double timeout;

    @Option(names = "--json", description = "Print the replies as one JSON object by node, for scripts.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (!METHODS.contains(method)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "unknown inspect method '" + method + "'; one of " + String.join(", ", METHODS));
        }
        if (timeout <= 0 || timeout > 3600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be between 0 and 3600 seconds, got " + timeout);
        }
        Config c = config.load(Map.of());
        PrintWriter out = spec.commandLine().getOut();
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            TreeSet<String> known = knownWorkers(app);
            List<String> ask = destination == null ? List.of() : destination;
            Map<String, JsonNode> replies = app.broker().control().call(method, null, ask, ask,
                    Duration.ofMillis((long) (timeout * 1000)));
            if (replies.isEmpty()) {
                return noAnswer(spec, app, known, ask, timeout);
            }
            List<String> silent = new ArrayList<>(ask.isEmpty() ? known : new TreeSet<>(ask));
            silent.removeAll(replies.keySet());
            if (json) {
                ObjectNode doc = Json.NODES.objectNode();
                new java.util.TreeMap<>(replies).forEach(doc::set);
                out.println(Json.write(doc));
            } else {
                new java.util.TreeMap<>(replies).forEach((node, reply) -> print(out, node, reply));
                int n = replies.size();
                out.println();
                out.println(n + (n == 1 ? " node" : " nodes") + " online."
                        + (silent.isEmpty() ? "" : " No answer from: " + String.join(", ", silent)));
            }
            return Main.OK;
        }
    }

    /** The workers Celeriac knows of (fresh heartbeats); on Redis, Python Celery workers answer too. */
    static TreeSet<String> knownWorkers(Celeriac app) throws Exception {
        TreeSet<String> known = new TreeSet<>();
        long now = System.currentTimeMillis();
        for (NodeBeat b : app.broker().nodes().values()) {
            if (now - b.at().toEpochMilli() <= FORGOTTEN.toMillis() && b.isWorker()) {
                known.add(b.node());
            }
        }
        return known;
    }

    /**
     * Nobody answered: a destination no worker has is bad input (exit 2, one line); otherwise the
     * workers are down or too slow (exit 1).
     */
    static int noAnswer(CommandLine.Model.CommandSpec spec, Celeriac app, TreeSet<String> known, List<String> ask, double timeout) {
        List<String> strangers = ask.stream().filter(d -> !known.contains(d)).toList();
        if (!ask.isEmpty() && strangers.size() == ask.size()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no worker named '" + String.join("', '", strangers)
                    + "' answered" + (known.isEmpty() ? "" : "; known: " + String.join(", ", known)));
        }
        spec.commandLine().getErr().println("celeriac: no worker answered within " + timeout + " s on " + app.broker().describe()
                + (ask.isEmpty() ? "" : " (asked: " + String.join(", ", ask) + ")"));
        return Main.FAILED;
    }

    /** Celery's layout: "-> node: OK", then the reply, indented. */
    private void print(PrintWriter out, String node, JsonNode reply) {
        if (reply != null && reply.has("error")) {
            out.println("-> " + node + ": ERROR " + reply.path("error").asText());
            return;
        }
        out.println("-> " + node + ": OK");
        switch (method) {
            case "ping" -> out.println("        pong");
            case "active", "reserved" -> {
                if (reply == null || reply.isEmpty()) {
                    out.println("    - empty -");
                }
                double nowSecs = System.currentTimeMillis() / 1000.0;
                for (JsonNode t : reply) {
                    String runtime = t.has("time_start")
                            ? String.format(" running %.1f s (pid %d)", nowSecs - t.path("time_start").asDouble(), t.path("worker_pid").asLong())
                            : "";
                    out.println("    * " + t.path("name").asText() + "[" + t.path("id").asText() + "] args=" + Json.write(t.path("args"))
                            + " kwargs=" + Json.write(t.path("kwargs")) + runtime);
                }
            }
            case "scheduled" -> {
                if (reply == null || reply.isEmpty()) {
                    out.println("    - empty -");
                }
                for (JsonNode s : reply) {
                    JsonNode t = s.path("request");
                    out.println("    * " + t.path("name").asText() + "[" + t.path("id").asText() + "] eta " + s.path("eta").asText()
                            + " args=" + Json.write(t.path("args")) + " kwargs=" + Json.write(t.path("kwargs")));
                }
            }
            case "registered", "revoked" -> {
                if (reply == null || reply.isEmpty()) {
                    out.println("    - empty -");
                }
                for (JsonNode t : reply) {
                    out.println("    * " + t.asText());
                }
            }
            default -> {
                String pretty;
                try {
                    pretty = Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(reply);
                } catch (Exception e) {
                    pretty = String.valueOf(reply);
                }
                pretty.lines().forEach(l -> out.println("    " + l));
            }
        }
    }
}
