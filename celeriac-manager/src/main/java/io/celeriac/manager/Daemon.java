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
import java.util.Map;
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
    /** Given to every program: its manager's {@link ProcessId} ("PID:START"); a worker or beat stops itself warmly once that process is gone. */
    public static final String MANAGER_ENV = "CELERIAC_MANAGER";
    /** Given to every program: its log file, where it says why it stops when its manager is gone (its output pipe went with the manager). */
    public static final String LOG_ENV = "CELERIAC_MANAGER_LOG";
    private static final Duration TICK = Duration.ofMillis(100);

    private final List<ProgramSpec> programs;
    private final Path runDir;
    private final Supervisor supervisor;
    private final ProgramLogs logs;
    private final Alerts alerts;
    private final CountDownLatch shutdown = new CountDownLatch(1);
    private final ProgramRecords records;
    private final Recording recording;
    private boolean lockLost;

    public Daemon(List<ProgramSpec> programs, Path runDir, ProgramLogs logs, Alerts alerts, Launcher launcher) {
        this.programs = programs;
        this.runDir = runDir;
        this.logs = logs;
        this.alerts = alerts;
        this.records = new ProgramRecords(runDir);
        this.recording = new Recording(launcher);
        this.supervisor = new Supervisor(programs, recording, logs, alerts, Clock.systemUTC());
    }

    /**
     * The launcher as the manager uses it: each process is recorded ({@link ProgramRecords}) while it
     * runs, and is told who its manager is ({@link #MANAGER_ENV}: pid and start time; {@link #LOG_ENV}:
     * its log file), so that it stops itself, warmly, if the manager is killed.
     */
    private final class Recording implements Launcher {
        private final Launcher os;
        private final ProcessId self = ProcessId.current();
        private final Map<String, ProgramRecords.Entry> live = new java.util.concurrent.ConcurrentHashMap<>();

        Recording(Launcher os) {
            this.os = os;
        }

        @Override
        public Child launch(String processName, List<String> command, Map<String, String> environment, LineSink output)
                throws IOException {
            Map<String, String> env = new java.util.LinkedHashMap<>(environment);
            env.put(MANAGER_ENV, self.toString());
            env.put(LOG_ENV, logs.file(processName).toString());
            Child c = os.launch(processName, command, env, output);
            ProgramSpec spec = programs.stream().filter(p -> p.processNames().contains(processName)).findFirst().orElseThrow();
            Optional<ProcessId> id = ProcessId.of(c.pid());
            id.ifPresent(i -> {
                ProgramRecords.Entry e = new ProgramRecords.Entry(processName, spec.name(), spec.kind(), i, spec.stopwaitsecs(), self);
                live.put(processName, e);
                records.write(e);
            });
            return new Child() {
                private boolean removed = id.isEmpty();

                @Override
                public long pid() {
                    return c.pid();
                }

                @Override
                public Integer exitCode() {
                    Integer code = c.exitCode();
                    if (code != null && !removed) {
                        removed = true;
                        live.computeIfPresent(processName, (k, e) -> e.id().equals(id.get()) ? null : e);
                        records.remove(processName, id.get());
                    }
                    return code;
                }

                @Override
                public void terminate() {
                    c.terminate();
                }

                @Override
                public void kill() {
                    c.kill();
                }
            };
        }
    }

    /**
     * The pid of the live manager on {@code runDir}, if there is one: the process that holds
     * {@code manager.lock} ({@link ManagerLock}). A stale pid file, or a deleted control socket, does not change the answer.
     */
    public static Optional<Long> running(Path runDir) {
        return ManagerLock.holder(runDir).map(ProcessId::pid);
    }

    /** Processes a manager that is gone (killed) left running on {@code runDir}; empty while a manager runs. */
    public static List<ProgramRecords.Entry> orphans(Path runDir) {
        if (ManagerLock.holder(runDir).isPresent()) {
            return List.of();
        }
        return new ProgramRecords(runDir).live();
    }

    /** {@code start} while a manager holds the run directory. */
    public static final class AlreadyRunning extends RuntimeException {
        private final long pid;

        public AlreadyRunning(long pid, Path runDir) {
            super("already running (manager pid " + pid + " holds " + runDir.resolve(ManagerLock.FILE) + ")");
            this.pid = pid;
        }

        public long pid() {
            return pid;
        }
    }

    public Supervisor supervisor() {
        return supervisor;
    }

    /**
     * The run directory as the CLI needs it, put back if a tidy-up deleted part of it under the live
     * manager: the lock (else a second manager could start), the pid file, the records of the running
     * processes (else a kill -9 later would leave them unfound), the control socket.
     */
    private void ensureRunDir(ManagerLock lock, ControlSocket socket, Path pidFile) {
        try {
            Files.createDirectories(runDir);
            if (!lock.ensureHeld() && !lockLost) {
                lockLost = true;
                log.error("manager: {} was deleted, and another process has locked the new one: a second manager may run on {};"
                        + " stop this one (pid {})", runDir.resolve(ManagerLock.FILE), runDir, ProcessHandle.current().pid());
            }
            if (!Files.exists(pidFile)) {
                Files.writeString(pidFile, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
            }
            recording.live.values().stream().filter(e -> !records.has(e.process())).forEach(records::write);
        } catch (IOException e) {
            log.warn("manager: run directory {}: {}", runDir, e.getMessage());
        }
        socket.ensureBound();
    }

    /**
     * Runs until {@link #shutdown()}; returns the exit code (0). Throws {@link AlreadyRunning} when
     * another manager holds the run directory. Processes left running by a manager that was killed
     * are stopped first (warmly: SIGTERM, SIGKILL after their stopwaitsecs): never two of one program.
     */
    public int run() throws IOException, InterruptedException {
        Files.createDirectories(runDir);
        ManagerLock lock = ManagerLock.acquire(runDir)
                .orElseThrow(() -> new AlreadyRunning(ManagerLock.holder(runDir).map(ProcessId::pid).orElse(0L), runDir));
        Path pidFile = runDir.resolve(PID_FILE);
        try {
            Files.writeString(pidFile, ProcessHandle.current().pid() + "\n", StandardCharsets.UTF_8);
            List<ProgramRecords.Entry> leftovers = records.live();
            if (!leftovers.isEmpty()) {
                ProgramRecords.stop(records, leftovers, line -> log.warn("manager: {}", line));
            }
            records.clear();
            try (ControlSocket socket = new ControlSocket(runDir, this::handle)) {
                log.info("manager {} on {}: starting {}", ProcessHandle.current().pid(), runDir.toAbsolutePath(),
                        programs.stream().map(p -> p.name() + (p.count() > 1 ? " ×" + p.count() : "")).toList());
                supervisor.startAll();
                int ticks = 0;
                while (!shutdown.await(TICK.toMillis(), TimeUnit.MILLISECONDS)) {
                    supervisor.tick();
                    if (++ticks % 10 == 0) {
                        ensureRunDir(lock, socket, pidFile);
                    }
                }
                log.info("manager: stopping every program (warm shutdown)");
                supervisor.stopAll();
                while (!supervisor.allDown()) {
                    Thread.sleep(TICK.toMillis());
                    supervisor.tick();
                }
                log.info("manager: every program stopped");
            }
        } finally {
            Files.deleteIfExists(pidFile);
            records.clear();
            logs.close();
            alerts.close();
            lock.close();
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
