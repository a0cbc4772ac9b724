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
            fail("broker", Secrets.redact(ctx.config.get(Settings.BROKER_URL)) + ": " + Main.oneLine(e.getMessage()));
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
                JsonNode lost = w.getValue().path("broker_data_lost");
                if (lost.isObject()) { // sticky until the worker restarts: what was lost stays lost
                    fail(check, lost.path("message").asText() + String.format(" (seen %.0f s ago; fails until this worker is restarted)",
                            (now / 1000.0) - lost.path("at").asDouble()));
                    continue;
                }
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
        checkBeat(ctx, app, beats, now, expectBeat);
    }

    /**
     * The beat leader is judged by its heartbeat, not by its lock alone: a leader killed with
     * {@code kill -9} still holds the lock until its lease runs out, but it stops sending heartbeats,
     * and one silent for half its lease (a leader sends one every fifth of it) is down or stuck.
     */
    private void checkBeat(ManagerContext ctx, Celeriac app, Map<String, NodeBeat> beats, long now, boolean expectBeat) {
        Duration configured = ctx.config.get(Settings.BEAT_LOCK_TIMEOUT);
        Optional<String> holder = app.coordination().holder("celeriac.beat.leader");
        java.util.function.Function<NodeBeat, Double> age = b -> (now - b.at().toEpochMilli()) / 1000.0;
        java.util.function.Function<NodeBeat, Double> silentAfter = b -> {
            JsonNode j = json(b);
            double lease = j.path("lease").asDouble(configured.toMillis() / 1000.0);
            double freq = j.path("freq").asDouble(2.0);
            return Math.max(lease / 2, 2 * freq);
        };
        List<String> alive = beats.values().stream().filter(b -> age.apply(b) <= silentAfter.apply(b)).map(NodeBeat::node).toList();
        if (holder.isPresent()) {
            String leader = holder.get().replaceAll("/.*", "");
            NodeBeat hb = beats.get(leader);
            if (hb == null || age.apply(hb) > silentAfter.apply(hb)) {
                fail("beat", "leader " + leader + (hb == null ? " has sent no heartbeat"
                        : String.format(" has sent no heartbeat for %.1f s", age.apply(hb)))
                        + " but still holds the leader lock: it is down or stuck; "
                        + (alive.isEmpty() ? "no other beat is running to take over"
                        : "a standby (" + String.join(", ", alive) + ") takes over when its lease runs out"));
            } else {
                List<String> standby = alive.stream().filter(n -> !n.equals(leader)).toList();
                ok("beat", String.format("leader %s, heartbeat %.1f s ago", leader, age.apply(hb))
                        + (standby.isEmpty() ? "" : "; standby " + String.join(", ", standby)));
            }
        } else if (!alive.isEmpty()) {
            ok("beat", "no leader this instant; " + String.join(", ", alive) + " running, one takes the lock at its next look");
        } else if (expectBeat || !beats.isEmpty()) {
            Optional<NodeBeat> last = beats.values().stream().filter(b -> json(b).path("leader").asBoolean())
                    .max(java.util.Comparator.comparing(NodeBeat::at));
            fail("beat", "no beat is running: " + last.map(b -> String.format("the last leader, %s, has sent no heartbeat for %.1f s",
                    b.node(), age.apply(b))).orElse("no beat has sent a heartbeat in the last " + FORGOTTEN.toMinutes() + " minutes"));
        }
    }

    private static JsonNode json(NodeBeat b) {
        try {
            return Json.read(b.json());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            return Json.NODES.objectNode(); // a heartbeat not written by this version: judged by the defaults
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
