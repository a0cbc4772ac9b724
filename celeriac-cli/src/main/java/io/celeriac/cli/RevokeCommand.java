package io.celeriac.cli;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = {"Revoke tasks: a worker will not start them (they end REVOKED).",
                "With --terminate a running one is stopped too (process pool: its child is killed)."})
final class RevokeCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0..*", arity = "1..*", paramLabel = "TASK_ID")
    List<String> taskIds;

    @Option(names = {"-t", "--terminate"}, description = "Also stop the task if it is running.")
    boolean terminate;

    @Override
    public Integer call() {
        Config c = config.load(Map.of());
        try (Celeriac app = Celeriac.open(c, new TaskRegistry())) {
            for (String id : taskIds) {
                app.revoke(id, terminate);
                spec.commandLine().getOut().println("revoked " + id + (terminate ? " (terminate)" : ""));
            }
        }
        return Main.OK;
    }
}
