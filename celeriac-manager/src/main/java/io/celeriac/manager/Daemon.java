package io.celeriac.manager;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The manager's daemon (what {@code celeriac start} leaves running): a pid file, the control socket,
 * the programs' logs, and the supervision loop. {@link #run()} returns when it was told to shut
 * down and every program has stopped.
 */
public final class Daemon {
    private static final Logger log = LoggerFactory.getLogger("celeriac.manager");
    public static final String PID_FILE = "celeriac.pid";
    private static final Duration TICK = Duration.ofMillis(100);

    private final List<ProgramSpec> programs;
    private final Path runDir;
    private final Supervisor supervisor;
    private final ProgramLogs logs;
    private final Alerts alerts;
    private final CountDownLatch shutdown = new CountDownLatch(1);

    public Daemon(List<ProgramSpec> programs, Path runDir, ProgramLogs logs, Alerts alerts, Launcher launcher) {
        this.programs = programs;
        this.runDir = runDir;
        this.logs = logs;
        this.alerts = alerts;
        this.supervisor = new Supervisor(programs, launcher, logs, alerts, Clock.systemUTC());
    }

    /** The pid of a live manager on {@code runDir}, if there is one (a stale pid file is ignored). */
    public static Optional<Long> running(Path runDir) {
        Path pidFile = runDir.resolve(PID_FILE);
        try {
            long pid = Long.parseLong(Files.readString(pidFile).trim());
            return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).map(h -> pid)
                    .filter(p -> Files.exists(runDir.resolve(ControlSocket.FILE)));
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
    }

    public Supervisor supervisor() {
        return supervisor;
    }

    /** Runs until {@link #shutdown()}; returns the exit code (0). */
    public int run() throws IOException, InterruptedException {
        Files.createDirectories(runDir);
        Path pidFile = runDir.resolve(PID_FILE);
        Files.writeString(pidFile, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
        try (ControlSocket socket = new ControlSocket(runDir, this::handle)) {
            log.info("manager {} on {}: starting {}", ProcessHandle.current().pid(), runDir.toAbsolutePath(),
                    programs.stream().map(p -> p.name() + (p.count() > 1 ? " ×" + p.count() : "")).toList());
            supervisor.startAll();
            while (!shutdown.await(TICK.toMillis(), TimeUnit.MILLISECONDS)) {
                supervisor.tick();
            }
            log.info("manager: stopping every program (warm shutdown)");
            supervisor.stopAll();
            while (!supervisor.allDown()) {
                Thread.sleep(TICK.toMillis());
                supervisor.tick();
            }
            log.info("manager: every program stopped");
        } finally {
            Files.deleteIfExists(pidFile);
            logs.close();
            alerts.close();
        }
        return 0;
    }

    public void shutdown() {
        shutdown.countDown();
    }

    /** One request on the control socket. */
    private JsonNode handle(JsonNode req) {
        String command = req.path("command").asText();
        String program = req.path("program").asText(null);
        ObjectNode answer = Json.NODES.objectNode();
        switch (command) {
            case "status" -> answer.set("processes", status());
            case "shutdown" -> {
                shutdown();
                answer.put("ok", true);
            }
            case "stop" -> {
                supervisor.stop(program);
                await(() -> supervisor.allDown(program), stopTime(program));
                answer.put("ok", supervisor.allDown(program));
            }
            case "start" -> {
                supervisor.start(program);
                answer.put("ok", true);
            }
            case "restart" -> {
                supervisor.stop(program);
                await(() -> supervisor.allDown(program), stopTime(program));
                supervisor.start(program);
                answer.put("ok", true);
            }
            default -> answer.put("error", "unknown command '" + command + "'");
        }
        answer.set("processes", status());
        return answer;
    }

    private Duration stopTime(String program) {
        return programs.stream().filter(p -> program == null || p.name().equals(program)
                        || p.processNames().contains(program))
                .map(ProgramSpec::stopwaitsecs).max(Duration::compareTo).orElse(Duration.ZERO).plusSeconds(10);
    }

    private static void await(java.util.function.BooleanSupplier done, Duration max) {
        long end = System.nanoTime() + max.toNanos();
        while (!done.getAsBoolean() && System.nanoTime() < end) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private ArrayNode status() {
        ArrayNode rows = Json.NODES.arrayNode();
        for (ProcessStatus s : supervisor.status()) {
            ObjectNode r = rows.addObject();
            r.put("process", s.process());
            r.put("program", s.program());
            r.put("kind", s.kind());
            r.put("state", s.state().name());
            if (s.pid() != null) r.put("pid", s.pid()); else r.putNull("pid");
            if (s.uptime() != null) r.put("uptime_seconds", s.uptime().toSeconds()); else r.putNull("uptime_seconds");
            r.put("restarts", s.restarts());
            r.put("last_exit", s.lastExit());
            r.put("since", CeleryTime.format(s.since()));
        }
        return rows;
    }
}
