package io.celeriac.cli;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Durations;
import io.celeriac.protocol.TaskResult;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "result", mixinStandardHelpOptions = true,
        description = {"Show the result of a task: its value (exit 0), or its exception (exit 1).",
                "A task that has not finished prints its state and exits 1."})
final class ResultCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "TASK_ID")
    String taskId;

    @Option(names = "--wait", paramLabel = "SECONDS", description = "Wait up to this long for the task to finish.")
    double waitSeconds;

    @Option(names = {"-t", "--traceback"}, description = "Show the traceback of a failed task.")
    boolean traceback;

    @Option(names = "--json", description = "Print the stored result as Celery stores it.")
    boolean json;

    @Override
    public Integer call() throws InterruptedException {
        if (waitSeconds < 0) {
            throw new IllegalArgumentException("--wait must not be negative");
        }
        Config c = config.load(Map.of());
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            TaskResult r = (waitSeconds > 0
                    ? app.results().await(taskId, Durations.ofSeconds(waitSeconds))
                    : app.results().get(taskId)).orElse(null);
            return Printing.result(spec.commandLine().getOut(), spec.commandLine().getErr(), taskId, r, traceback, json, true);
        }
    }
}
