package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.manager.ControlSocket;
import io.celeriac.manager.Daemon;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "restart", mixinStandardHelpOptions = true,
        description = {"Restart everything (stop, then start), or one program: celeriac restart worker.",
                "Stopping is a warm shutdown: running tasks finish first, so none is lost."})
final class RestartCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", arity = "0..1", paramLabel = "PROGRAM")
    String program;

    @Override
    public Integer call() throws IOException, InterruptedException {
        ManagerContext ctx = new ManagerContext(config);
        if (program == null) {
            int stopped = StopCommand.stop(ctx, spec.commandLine().getOut(), spec.commandLine().getErr(), false);
            if (stopped != Main.OK && stopped != Main.NOT_RUNNING) {
                return stopped;
            }
            return StartCommand.detach(ctx, ctx.programs(), spec.commandLine().getOut(), spec.commandLine().getErr());
        }
        ctx.programs().stream().filter(p -> p.name().equals(program) || p.processNames().contains(program)).findAny()
                .orElseThrow(() -> new io.celeriac.ConfigException("no program named '" + program + "' (programs: "
                        + String.join(", ", ctx.programs().stream().map(p -> p.name()).toList()) + ")"));
        if (Daemon.running(ctx.runDir).isEmpty()) {
            spec.commandLine().getErr().println("celeriac: not running (no manager on " + ctx.runDir + "); start it with: celeriac start");
            return Main.NOT_RUNNING;
        }
        Duration wait = ctx.programs().stream().map(p -> p.stopwaitsecs()).max(Duration::compareTo).orElse(Duration.ZERO)
                .plusSeconds(30);
        JsonNode answer = ControlSocket.request(ctx.runDir,
                Json.NODES.objectNode().put("command", "restart").put("program", program), wait);
        if (answer.has("error")) {
            spec.commandLine().getErr().println("celeriac: " + answer.get("error").asText());
            return Main.USAGE;
        }
        spec.commandLine().getOut().println("celeriac: restarted " + program);
        return Main.OK;
    }
}
