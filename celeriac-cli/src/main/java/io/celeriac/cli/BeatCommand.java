package io.celeriac.cli;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.beat.Beat;
import io.celeriac.beat.BeatService;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.TaskMessage;
import io.celeriac.spi.Coordination;
import java.io.IOException;
import java.io.PrintWriter;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "beat", mixinStandardHelpOptions = true,
        description = {"Run the periodic scheduler: send the beat_schedule entries when they are due.",
                "Any number of beats may run on one broker: one leader sends, the others take over if it dies."})
final class BeatCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Mixin
    DaemonOptions daemon;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--list", description = "Print the schedule with each entry's next and last run, then exit.")
    boolean list;

    @Option(names = {"-n", "--hostname"}, paramLabel = "NAME", description = "Node name of this beat (default beat@HOST).")
    String hostname;

    @Option(names = "--lock-timeout", paramLabel = "SECONDS", description = "beat_lock_timeout: lease of the leader lock.")
    String lockTimeout;

    @Override
    public Integer call() throws IOException {
        hostname = FlagChecks.name("-n", hostname, "node name");
        Map<String, String> flags = new LinkedHashMap<>();
        if (lockTimeout != null) {
            flags.put(Settings.BEAT_LOCK_TIMEOUT.name(), lockTimeout);
        }
        Config c = config.load(flags);
        Beat.validate(c);
        String node = hostname == null ? "beat@" + TaskMessage.hostName() : hostname.contains("@") ? hostname : hostname + "@" + TaskMessage.hostName();
        if (!list) {
            Optional<Integer> done = daemon.begin(spec, node);
            if (done.isPresent()) {
                return done.get();
            }
        }
        try {
            return run(c, node);
        } finally {
            daemon.end();
        }
    }

    private int run(Config c, String node) {
        try (Celeriac app = Celeriac.connect(c, new TaskRegistry())) { // never eager: beat publishes to the broker
            Coordination coordination = app.coordination();
            Beat beat = new Beat(c, app.broker(), coordination, Clock.systemUTC(), node);
            PrintWriter out = spec.commandLine().getOut();
            if (list) {
                out.println("schedule on " + app.broker().describe() + " (leader: "
                        + coordination.holder("celeriac.beat.leader").orElse("none") + ")");
                beat.describe().forEach(out::println);
                return Main.OK;
            }
            BeatService service = new BeatService(beat);
            Signals.onTermination("stopping", "stopping", service::stop, service::stop);
            String started = "celeriac beat " + node + " on " + app.broker().describe() + ": " + beat.describe().size() + " entries";
            if (Logging.json(c)) { // every line of the output a JSON object
                org.slf4j.LoggerFactory.getLogger("celeriac.beat").info(started);
            } else {
                spec.commandLine().getErr().println(started);
                spec.commandLine().getErr().flush();
            }
            ManagerWatch.start("beat " + node, service::stop);
            service.run();
            return Main.OK;
        }
    }
}
