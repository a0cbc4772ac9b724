package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.spi.NodeBeat;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * What {@code inspect} and {@code control} share: which workers to ask, how long to wait, JSON or
 * not, and the asking itself through the broker's control channel.
 */
final class BroadcastOptions {
    /** A worker whose last heartbeat is older than this is not counted as known. */
    private static final Duration FORGOTTEN = Duration.ofMinutes(5);

    @Option(names = {"-d", "--destination"}, split = ",", paramLabel = "NODE",
            description = "Ask only these workers (node names such as celeriac@host); default: every worker.")
    List<String> destination;

    @Option(names = {"-t", "--timeout"}, paramLabel = "SECONDS", defaultValue = "1.0",
            description = "How long to wait for replies (default 1.0).")
    double timeout;

    @Option(names = "--json", description = "Print the replies as one JSON object by node, for scripts.")
    boolean json;

    List<String> destinations() {
        return destination == null ? List.of() : FlagChecks.names("-d", destination, "node name");
    }

    /**
     * Sends {@code method} to the workers and returns their replies by node; null when none
     * answered (said on standard error: exit 1). A destination no worker has is bad input
     * (a {@link CommandLine.ParameterException}: exit 2), as is a timeout out of range.
     */
    Map<String, JsonNode> ask(CommandLine.Model.CommandSpec spec, Celeriac app, String method, ObjectNode arguments) throws Exception {
        if (!(timeout > 0) || timeout > 3600) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--timeout must be between 0 and 3600 seconds, got " + timeout);
        }
        List<String> ask = destinations();
        Map<String, JsonNode> replies = app.control().call(method, arguments, ask, ask,
                Duration.ofMillis((long) (timeout * 1000)));
        if (!replies.isEmpty()) {
            return replies;
        }
        TreeSet<String> known = knownWorkers(app);
        List<String> strangers = ask.stream().filter(d -> !known.contains(d)).toList();
        if (!ask.isEmpty() && strangers.size() == ask.size()) {
            throw new CommandLine.ParameterException(spec.commandLine(), "no worker named '" + String.join("', '", strangers)
                    + "' answered" + (known.isEmpty() ? "" : "; known: " + String.join(", ", known)));
        }
        spec.commandLine().getErr().println("celeriac: no worker answered within " + timeout + " s on " + app.broker().describe()
                + (ask.isEmpty() ? "" : " (asked: " + String.join(", ", ask) + ")"));
        return null;
    }

    /** The workers Celeriac knows of (fresh heartbeats); on Redis, Python Celery workers answer too. */
    static TreeSet<String> knownWorkers(Celeriac app) {
        TreeSet<String> known = new TreeSet<>();
        long now = System.currentTimeMillis();
        for (NodeBeat b : app.coordination().nodes().values()) {
            if (now - b.at().toEpochMilli() <= FORGOTTEN.toMillis() && b.isWorker()) {
                known.add(b.node());
            }
        }
        return known;
    }
}
