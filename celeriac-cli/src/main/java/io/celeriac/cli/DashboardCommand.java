package io.celeriac.cli;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.dashboard.DashboardConfig;
import io.celeriac.dashboard.DashboardServer;
import io.celeriac.dashboard.PasswordHash;
import io.celeriac.fleet.FleetEndpoints;
import io.celeriac.fleet.FleetHealth;
import io.celeriac.fleet.FleetMetrics;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "dashboard", mixinStandardHelpOptions = true,
        subcommands = DashboardCommand.HashPassword.class,
        description = {"Serve the web dashboard: workers, tasks (the task history), queues and",
                "dead letters, beat, the manager's processes, health-check runs; with controls.",
                "On 127.0.0.1:5555 unless dashboard_bind/dashboard_port say otherwise; any",
                "other address needs dashboard_auth. `celeriac start` runs it as the program",
                "'dashboard' while dashboard_enabled is true (the default)."})
final class DashboardCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--port", paramLabel = "PORT", description = "TCP port (dashboard_port, default 5555; 0: any free port).")
    Integer port;

    @Option(names = "--bind", paramLabel = "ADDRESS", description = "Address to listen on (dashboard_bind, default 127.0.0.1).")
    String bind;

    @Option(names = "--read-only", description = "Show everything, offer no controls (dashboard_read_only).")
    boolean readOnly;

    @Override
    public Integer call() throws Exception {
        Map<String, String> flags = new java.util.LinkedHashMap<>();
        if (bind != null) {
            flags.put(Settings.DASHBOARD_BIND.name(), bind);
        }
        if (readOnly) {
            flags.put(Settings.DASHBOARD_READ_ONLY.name(), "true");
        }
        Config c = config.load(flags);
        DashboardConfig options = DashboardConfig.of(c, port); // a bad bind or auth: one line, exit 2, before connecting
        Path runDir = Path.of(c.get(Settings.RUN_DIR)).toAbsolutePath();
        try (Celeriac app = Celeriac.open(c, new TaskRegistry());
             DashboardServer server = new DashboardServer(options, c, app, runDir)) {
            mountFleet(server, c, app);
            server.start();
            String started = "celeriac dashboard on " + server.url() + " (" + app.broker().describe()
                    + (options.auth().isOpen() ? "" : ", sign-in required") + (options.readOnly() ? ", read-only" : "") + ")";
            if (Logging.json(c)) {
                org.slf4j.LoggerFactory.getLogger("celeriac.dashboard").info(started);
            } else {
                spec.commandLine().getErr().println(started);
                spec.commandLine().getErr().flush();
            }
            CountDownLatch stop = new CountDownLatch(1);
            Signals.onTermination("stopping", "stopping", stop::countDown, stop::countDown);
            ManagerWatch.start("dashboard", stop::countDown);
            stop.await();
            return Main.OK;
        }
    }

    /**
     * The fleet's {@code /metrics} (behind the dashboard's sign-in), {@code /health/live} and
     * {@code /health/ready} (open, for probes), computed by {@link FleetHealth} and {@link FleetMetrics}
     * with the checks {@code celeriac health} runs.
     */
    static void mountFleet(DashboardServer server, Config config, Celeriac app) {
        FleetHealth health = new FleetHealth(app);
        new FleetEndpoints(new FleetMetrics(app, health, java.util.List.of()), health)
                .mount((path, handler) -> server.mount(path, handler, !path.equals(FleetEndpoints.METRICS)));
    }

    @Command(name = "hash-password", mixinStandardHelpOptions = true,
            description = {"Print a dashboard_auth value for basic auth: reads the password from the",
                    "terminal (or one line of standard input) and prints",
                    "basic:USER:pbkdf2-sha256$ITERATIONS$SALT$HASH (PBKDF2-HMAC-SHA256)."})
    static final class HashPassword implements Callable<Integer> {
        @Spec
        picocli.CommandLine.Model.CommandSpec spec;

        @Option(names = {"-u", "--user"}, paramLabel = "USER", defaultValue = "admin", description = "The user name (default admin).")
        String user;

        @Override
        public Integer call() throws Exception {
            if (user.isBlank() || user.contains(":")) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--user must be non-empty and hold no ':'");
            }
            char[] password;
            java.io.Console console = System.console();
            if (console != null) {
                password = console.readPassword("password for %s: ", user);
                char[] again = console.readPassword("again: ");
                if (password == null || again == null || !java.util.Arrays.equals(password, again)) {
                    spec.commandLine().getErr().println("celeriac: the two passwords differ");
                    return Main.USAGE;
                }
            } else {
                String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
                password = line == null ? new char[0] : line.toCharArray();
            }
            if (password.length < 8) {
                spec.commandLine().getErr().println("celeriac: the password must be at least 8 characters");
                return Main.USAGE;
            }
            spec.commandLine().getOut().println("basic:" + user + ":" + PasswordHash.hash(password));
            java.util.Arrays.fill(password, '\0');
            return Main.OK;
        }
    }
}
