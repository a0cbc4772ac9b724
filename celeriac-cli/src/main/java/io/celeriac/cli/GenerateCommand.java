package io.celeriac.cli;

import io.celeriac.config.Settings;
import io.celeriac.manager.UnitFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Write production set-ups for the configured programs: systemd units, or a supervisord",
                "configuration (the seed's methods 3 and 2). Each program runs in the foreground; SIGTERM is a warm shutdown."})
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "systemd|supervisord")
    String what;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Where to write (default: the current directory).")
    Path output = Path.of(".");

    @Option(names = "--user", paramLabel = "USER", description = "systemd: the User= the services run as.")
    String user;

    @Override
    public Integer call() throws IOException {
        ManagerContext ctx = new ManagerContext(config);
        ManagerContext.writableDir(output, "--output");
        Path work = Path.of("").toAbsolutePath();
        switch (what) {
            case "systemd" -> {
                Map<String, String> units = UnitFiles.systemd(ctx.programs(), ctx.config.get(Settings.BROKER_URL), work, user);
                for (Map.Entry<String, String> u : units.entrySet()) {
                    Path f = output.resolve(u.getKey());
                    Files.writeString(f, u.getValue());
                    spec.commandLine().getOut().println("wrote " + f.toAbsolutePath());
                }
                spec.commandLine().getOut().println("install: sudo cp celeriac-*.service /etc/systemd/system/ && sudo systemctl daemon-reload"
                        + " && sudo systemctl enable --now " + String.join(" ", units.keySet()));
            }
            case "supervisord" -> {
                Path f = output.resolve("supervisord.conf");
                Files.writeString(f, UnitFiles.supervisord(ctx.programs(), work, output.toAbsolutePath(), ctx.logDir,
                        ctx.config.get(Settings.LOGFILE_MAXBYTES), ctx.config.get(Settings.LOGFILE_BACKUPS)));
                spec.commandLine().getOut().println("wrote " + f.toAbsolutePath());
                spec.commandLine().getOut().println("run: supervisord -c " + f.toAbsolutePath() + "; then: supervisorctl -c "
                        + f.toAbsolutePath() + " status");
            }
            default -> throw new IllegalArgumentException("generate what? 'systemd' or 'supervisord', not '" + what + "'");
        }
        return Main.OK;
    }
}
