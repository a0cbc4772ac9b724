package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Secrets;
import io.celeriac.config.Settings;
import io.celeriac.manager.Alerts;
import io.celeriac.manager.ControlSocket;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.ManagerLock;
import io.celeriac.manager.ProgramRecords;
import io.celeriac.protocol.Json;
import io.celeriac.fleet.FleetChecks;
import io.celeriac.spi.Backends;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "health", mixinStandardHelpOptions = true,
        description = {"Check the whole system end to end, one line per check: the manager, the broker, the result store,",
                "each worker (answers a ping within 2 s and is making progress), beat, the last built-in health check.",
                "Exit 0: healthy; 1: unhealthy (the failing checks are named); 2: could not check."})
final class HealthCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--no-manager", description = "Do not expect a manager (workers run under systemd or supervisord).")
    boolean noManager;

    private final List<String> failures = new ArrayList<>();
    private PrintWriter out;

    private void ok(String check, String detail) {
        out.printf("ok    %s: %s%n", check, detail);
    }

    private void fail(String check, String detail) {
        out.printf("FAIL  %s: %s%n", check, detail);
        failures.add(check + ": " + detail);
    }

    @Override
    public Integer call() throws Exception {
        ManagerContext ctx = new ManagerContext(config);
        out = spec.commandLine().getOut();
        boolean expectBeat = checkManager(ctx);
        Backends.checkUrls(ctx.config); // a URL that does not parse is a mistake in the configuration (exit 2)
        Celeriac app;
        try {
            app = Celeriac.open(ctx.config, new TaskRegistry());
        } catch (RuntimeException e) {
            fail("broker", Secrets.redact(ctx.config.get(Settings.BROKER_URL)) + ": " + Main.oneLine(e.getMessage()));
            app = null;
        }
        boolean up = false;
        if (app != null) {
            try (Celeriac a = app) {
                up = report(FleetChecks.broker(a)) && report(FleetChecks.resultStore(a))
                        && FleetChecks.coordination(a).map(this::report).orElse(true);
                if (up) {
                    checkNodes(ctx, a, expectBeat);
                    report(FleetChecks.lastHealthCheck(a));
                }
            }
        }
        if (!up) {
            out.println("-     workers, beat, health_check: not checked (the broker, result store or coordination store is down)");
        }
        out.flush();
        if (!failures.isEmpty()) {
            try (Alerts alerts = new Alerts(ctx.config.get(Settings.ALERT_WEBHOOK_URL))) {
                alerts.unhealthy("celeriac health: " + String.join("; ", failures));
            }
            return Main.FAILED;
        }
        return Main.OK;
    }

    /** Returns whether a beat is expected (the manager runs one). */
    private boolean checkManager(ManagerContext ctx) {
        if (noManager) {
            return false;
        }
        Optional<Long> pid = Daemon.running(ctx.runDir);
        if (pid.isEmpty()) {
            List<ProgramRecords.Entry> orphans = Daemon.orphans(ctx.runDir);
            if (!orphans.isEmpty()) {
                fail("manager", "not running on " + ctx.runDir + "; the last one"
                        + ManagerLock.killedHolder(ctx.runDir).map(k -> " (pid " + k.pid() + ")").orElse("")
                        + " was killed or died and left " + String.join(", ", orphans.stream().map(ProgramRecords.Entry::describe).toList())
                        + " running unsupervised (celeriac stop ends them; celeriac start replaces them)");
                return orphans.stream().anyMatch(o -> o.kind().equals("beat"));
            }
            fail("manager", "not running on " + ctx.runDir + " (start it with: celeriac start; or pass --no-manager)");
            return false;
        }
        try {
            JsonNode processes = ControlSocket.request(ctx.runDir, Json.NODES.objectNode().put("command", "status"),
                    Duration.ofSeconds(5)).get("processes");
            List<String> down = new ArrayList<>();
            boolean beat = false;
            for (JsonNode p : processes) {
                beat |= p.get("kind").asText().equals("beat");
                if (!p.get("state").asText().equals("RUNNING")) {
                    down.add(p.get("process").asText() + " " + p.get("state").asText());
                }
            }
            if (down.isEmpty()) {
                ok("manager", "pid " + pid.get() + ", " + processes.size() + " processes RUNNING");
            } else {
                fail("manager", "pid " + pid.get() + ", not running: " + String.join(", ", down));
            }
            return beat;
        } catch (Exception e) {
            fail("manager", "pid " + pid.get() + " does not answer: " + e.getMessage());
            return false;
        }
    }

    /** Prints one check's line; returns whether it passed. */
    private boolean report(FleetChecks.Result r) {
        if (r.ok()) {
            ok(r.check(), r.detail());
        } else {
            fail(r.check(), r.detail());
        }
        return r.ok();
    }

    private void checkNodes(ManagerContext ctx, Celeriac app, boolean expectBeat) throws InterruptedException {
        Duration liveness = ctx.config.get(Settings.WORKER_LIVENESS_TIMEOUT);
        FleetChecks.Nodes nodes = FleetChecks.Nodes.read(app);
        Map<String, FleetChecks.Heartbeat> workers = nodes.workers();
        if (workers.isEmpty()) {
            fail("workers", "no worker has sent a heartbeat in the last " + FleetChecks.FORGOTTEN.toMinutes() + " minutes");
        } else {
            long t0 = System.nanoTime();
            Map<String, JsonNode> pongs = app.control().call("ping", null, List.copyOf(workers.keySet()),
                    List.copyOf(workers.keySet()), Duration.ofSeconds(2));
            long pingMs = (System.nanoTime() - t0) / 1_000_000;
            for (FleetChecks.Heartbeat w : workers.values()) {
                report(FleetChecks.worker(w, nodes.nowMillis(), liveness, pingMs, pongs.containsKey(w.node())));
            }
        }
        FleetChecks.beat(app, nodes, expectBeat).ifPresent(this::report);
    }
}
