package io.celeriac.cli;

import io.celeriac.BrokerException;
import io.celeriac.CeleriacException;
import io.celeriac.config.Secrets;
import io.celeriac.worker.Worker;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code celeriac}: the command line. Exit codes: 0 done; 1 the thing asked about failed (a task,
 * a check); 2 bad input (arguments, configuration, unknown task); 3 the broker could not be used;
 * 4 start: the manager is already running; 7 stop/status: the manager is not running;
 * 70 an internal error (a bug: please report it with the stack trace printed).
 */
@Command(name = "celeriac", mixinStandardHelpOptions = true, version = "celeriac " + Worker.VERSION,
        description = "A distributed task queue for the JVM that speaks Celery's protocol.",
        subcommands = {StartCommand.class, StopCommand.class, RestartCommand.class, StatusCommand.class, HealthCommand.class,
                LogsCommand.class, GenerateCommand.class, WorkerCommand.class, BeatCommand.class, CallCommand.class,
                ResultCommand.class, RevokeCommand.class, InspectCommand.class, ControlCommand.class, EventsCommand.class, WatchCommand.class, PurgeCommand.class, DashboardCommand.class, DemoCommand.class, SettingsCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;
    static final int UNAVAILABLE = 3;
    static final int ALREADY_RUNNING = 4;
    static final int NOT_RUNNING = 7;
    static final int INTERNAL = 70;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /**
     * The configuration options before the command, as Celery 5 takes them ({@code celeriac -A App -b URL
     * worker -l INFO}): the same {@link ConfigOptions} every command has, handed down to the command
     * run ({@link ConfigOptions#handDown}); a value given after the command wins.
     */
    @CommandLine.Mixin
    ConfigOptions config;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is needed: start, stop, restart, status, health, logs, generate, worker, beat, call, result, revoke, inspect, control, events, watch, purge, dashboard, demo or settings");
    }

    public static void main(String[] args) {
        int code = execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true));
        System.exit(code);
    }

    /** Runs one command line; returns the exit code. Output and errors go to the given writers. */
    static int execute(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setOverwrittenOptionsAllowed(true); // the last of a repeated option wins, as in most tools
        cl.setExecutionStrategy(parsed -> {
            ConfigOptions.handDown(parsed);
            return new CommandLine.RunLast().execute(parsed);
        });
        cl.setParameterExceptionHandler((ex, a) -> {
            CommandLine cmd = ex.getCommandLine();
            err.println("celeriac: " + oneLine(ex.getMessage()) + " (see '" + cmd.getCommandSpec().qualifiedName() + " --help')");
            return USAGE;
        });
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            if (ex instanceof CeleriacException ce && ce.isUserError()) {
                err.println("celeriac: " + oneLine(ex.getMessage()));
                return USAGE;
            }
            if (ex instanceof BrokerException) {
                err.println("celeriac: " + oneLine(ex.getMessage()));
                return UNAVAILABLE;
            }
            if (ex instanceof IllegalArgumentException) {
                err.println("celeriac: " + oneLine(ex.getMessage()));
                return USAGE;
            }
            err.println("celeriac: internal error: " + Secrets.redact(ex.toString()));
            ex.printStackTrace(err);
            return INTERNAL;
        });
        return cl.execute(args);
    }

    /** A message on one line, with its secrets masked (a URL's password, a webhook's token: {@link Secrets}). */
    static String oneLine(String s) {
        return s == null ? "" : Secrets.redact(s.replace('\n', ' ').replace('\r', ' '));
    }
}
