package io.celeriac.cli;

import io.celeriac.Apps;
import io.celeriac.AsyncResult;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.TaskRegistry;
import io.celeriac.TaskState;
import io.celeriac.config.Secrets;
import io.celeriac.config.Settings;
import io.celeriac.manager.Alerts;
import io.celeriac.manager.Daemon;
import io.celeriac.manager.OsLauncher;
import io.celeriac.manager.ProcessStatus;
import io.celeriac.manager.ProgramLogs;
import io.celeriac.manager.ProgramSpec;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.TaskResult;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;

/**
 * The main job of a fresh clone, the seed's set-up in one command: the manager starts a worker and
 * a beat as supervised processes on the embedded broker; the example tasks are sent and their
 * results printed as they arrive; beat sends a periodic scrape; then everything stops warmly.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = "Start the manager with a worker and a beat on the configured broker (default: the embedded SQLite"
                + " file), send the example tasks, print their results and the processes' status, then stop.")
final class DemoCommand implements Callable<Integer> {
    static final String BEAT_ENTRY = "scrape-every-3s";

    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    private record Call(String label, String task, List<?> args, Map<String, ?> kwargs, SendOptions options, TaskState expected) {
    }

    @Override
    public Integer call() throws Exception {
        List<Path> exampleJar = ExampleApp.classPath(); // not in celeriac.jar: the worker and beat get it on their class path
        config.app = ExampleApp.CLASS; // the demo sends the example app's tasks, whatever app is configured
        ManagerContext probe = new ManagerContext(config);
        if (probe.config.get(Settings.BEAT_SCHEDULE).isEmpty()) { // show beat at work, unless a schedule is configured
            config.sets = new ArrayList<>(config.sets);
            config.sets.add(Settings.BEAT_SCHEDULE.name() + "={\"" + BEAT_ENTRY + "\": {\"task\": \"scrape_all_sources\","
                    + " \"schedule\": \"3s\", \"kwargs\": {\"failure_rate\": 0}}}");
        }
        ManagerContext ctx = new ManagerContext(config);
        PrintWriter out = spec.commandLine().getOut();
        Optional<Long> running = Daemon.running(ctx.runDir);
        if (running.isPresent()) {
            spec.commandLine().getErr().println("celeriac: a manager is already running in " + ctx.runDir + " (pid " + running.get()
                    + "); stop it first (celeriac stop), or run the demo in another directory");
            return Main.ALREADY_RUNNING;
        }
        List<ProgramSpec> programs = ctx.programs(exampleJar);
        ManagerContext.writableDir(ctx.runDir, "run_dir");
        ManagerContext.writableDir(ctx.logDir, "log_dir");
        Daemon daemon = new Daemon(programs, ctx.runDir, new ProgramLogs(ctx.logDir, programs,
                ctx.config.get(Settings.LOGFILE_MAXBYTES), ctx.config.get(Settings.LOGFILE_BACKUPS)),
                new Alerts(ctx.config.get(Settings.ALERT_WEBHOOK_URL)), new OsLauncher());
        Thread manager = new Thread(() -> {
            try {
                daemon.run();
            } catch (Exception e) {
                spec.commandLine().getErr().println("celeriac: the manager failed: " + e.getMessage());
            }
        }, "celeriac-manager");
        manager.start();
        Signals.onTermination("stopping", "stopping", daemon::shutdown, daemon::shutdown);
        TaskRegistry registry = Apps.load(ctx.config, exampleLoader(exampleJar));
        List<String> names = programs.stream().map(ProgramSpec::name).toList();
        out.println("Celeriac demo: the manager starts " + (names.size() == 1 ? names.get(0)
                : String.join(", ", names.subList(0, names.size() - 1)) + " and " + names.get(names.size() - 1))
                + " as supervised processes on " + Secrets.redact(ctx.config.get(Settings.BROKER_URL)) + "; logs in " + ctx.logDir
                + ctx.dashboardNote(programs));
        out.flush();
        boolean asExpected;
        try (Celeriac app = Celeriac.open(ctx.config, registry)) {
            asExpected = runTasks(app, out);
            asExpected &= showBeat(app, out);
            out.println();
            out.printf("%-10s %-9s %-8s %-9s %s%n", "PROCESS", "STATE", "PID", "RESTARTS", "LAST EXIT");
            for (ProcessStatus s : daemon.supervisor().status()) {
                out.printf("%-10s %-9s %-8s %-9d %s%n", s.process(), s.state(), s.pid() == null ? "-" : s.pid(), s.restarts(), s.lastExit());
            }
        } finally {
            out.println("\nstopping (warm shutdown of every process)...");
            out.flush();
            daemon.shutdown();
            manager.join();
        }
        out.println("stopped. Logs: " + ctx.logDir.resolve("worker.log") + ", " + ctx.logDir.resolve("beat.log")
                + " (and *_error.log). Run it for real with: ./celeriac start; ./celeriac status; ./celeriac stop");
        out.println(asExpected ? "Every task ended as expected." : "Some task did not end as expected (see above).");
        return asExpected ? Main.OK : Main.FAILED;
    }

    /** This JVM's class loader, or one that also sees the example app's jar. */
    private static ClassLoader exampleLoader(List<Path> jar) throws java.net.MalformedURLException {
        ClassLoader own = DemoCommand.class.getClassLoader();
        if (jar.isEmpty()) {
            return own;
        }
        java.net.URL[] urls = new java.net.URL[jar.size()];
        for (int i = 0; i < urls.length; i++) {
            urls[i] = jar.get(i).toUri().toURL();
        }
        return new java.net.URLClassLoader(urls, own);
    }

    private static boolean runTasks(Celeriac app, PrintWriter out) throws InterruptedException {
        List<Call> calls = List.of(
                new Call("add(2, 3)", "add", List.of(2, 3), Map.of(), SendOptions.NONE, TaskState.SUCCESS),
                new Call("add(x=40, y=2)", "add", List.of(), Map.of("x", 40, "y", 2), SendOptions.NONE, TaskState.SUCCESS),
                new Call("noop()", "noop", List.of(), Map.of(), SendOptions.NONE, TaskState.SUCCESS),
                new Call("sleep(0.5)", "sleep", List.of(0.5), Map.of(), SendOptions.NONE, TaskState.SUCCESS),
                new Call("add(1, 1) in 1 s", "add", List.of(1, 1), Map.of(),
                        SendOptions.options().withCountdown(Duration.ofSeconds(1)), TaskState.SUCCESS),
                new Call("scrape_all_sources()", "scrape_all_sources", List.of(), Map.of(), SendOptions.NONE, null),
                new Call("fail('source unreachable')", "fail", List.of("source unreachable"), Map.of(), SendOptions.NONE,
                        TaskState.FAILURE),
                new Call("add(5, 5), expired", "add", List.of(5, 5), Map.of(),
                        SendOptions.options().withExpires(Instant.now().minusSeconds(1)), TaskState.REVOKED),
                new Call("no_such_task()", "no_such_task", List.of(), Map.of(), SendOptions.NONE, TaskState.FAILURE),
                new Call("celeriac.health_check()", "celeriac.health_check", List.of(), Map.of(), SendOptions.NONE,
                        TaskState.SUCCESS));
        long start = System.nanoTime();
        List<AsyncResult> sent = new ArrayList<>();
        for (Call call : calls) {
            sent.add(app.send(call.task(), call.args(), call.kwargs(), call.options()));
        }
        out.printf("%nsent %d tasks; results as they finish:%n%n", sent.size());
        out.printf("  %-28s %-8s %s%n", "task", "state", "result");
        Map<String, Integer> counts = new java.util.TreeMap<>();
        boolean asExpected = true;
        for (int i = 0; i < calls.size(); i++) {
            TaskResult r = app.results().await(sent.get(i).id(), Duration.ofSeconds(90)).orElse(null);
            TaskState state = r == null ? TaskState.PENDING : r.state();
            counts.merge(state.name(), 1, Integer::sum);
            Call call = calls.get(i);
            asExpected &= state.ready() && (call.expected() == null || call.expected() == state);
            out.printf("  %-28s %-8s %s%n", call.label(), state, describe(r));
            out.flush();
        }
        out.printf("%n%d tasks in %.1f s: %s.%n", calls.size(), (System.nanoTime() - start) / 1e9, counts);
        return asExpected;
    }

    /** Waits for beat's periodic scrape and prints it. */
    private static boolean showBeat(Celeriac app, PrintWriter out) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<String> slot = app.coordination().get("celeriac.beat.last." + BEAT_ENTRY);
            if (slot.isPresent()) {
                // the task beat sent for the slot it recorded (its first record, of a new entry, sends none)
                String id = UUID.nameUUIDFromBytes((BEAT_ENTRY + "|" + CeleryTime.parse(slot.get())).getBytes(StandardCharsets.UTF_8)).toString();
                Optional<TaskResult> r = app.results().get(id);
                if (r.isPresent() && r.get().state().ready()) {
                    out.printf("beat sent scrape_all_sources for %s: %s %s%n", slot.get(), r.get().state(), describe(r.get()));
                    return true;
                }
            }
            Thread.sleep(200);
        }
        out.println("beat sent nothing within 30 s (see the beat log)");
        return false;
    }

    private static String describe(TaskResult r) {
        if (r == null) {
            return "(no result within 90 s)";
        }
        String s = r.state() == TaskState.SUCCESS ? r.result().toString()
                : r.state() == TaskState.FAILURE || r.state() == TaskState.REVOKED ? r.exception().summary()
                : r.state().name();
        return s.length() > 100 ? s.substring(0, 97) + "..." : s;
    }
}
