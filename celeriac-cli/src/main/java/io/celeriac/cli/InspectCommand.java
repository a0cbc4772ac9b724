package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.protocol.Json;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
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

    @Mixin
    ConfigOptions config;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "METHOD", description = "ping, active, reserved, scheduled, registered, stats, revoked or conf.")
    String method;

    @Mixin
    BroadcastOptions broadcast;

    @Override
    public Integer call() throws Exception {
        if (!METHODS.contains(method)) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "unknown inspect method '" + method + "'; one of " + String.join(", ", METHODS));
        }
        Config c = config.load(Map.of());
        PrintWriter out = spec.commandLine().getOut();
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            Map<String, JsonNode> replies = broadcast.ask(spec, app, method, null);
            if (replies == null) {
                return Main.FAILED;
            }
            List<String> silent = new ArrayList<>(broadcast.destinations().isEmpty()
                    ? BroadcastOptions.knownWorkers(app) : new TreeSet<>(broadcast.destinations()));
            silent.removeAll(replies.keySet());
            if (broadcast.json) {
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
