package io.celeriac.cli;

import io.celeriac.config.Settings;
import io.celeriac.manager.Alerts;
import io.celeriac.manager.ControlSocket;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.OsLauncher;
import io.celeriac.manager.ProgramLogs;
import io.celeriac.manager.ProgramRecords;
import io.celeriac.manager.ProgramSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "start", mixinStandardHelpOptions = true,
        description = {"Start the manager: a daemon that runs and supervises the programs (by default a worker and a beat),",
                "restarting them when they die. Logs in log_dir; control with stop, restart, status, health, logs."})
final class StartCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--foreground", description = "Stay attached (for systemd Type=simple and containers); SIGTERM stops.")
    boolean foreground;

    @Override
    public Integer call() throws IOException, InterruptedException {
        ManagerContext ctx = new ManagerContext(config);
        List<ProgramSpec> programs = ctx.programs();
        ManagerContext.writableDir(ctx.runDir, "run_dir");
        ManagerContext.writableDir(ctx.logDir, "log_dir");
        Optional<Long> running = Daemon.running(ctx.runDir);
        if (running.isPresent()) {
            spec.commandLine().getErr().println(alreadyRunning(ctx, running.get()));
            return Main.ALREADY_RUNNING;
        }
        if (!stopOrphans(ctx, spec.commandLine().getOut(), spec.commandLine().getErr())) {
            return Main.FAILED;
        }
        if (foreground) {
            ProgramLogs logs = new ProgramLogs(ctx.logDir, programs, ctx.config.get(Settings.LOGFILE_MAXBYTES),
                    ctx.config.get(Settings.LOGFILE_BACKUPS));
            Daemon daemon = new Daemon(programs, ctx.runDir, logs, new Alerts(ctx.config.get(Settings.ALERT_WEBHOOK_URL)),
                    new OsLauncher());
            Signals.onTermination("stopping every program", "stopping every program", daemon::shutdown, daemon::shutdown);
            try {
                return daemon.run();
            } catch (Daemon.AlreadyRunning e) { // another start took the run directory in between
                spec.commandLine().getErr().println(alreadyRunning(ctx, e.pid()));
                return Main.ALREADY_RUNNING;
            }
        }
        return detach(ctx, programs, spec.commandLine().getOut(), spec.commandLine().getErr());
    }

    /** The one line for a start while a manager runs (whether or not its control socket is there). */
    static String alreadyRunning(ManagerContext ctx, long pid) {
        Path socket = ctx.runDir.resolve(ControlSocket.FILE);
        return "celeriac: already running (manager pid " + pid + ")"
                + (Files.exists(socket) ? "" : "; its control socket " + socket + " is missing: the manager binds it again within a second")
                + "; see: celeriac status";
    }

    /**
     * Processes a killed manager left running (found by their records: pid and start time) are
     * stopped before a new manager starts its own: SIGTERM (warm), SIGKILL after their stopwaitsecs.
     * Returns false, having said why, when one could not be stopped.
     */
    static boolean stopOrphans(ManagerContext ctx, java.io.PrintWriter out, java.io.PrintWriter err) throws InterruptedException {
        List<ProgramRecords.Entry> orphans = Daemon.orphans(ctx.runDir);
        if (orphans.isEmpty()) {
            return true;
        }
        List<ProgramRecords.Entry> left = ProgramRecords.stop(new ProgramRecords(ctx.runDir), orphans, line -> {
            out.println("celeriac: " + line);
            out.flush();
        });
        if (!left.isEmpty()) {
            err.println("celeriac: cannot stop " + String.join(", ", left.stream().map(ProgramRecords.Entry::describe).toList())
                    + " (left by a manager that is gone): not starting a second copy; end them by hand");
            return false;
        }
        return true;
    }

    /** Starts the daemon as a process of its own session, and waits until it answers. */
    static int detach(ManagerContext ctx, List<ProgramSpec> programs, java.io.PrintWriter out, java.io.PrintWriter err)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("start", "--foreground"));
        args.addAll(ctx.options.passThrough());
        Path log = ctx.logDir.resolve("manager.log");
        Process p = ManagerContext.startInOwnSession(args, ProcessBuilder.Redirect.appendTo(log.toFile()), java.util.Map.of());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Long> pid = Daemon.running(ctx.runDir);
            if (pid.isPresent() && Files.exists(ctx.runDir.resolve(ControlSocket.FILE))) {
                out.println("celeriac: started (manager pid " + pid.get() + "): "
                        + String.join(", ", programs.stream().map(s -> s.name() + (s.count() > 1 ? " ×" + s.count() : "")).toList())
                        + "; logs in " + ctx.logDir + ctx.dashboardNote(programs));
                return Main.OK;
            }
            if (!p.isAlive() && p.exitValue() == Main.ALREADY_RUNNING) {
                err.println(alreadyRunning(ctx, Daemon.running(ctx.runDir).orElse(0L)));
                return Main.ALREADY_RUNNING;
            }
            if (!p.isAlive()) {
                err.println("celeriac: the manager exited at once (code " + p.exitValue() + "); the end of " + log + ":");
                tail(log, 15).forEach(l -> err.println("  " + l));
                return Main.FAILED;
            }
            Thread.sleep(100);
        }
        err.println("celeriac: the manager did not answer within 60 s; see " + log);
        return Main.FAILED;
    }

    /** The last {@code n} lines of a log, reaching into its last rotated file (NAME.log.1) when it is short. */
    static List<String> tail(Path file, int n) {
        try {
            List<String> lines = new ArrayList<>(Files.exists(file) ? Files.readAllLines(file) : List.of());
            Path previous = file.resolveSibling(file.getFileName() + ".1");
            if (lines.size() < n && Files.exists(previous)) {
                lines.addAll(0, Files.readAllLines(previous));
            }
            return lines.subList(Math.max(0, lines.size() - n), lines.size());
        } catch (IOException e) {
            return List.of("(cannot read " + file + ": " + e.getMessage() + ")");
        }
    }
}
