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
                "  query_task ID...  where each task is: active or reserved, with its request",
                "  active_queues     the queues each worker consumes",
                "  clock       the worker's logical clock",
                "  report      versions, platform and non-default settings",
                "  memsample   the worker's resident memory now",
                "Exit 0: at least one worker answered; 1: none did within the timeout; 2: bad input."})
final class InspectCommand implements Callable<Integer> {
    static final List<String> METHODS = List.of("ping", "active", "reserved", "scheduled", "registered", "stats", "revoked", "conf",
            "query_task", "active_queues", "clock", "report", "memsample");

    @Mixin
    ConfigOptions config;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "METHOD", description = "ping, active, reserved, scheduled, registered, stats, revoked, conf,"
            + " query_task, active_queues, clock, report or memsample.")
    String method;

    @Parameters(index = "1..*", paramLabel = "ARG", description = "query_task: the task ids; registered: the fields to show"
            + " (rate_limit, time_limit, soft_time_limit, queue, priority, max_retries, acks_late, ignore_result).")
    List<String> args = new ArrayList<>();

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
            Map<String, JsonNode> replies = broadcast.ask(spec, app, method, arguments());
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

    /** The request's arguments, as Celery's client sends them. */
    private ObjectNode arguments() {
        ObjectNode a = Json.NODES.objectNode();
        switch (method) {
            case "query_task" -> {
                if (args.isEmpty()) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "query_task needs one or more task ids");
                }
                args.forEach(a.putArray("ids")::add);
            }
            case "registered" -> args.forEach(a.putArray("taskinfoitems")::add);
            case "conf" -> a.put("with_defaults", false);
            default -> {
                if (!args.isEmpty()) {
                    throw new CommandLine.ParameterException(spec.commandLine(), "inspect " + method + " takes no arguments, got " + args);
                }
            }
        }
        return a;
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
                    String runtime = t.hasNonNull("time_start")
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
            case "query_task" -> {
                if (reply == null || reply.isEmpty()) {
                    out.println("    - empty -");
                }
                reply.properties().forEach(e -> out.println("    * " + e.getKey() + ": " + e.getValue().path(0).asText() + " "
                        + e.getValue().path(1).path("name").asText() + " args=" + Json.write(e.getValue().path(1).path("args"))));
            }
            case "active_queues" -> reply.forEach(q -> out.println("    * " + q.path("name").asText() + " (exchange "
                    + q.path("exchange").path("name").asText() + ", routing key " + q.path("routing_key").asText() + ")"));
            case "clock" -> out.println("    clock: " + reply.path("clock").asLong());
            case "report" -> reply.path("ok").asText().lines().forEach(l -> out.println("    " + l));
            case "memsample" -> out.println("    " + reply.asText());
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
