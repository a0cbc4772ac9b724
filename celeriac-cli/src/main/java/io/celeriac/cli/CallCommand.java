package io.celeriac.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Apps;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.ConfigException;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Durations;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "call", mixinStandardHelpOptions = true,
        description = {"Send a task and print its id (with --wait, its result).",
                "Each ARG is read as JSON when it is JSON (2, 2.5, true, null, [1], {\"a\": 1}, \"text\"), else as a string."})
final class CallCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TASK")
    String task;

    @Parameters(index = "1..*", paramLabel = "ARG")
    List<String> args = List.of();

    @Option(names = {"-a", "--args"}, paramLabel = "JSON", description = "Positional arguments as a JSON array (instead of ARGs).")
    String argsJson;

    @Option(names = {"-k", "--kwargs"}, paramLabel = "JSON", description = "Keyword arguments as a JSON object.")
    String kwargsJson;

    @Option(names = "--countdown", paramLabel = "SECONDS", description = "Run no earlier than this many seconds from now.")
    Double countdown;

    @Option(names = "--eta", paramLabel = "TIME", description = "Run no earlier than this ISO-8601 time.")
    String eta;

    @Option(names = "--expires", paramLabel = "SECONDS|TIME", description = "Do not run after this (seconds from now, or ISO-8601).")
    String expires;

    @Option(names = {"-Q", "--queue"}, paramLabel = "QUEUE", description = "Queue to send to.")
    String queue;

    @Option(names = "--priority", paramLabel = "0-9", description = "Priority; lower runs first.")
    Integer priority;

    @Option(names = "--time-limit", paramLabel = "SECONDS", description = "Hard time limit of this call.")
    Double timeLimit;

    @Option(names = "--soft-time-limit", paramLabel = "SECONDS", description = "Soft time limit of this call.")
    Double softTimeLimit;

    @Option(names = "--wait", paramLabel = "SECONDS", description = "Wait up to this long and print the result.")
    Double waitSeconds;

    @Option(names = "--force", description = "Send even if no local app registers the task (e.g. a Python task).")
    boolean force;

    @Override
    public Integer call() {
        queue = FlagChecks.name("-Q", queue, "queue name");
        Config c = config.load(Map.of());
        TaskRegistry registry = Apps.load(c);
        if (!force && WorkerCommand.hasUserTask(registry)) { // no app here: sent by name, as Celery's call does
            registry.require(task); // a typo is caught here, not in a worker's dead-letter queue
        }
        List<Object> positional = argsJson != null ? asList(parse("--args", argsJson)) : parseArgs(args);
        if (argsJson != null && !args.isEmpty()) {
            throw new IllegalArgumentException("give arguments either as ARGs or with --args, not both");
        }
        Map<String, Object> kwargs = kwargsJson == null ? Map.of() : asMap(parse("--kwargs", kwargsJson));
        SendOptions o = options();
        try (Celeriac app = Celeriac.open(c, registry)) {
            AsyncResult r = app.send(task, positional, kwargs, o);
            if (waitSeconds == null) {
                spec.commandLine().getOut().println(r.id());
                return Main.OK;
            }
            spec.commandLine().getErr().println(r.id());
            spec.commandLine().getErr().flush();
            try {
                app.results().await(r.id(), Durations.ofSeconds(waitSeconds));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Printing.result(spec.commandLine().getOut(), spec.commandLine().getErr(), r.id(), r.meta().orElse(null), true, false);
        }
    }

    private SendOptions options() {
        SendOptions o = SendOptions.options();
        if (countdown != null && eta != null) {
            throw new IllegalArgumentException("give --countdown or --eta, not both");
        }
        if (countdown != null) {
            if (countdown < 0) {
                throw new IllegalArgumentException("--countdown must not be negative");
            }
            o = o.withCountdown(Durations.ofSeconds(countdown));
        }
        if (eta != null) {
            o = o.withEta(time("--eta", eta));
        }
        if (expires != null) {
            o = expires.matches("\\d+(\\.\\d+)?") ? o.withExpires(Durations.ofSeconds(Double.parseDouble(expires)))
                    : o.withExpires(time("--expires", expires));
        }
        if (queue != null) {
            o = o.withQueue(queue);
        }
        if (priority != null) {
            if (priority < 0 || priority > 9) {
                throw new IllegalArgumentException("--priority must be 0..9, got " + priority);
            }
            o = o.withPriority(priority);
        }
        if (timeLimit != null || softTimeLimit != null) {
            if ((timeLimit != null && timeLimit <= 0) || (softTimeLimit != null && softTimeLimit <= 0)) {
                throw new IllegalArgumentException("time limits must be positive numbers of seconds");
            }
            o = o.withTimeLimits(timeLimit == null ? null : Durations.ofSeconds(timeLimit),
                    softTimeLimit == null ? null : Durations.ofSeconds(softTimeLimit));
        }
        if (waitSeconds != null && waitSeconds < 0) {
            throw new IllegalArgumentException("--wait must not be negative");
        }
        return o;
    }

    private static java.time.Instant time(String option, String text) {
        try {
            return CeleryTime.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(option + ": " + e.getMessage());
        }
    }

    private static JsonNode parse(String option, String json) {
        try {
            return Json.read(json);
        } catch (JsonProcessingException e) {
            throw new ConfigException(option + " is not valid JSON: " + Main.oneLine(e.getOriginalMessage()));
        }
    }

    private static List<Object> parseArgs(List<String> raw) {
        List<Object> out = new ArrayList<>();
        for (String a : raw) {
            try {
                out.add(Json.MAPPER.treeToValue(Json.read(a), Object.class));
            } catch (JsonProcessingException e) {
                out.add(a); // not JSON: a plain string, as a shell user means it
            }
        }
        return out;
    }

    private static List<Object> asList(JsonNode n) {
        if (!n.isArray()) {
            throw new ConfigException("--args must be a JSON array, e.g. '[2, 3]'");
        }
        return Json.MAPPER.convertValue(n, Json.MAPPER.getTypeFactory().constructCollectionType(List.class, Object.class));
    }

    private static Map<String, Object> asMap(JsonNode n) {
        if (!n.isObject()) {
            throw new ConfigException("--kwargs must be a JSON object, e.g. '{\"x\": 1}'");
        }
        return Json.MAPPER.convertValue(n, Json.MAPPER.getTypeFactory().constructMapType(Map.class, String.class, Object.class));
    }
}
