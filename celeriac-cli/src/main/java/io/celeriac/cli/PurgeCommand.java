package io.celeriac.cli;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import java.io.Console;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "purge", mixinStandardHelpOptions = true,
        description = "Delete the messages waiting on queues (not those a worker is running).")
final class PurgeCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = {"-Q", "--queue", "--queues"}, split = ",", paramLabel = "QUEUE",
            description = "Queues to purge (default: worker_queues, else task_default_queue).")
    List<String> queues;

    @Option(names = {"-f", "--force"}, description = "Do not ask for confirmation on a terminal.")
    boolean force;

    @Override
    public Integer call() {
        queues = FlagChecks.names("-Q", queues, "queue name");
        Config c = config.load(Map.of());
        List<String> targets = queues != null && !queues.isEmpty() ? queues
                : !c.get(Settings.WORKER_QUEUES).isEmpty() ? c.get(Settings.WORKER_QUEUES) : List.of(c.get(Settings.TASK_DEFAULT_QUEUE));
        Console console = System.console();
        if (!force && console != null) {
            String answer = console.readLine("Purge all waiting messages from %s? [y/N] ", String.join(", ", targets));
            if (answer == null || !answer.trim().toLowerCase().startsWith("y")) {
                spec.commandLine().getErr().println("celeriac: nothing purged");
                return Main.FAILED;
            }
        }
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            long total = 0;
            for (String q : targets) {
                long n = app.broker().purge(q);
                total += n;
                spec.commandLine().getOut().println("Purged " + n + " message" + (n == 1 ? "" : "s") + " from queue " + q + ".");
            }
            if (targets.size() > 1) {
                spec.commandLine().getOut().println("Purged " + total + " messages in all.");
            }
            return Main.OK;
        }
    }
}
