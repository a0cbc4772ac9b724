package io.celeriac.cli;

import io.celeriac.manager.ControlSocket;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.ManagerLock;
import io.celeriac.manager.ProgramRecords;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

@Command(name = "stop", mixinStandardHelpOptions = true,
        description = {"Stop every program warmly (SIGTERM, then SIGKILL after stopwaitsecs), then the manager.",
                "Processes a killed manager left running are found by their records and stopped the same way."})
final class StopCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        return stop(new ManagerContext(config), spec.commandLine().getOut(), spec.commandLine().getErr(), true);
    }

    static int stop(ManagerContext ctx, java.io.PrintWriter out, java.io.PrintWriter err, boolean sayIfNotRunning)
            throws InterruptedException {
        Optional<Long> pid = Daemon.running(ctx.runDir);
        if (pid.isEmpty()) {
            List<ProgramRecords.Entry> orphans = Daemon.orphans(ctx.runDir);
            if (!orphans.isEmpty()) {
                out.println("celeriac: no manager is running on " + ctx.runDir + " (it was killed or died)"
                        + ManagerLock.killedHolder(ctx.runDir).map(m -> " (pid " + m.pid() + ")").orElse("")
                        + ", but it left " + orphans.size() + " process" + (orphans.size() == 1 ? "" : "es") + " running");
                List<ProgramRecords.Entry> left = ProgramRecords.stop(new ProgramRecords(ctx.runDir), orphans, line -> {
                    out.println("celeriac: " + line);
                    out.flush();
                });
                if (!left.isEmpty()) {
                    err.println("celeriac: still running after SIGKILL: "
                            + String.join(", ", left.stream().map(ProgramRecords.Entry::describe).toList()));
                    return Main.FAILED;
                }
                out.println("celeriac: stopped");
                return Main.OK;
            }
            if (sayIfNotRunning) {
                err.println("celeriac: not running (no manager on " + ctx.runDir + ")");
            }
            return Main.NOT_RUNNING;
        }
        try {
            ControlSocket.request(ctx.runDir, Json.NODES.objectNode().put("command", "shutdown"), Duration.ofSeconds(10));
        } catch (IOException e) {
            err.println("celeriac: the manager (pid " + pid.get() + ") does not answer on its socket: " + e.getMessage()
                    + "; sending it SIGTERM");
            if (pid.get() > 0) {
                ProcessHandle.of(pid.get()).ifPresent(ProcessHandle::destroy);
            }
        }
        Duration wait = ctx.programs().stream().map(p -> p.stopwaitsecs()).max(Duration::compareTo).orElse(Duration.ZERO)
                .plusSeconds(30);
        long deadline = System.nanoTime() + wait.toNanos();
        while (Daemon.running(ctx.runDir).isPresent() || io.celeriac.manager.ProcessId.of(pid.get()).isPresent()) {
            if (System.nanoTime() > deadline) {
                err.println("celeriac: the manager (pid " + pid.get() + ") is still stopping after " + wait.toSeconds() + " s; see "
                        + ctx.logDir.resolve("manager.log"));
                return Main.FAILED;
            }
            Thread.sleep(100);
        }
        out.println("celeriac: stopped");
        return Main.OK;
    }
}
