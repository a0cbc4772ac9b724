package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Settings;
import io.celeriac.manager.Alerts;
import io.celeriac.manager.ControlSocket;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.ManagerLock;
import io.celeriac.manager.ProgramRecords;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Backends;
import io.celeriac.spi.NodeBeat;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
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
    /** A node not heard from for this long has gone away; it is listed, not counted. */
    private static final Duration FORGOTTEN = Duration.ofMinutes(10);

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
            fail("broker", ctx.config.get(Settings.BROKER_URL) + ": " + Main.oneLine(e.getMessage()));
            app = null;
        }
        boolean up = false;
        if (app != null) {
            try (Celeriac a = app) {
                up = timed("broker", a.broker().describe(), () -> a.broker().size(ctx.config.get(Settings.TASK_DEFAULT_QUEUE)))
                        && timed("result_backend", a.results().describe(), () -> a.results().get("celeriac-health-" + UUID.randomUUID()));
                if (up) {
                    checkNodes(ctx, a, expectBeat);
                    checkLastHealthCheck(ctx, a);
                }
            }
        }
        if (!up) {
            out.println("-     workers, beat, health_check: not checked (the broker or result store is down)");
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

    private boolean timed(String check, String target, Runnable probe) {
        long t0 = System.nanoTime();
        try {
            probe.run();
            ok(check, target + " answered in " + String.format("%.1f", (System.nanoTime() - t0) / 1e6) + " ms");
            return true;
        } catch (RuntimeException e) {
            fail(check, target + ": " + Main.oneLine(e.getMessage()));
            return false;
        }
    }

    private void checkNodes(ManagerContext ctx, Celeriac app, boolean expectBeat) throws Exception {
        long now = System.currentTimeMillis();
        Duration liveness = ctx.config.get(Settings.WORKER_LIVENESS_TIMEOUT);
        Map<String, JsonNode> workers = new TreeMap<>();
        Map<String, NodeBeat> beats = new TreeMap<>();
        for (NodeBeat b : app.broker().nodes().values()) {
            if (now - b.at().toEpochMilli() > FORGOTTEN.toMillis()) {
                continue;
            }
            if (!b.isWorker() && !b.isBeat()) {
                continue; // an event listener (celeriac events), not a worker
            }
            JsonNode j = Json.read(b.json());
            if (b.isBeat()) {
                beats.put(b.node(), b);
            } else {
                workers.put(b.node(), j);
            }
        }
        if (workers.isEmpty()) {
            fail("workers", "no worker has sent a heartbeat in the last " + FORGOTTEN.toMinutes() + " minutes");
        } else {
            long t0 = System.nanoTime();
            Map<String, JsonNode> pongs = app.broker().control().call("ping", null, List.copyOf(workers.keySet()),
                    List.copyOf(workers.keySet()), Duration.ofSeconds(2));
            long pingMs = (System.nanoTime() - t0) / 1_000_000;
            for (Map.Entry<String, JsonNode> w : workers.entrySet()) {
                String check = "worker " + w.getKey();
                if (!pongs.containsKey(w.getKey())) {
                    fail(check, "no answer to a ping through the broker within 2 s");
                    continue;
                }
                double lastPoll = w.getValue().path("last_poll").asDouble();
                double lastDone = w.getValue().path("last_task_done").asDouble();
                double progress = (now / 1000.0) - Math.max(lastPoll, lastDone);
                if (progress > liveness.toSeconds()) {
                    fail(check, String.format("answers, but made no progress for %.0f s (worker_liveness_timeout %d s):"
                            + " it neither polled the broker nor finished a task", progress, liveness.toSeconds()));
                } else {
                    ok(check, String.format("answered a ping (%d ms); polled the broker %.1f s ago; %d running, %d done",
                            pingMs, (now / 1000.0) - lastPoll, w.getValue().path("active").asInt(),
                            w.getValue().path("succeeded").asLong() + w.getValue().path("failed").asLong()));
                }
            }
        }
        Optional<String> holder = app.coordination().holder("celeriac.beat.leader");
        Optional<NodeBeat> fresh = beats.values().stream().filter(b -> now - b.at().toEpochMilli() < 15_000).findAny();
        if (holder.isPresent() || fresh.isPresent()) {
            ok("beat", holder.map(h -> "leader " + h.replaceAll("/.*", "")).orElse("no leader yet")
                    + fresh.map(b -> ", heartbeat " + (now - b.at().toEpochMilli()) / 1000.0 + " s ago").orElse(""));
        } else if (expectBeat || !beats.isEmpty()) {
            fail("beat", "no leader lock and no heartbeat in the last 15 s");
        }
    }

    private void checkLastHealthCheck(ManagerContext ctx, Celeriac app) throws Exception {
        Duration interval = ctx.config.get(Settings.HEALTH_CHECK_INTERVAL);
        Optional<String> rec = app.coordination().get("celeriac.health_check.last");
        if (rec.isEmpty()) {
            ok("health_check", interval.isZero() ? "off (health_check_interval is 0)" : "has not run yet");
            return;
        }
        JsonNode r = Json.read(rec.get());
        Instant at = CeleryTime.parse(r.get("checked_at").asText());
        long age = Duration.between(at, Instant.now()).toSeconds();
        if (!r.path("healthy").asBoolean()) {
            List<String> bad = new ArrayList<>();
            r.path("checks").fields().forEachRemaining(e -> {
                if (!e.getValue().path("ok").asBoolean()) {
                    bad.add(e.getKey() + " (" + e.getValue().path("error").asText() + ")");
                }
            });
            fail("health_check", "the last run, " + age + " s ago, failed: " + String.join(", ", bad));
        } else if (!interval.isZero() && age > interval.multipliedBy(2).plusMinutes(1).toSeconds()) {
            fail("health_check", "the last run was " + age + " s ago (due every " + interval.toSeconds() + " s): is beat running?");
        } else {
            ok("health_check", "the last run, " + age + " s ago, passed");
        }
    }
}
