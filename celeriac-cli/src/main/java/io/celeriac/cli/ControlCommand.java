package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.protocol.Json;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "control", mixinStandardHelpOptions = true,
        description = {"Steer running workers through the broker (Celery's control); each worker acknowledges in its reply.",
                "  shutdown                     warm shutdown: finish the running tasks, then exit",
                "  pool-grow [N]                N more tasks at once (default 1)",
                "  pool-shrink [N]              N fewer (never below one)",
                "  autoscale MAX [MIN]          a new --autoscale range (a worker started with --autoscale)",
                "  rate-limit TASK RATE         at most RATE starts of TASK per worker: 10/s, 100/m, 5/h; 0 removes it",
                "  time-limit TASK SOFT HARD    new soft and hard time limits for TASK, in seconds (0: none)",
                "  revoke TASK_ID [--terminate] do not start it; with --terminate, stop it if it runs",
                "  add-consumer QUEUE           start consuming QUEUE",
                "  cancel-consumer QUEUE        stop consuming QUEUE",
                "Exit 0: at least one worker acknowledged; 1: none did within the timeout, or all refused; 2: bad input."})
final class ControlCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "COMMAND")
    String command;

    @Parameters(index = "1..*", paramLabel = "ARG", arity = "0..*")
    List<String> args = List.of();

    @Mixin
    BroadcastOptions broadcast;

    @Option(names = "--terminate", description = "revoke: also stop the task if it is running.")
    boolean terminate;

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    private void arity(int min, int max, String shape) {
        if (args.size() < min || args.size() > max) {
            throw usage(command + " takes " + shape + ", got " + args.size() + " argument(s)");
        }
    }

    private int positive(String s, String what) {
        try {
            int n = Integer.parseInt(s);
            if (n < 1) {
                throw usage(what + " must be 1 or more, got " + s);
            }
            return n;
        } catch (NumberFormatException e) {
            throw usage(what + " must be a whole number, got '" + s + "'");
        }
    }

    private double seconds(String s, String what) {
        try {
            double d = Double.parseDouble(s);
            if (d < 0 || Double.isNaN(d) || Double.isInfinite(d)) {
                throw usage(what + " must be 0 or more seconds, got " + s);
            }
            return d;
        } catch (NumberFormatException e) {
            throw usage(what + " must be a number of seconds, got '" + s + "'");
        }
    }

    /** Celery's method name and arguments for the command line given. */
    private ObjectNode request(ObjectNode a) {
        switch (command) {
            case "shutdown" -> {
                arity(0, 0, "no arguments");
                a.put("method", "shutdown");
            }
            case "pool-grow", "pool-shrink" -> {
                arity(0, 1, "[N]");
                a.put("method", command.replace('-', '_'));
                a.putObject("arguments").put("n", args.isEmpty() ? 1 : positive(args.get(0), "N"));
            }
            case "autoscale" -> {
                arity(1, 2, "MAX [MIN]");
                int max = positive(args.get(0), "MAX");
                ObjectNode range = a.put("method", "autoscale").putObject("arguments").put("max", max);
                if (args.size() == 2) {
                    int min = args.get(1).equals("0") ? 0 : positive(args.get(1), "MIN");
                    if (min > max) {
                        throw usage("MIN (" + min + ") must not exceed MAX (" + max + ")");
                    }
                    range.put("min", min);
                }
            }
            case "rate-limit" -> {
                arity(2, 2, "TASK RATE");
                if (!args.get(1).matches("\\s*\\d+(\\.\\d+)?\\s*(/\\s*[smh])?\\s*")) {
                    throw usage("bad rate limit '" + args.get(1) + "': expected N/s, N/m or N/h (e.g. 10/s)");
                }
                a.put("method", "rate_limit");
                a.putObject("arguments").put("task_name", args.get(0)).put("rate_limit", args.get(1).trim());
            }
            case "time-limit" -> {
                arity(3, 3, "TASK SOFT HARD");
                double soft = seconds(args.get(1), "SOFT");
                double hard = seconds(args.get(2), "HARD");
                if (hard > 0 && soft >= hard) {
                    throw usage("SOFT (" + soft + ") must be below HARD (" + hard + ")");
                }
                a.put("method", "time_limit");
                a.putObject("arguments").put("task_name", args.get(0)).put("soft", soft).put("hard", hard);
            }
            case "revoke" -> {
                arity(1, 1, "TASK_ID");
                a.put("method", "revoke");
                a.putObject("arguments").put("task_id", args.get(0)).put("terminate", terminate);
            }
            case "add-consumer", "cancel-consumer" -> {
                arity(1, 1, "QUEUE");
                a.put("method", command.replace('-', '_'));
                a.putObject("arguments").put("queue", args.get(0));
            }
            default -> throw usage("unknown control command '" + command + "'; one of shutdown, pool-grow, pool-shrink, autoscale,"
                    + " rate-limit, time-limit, revoke, add-consumer, cancel-consumer");
        }
        return a;
    }

    @Override
    public Integer call() throws Exception {
        ObjectNode req = request(Json.NODES.objectNode());
        Config c = config.load(Map.of());
        PrintWriter out = spec.commandLine().getOut();
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            JsonNode arguments = req.get("arguments");
            Map<String, JsonNode> replies = broadcast.ask(spec, app, req.get("method").asText(),
                    arguments == null ? null : (ObjectNode) arguments);
            if (replies == null) {
                return Main.FAILED;
            }
            boolean anyOk = false;
            if (broadcast.json) {
                ObjectNode doc = Json.NODES.objectNode();
                new TreeMap<>(replies).forEach(doc::set);
                out.println(Json.write(doc));
                anyOk = replies.values().stream().anyMatch(r -> r != null && r.has("ok"));
            } else {
                for (Map.Entry<String, JsonNode> e : new TreeMap<>(replies).entrySet()) {
                    JsonNode r = e.getValue();
                    if (r != null && r.has("ok")) {
                        anyOk = true;
                        out.println("-> " + e.getKey() + ": OK " + r.path("ok").asText());
                    } else {
                        out.println("-> " + e.getKey() + ": ERROR " + (r == null ? "no reply" : r.path("error").asText(String.valueOf(r))));
                    }
                }
            }
            return anyOk ? Main.OK : Main.FAILED;
        }
    }
}
