package io.celeriac.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.manager.ControlSocket;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.ManagerLock;
import io.celeriac.manager.ProcessId;
import io.celeriac.manager.ProgramRecords;
import io.celeriac.protocol.Json;
import io.celeriac.spi.NodeBeat;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"The supervised processes (state, pid, uptime, restarts, last exit) and, from their heartbeats, each",
                "worker's tasks done, running and failed. Exit 0: all RUNNING; 1: some not; 7: no manager running",
                "(processes a killed manager left running are listed as ORPHANED)."})
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--json", description = "Print JSON, for scripts.")
    boolean json;

    @Override
    public Integer call() {
        ManagerContext ctx = new ManagerContext(config);
        PrintWriter out = spec.commandLine().getOut();
        ObjectNode doc = Json.NODES.objectNode();
        Optional<Long> pid = Daemon.running(ctx.runDir);
        ArrayNode processes = null;
        if (pid.isPresent()) {
            try {
                processes = (ArrayNode) ControlSocket.request(ctx.runDir, Json.NODES.objectNode().put("command", "status"),
                        Duration.ofSeconds(10)).get("processes");
                doc.put("manager_pid", pid.get());
                doc.set("processes", processes);
            } catch (IOException e) {
                doc.put("manager_error", Main.oneLine(e.getMessage()));
            }
        } else {
            doc.putNull("manager_pid");
        }
        List<ProgramRecords.Entry> orphans = pid.isEmpty() ? Daemon.orphans(ctx.runDir) : List.of();
        Optional<ProcessId> killed = pid.isEmpty() ? ManagerLock.killedHolder(ctx.runDir) : Optional.empty();
        killed.ifPresent(k -> doc.put("killed_manager_pid", k.pid()));
        if (pid.isEmpty()) {
            ArrayNode rows = doc.putArray("orphans");
            for (ProgramRecords.Entry o : orphans) {
                ObjectNode r = rows.addObject();
                r.put("process", o.process());
                r.put("program", o.program());
                r.put("kind", o.kind());
                r.put("state", "ORPHANED");
                r.put("pid", o.id().pid());
                Optional<java.time.Instant> since = ProcessHandle.of(o.id().pid()).flatMap(h -> h.info().startInstant());
                if (since.isPresent()) {
                    r.put("uptime_seconds", Duration.between(since.get(), java.time.Instant.now()).toSeconds());
                } else {
                    r.putNull("uptime_seconds");
                }
            }
        }
        ArrayNode workers = doc.putArray("workers");
        try (Celeriac app = Celeriac.open(ctx.config, new TaskRegistry())) {
            long now = System.currentTimeMillis();
            for (NodeBeat b : app.coordination().nodes().values().stream().filter(n -> n.isWorker() || n.isBeat())
                    .sorted(Comparator.comparing(NodeBeat::node)).toList()) {
                JsonNode beat = Json.read(b.json());
                ObjectNode w = workers.addObject();
                w.put("node", b.node());
                w.put("type", beat.path("type").asText());
                w.put("seconds_since_heartbeat", (now - b.at().toEpochMilli()) / 1000.0);
                w.put("active", beat.path("active").asInt());
                w.put("done", beat.path("succeeded").asLong() + beat.path("failed").asLong());
                w.put("succeeded", beat.path("succeeded").asLong());
                w.put("failed", beat.path("failed").asLong());
            }
        } catch (Exception e) {
            doc.put("broker_error", Main.oneLine(e.getMessage()));
        }
        int code = pid.isEmpty() ? Main.NOT_RUNNING : processes == null ? Main.FAILED
                : allRunning(processes) ? Main.OK : Main.FAILED;
        if (json) {
            out.println(Json.write(doc));
            return code;
        }
        if (pid.isEmpty() && !orphans.isEmpty()) {
            out.println("manager: not running — " + killed.map(k -> "the last one (pid " + k.pid() + ")").orElse("the last one")
                    + " was killed or died and left " + orphans.size() + " process" + (orphans.size() == 1 ? "" : "es")
                    + " running unsupervised (celeriac stop ends them; celeriac start replaces them)");
            out.printf("%-16s %-9s %-8s %-10s%n", "PROCESS", "STATE", "PID", "UPTIME");
            for (JsonNode o : doc.get("orphans")) {
                out.printf("%-16s %-9s %-8s %-10s%n", o.get("process").asText(), o.get("state").asText(), o.get("pid").asText(),
                        o.get("uptime_seconds").isNull() ? "-" : uptime(o.get("uptime_seconds").asLong()));
            }
        } else if (pid.isEmpty()) {
            out.println("manager: not running" + killed.map(k -> "; the last one (pid " + k.pid()
                    + ") was killed or died, and none of its programs runs any more").orElse("") + " (start it with: celeriac start)");
        } else if (processes == null) {
            out.println("manager: pid " + pid.get() + ", not answering: " + doc.path("manager_error").asText());
        } else {
            out.println("manager: pid " + pid.get());
            out.printf("%-16s %-9s %-8s %-10s %-9s %s%n", "PROCESS", "STATE", "PID", "UPTIME", "RESTARTS", "LAST EXIT");
            for (JsonNode p : processes) {
                out.printf("%-16s %-9s %-8s %-10s %-9d %s%n", p.get("process").asText(), p.get("state").asText(),
                        p.get("pid").isNull() ? "-" : p.get("pid").asText(),
                        p.get("uptime_seconds").isNull() ? "-" : uptime(p.get("uptime_seconds").asLong()),
                        p.get("restarts").asInt(), p.get("last_exit").asText());
            }
        }
        out.println();
        if (doc.has("broker_error")) {
            out.println("broker: " + doc.get("broker_error").asText());
        } else if (workers.isEmpty()) {
            out.println("no workers or beats have reported to the broker");
        } else {
            out.printf("%-28s %-16s %-10s %-7s %-9s %s%n", "NODE (by heartbeat)", "TYPE", "SEEN", "ACTIVE", "DONE", "FAILED");
            for (JsonNode w : workers) {
                boolean isWorker = w.get("type").asText().startsWith("worker");
                out.printf("%-28s %-16s %-10s %-7s %-9s %s%n", w.get("node").asText(), w.get("type").asText(),
                        String.format("%.0fs ago", w.get("seconds_since_heartbeat").asDouble()),
                        isWorker ? w.get("active").asText() : "-", isWorker ? w.get("done").asText() : "-",
                        isWorker ? w.get("failed").asText() : "-");
            }
        }
        return code;
    }

    private static boolean allRunning(ArrayNode processes) {
        for (JsonNode p : processes) {
            if (!p.get("state").asText().equals("RUNNING")) {
                return false;
            }
        }
        return true;
    }

    static String uptime(long s) {
        return String.format("%d:%02d:%02d", s / 3600, (s % 3600) / 60, s % 60);
    }
}
