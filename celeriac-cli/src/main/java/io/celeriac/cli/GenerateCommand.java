package io.celeriac.cli;

import io.celeriac.config.Settings;
import io.celeriac.manager.ProgramSpec;
import io.celeriac.manager.Programs;
import io.celeriac.manager.UnitFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "generate", mixinStandardHelpOptions = true,
        description = {"Write production set-ups for the configured programs: systemd units, or a supervisord",
                "configuration (the seed's methods 3 and 2). Each program runs in the foreground; SIGTERM is a warm shutdown.",
                "'generate completion bash|zsh' prints a tab-completion script: source <(celeriac generate completion bash)."})
final class GenerateCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Parameters(index = "0", paramLabel = "systemd|supervisord|completion")
    String what;

    @Parameters(index = "1", arity = "0..1", paramLabel = "bash|zsh", description = "completion: the shell (the script serves both).")
    String shell;

    @Option(names = {"-o", "--output"}, paramLabel = "DIR", description = "Where to write (default: the current directory).")
    Path output = Path.of(".");

    @Option(names = "--user", paramLabel = "USER", description = {"The user the programs run as: systemd's User= (default from an",
            "installed Celeriac: " + INSTALLED_USER + "), supervisord's user= (when given)."})
    String user;

    static final String INSTALLED_USER = "celeriac";

    @Override
    public Integer call() throws IOException {
        if (what.equals("completion")) {
            return completion();
        }
        ManagerContext ctx = new ManagerContext(config);
        ManagerContext.writableDir(output, "--output");
        Path work = Path.of("").toAbsolutePath();
        Path home = installedHome();
        List<ProgramSpec> programs = home == null ? ctx.programs() : installedPrograms(ctx, home);
        switch (what) {
            case "systemd" -> {
                String runAs = user != null ? user : home != null ? INSTALLED_USER : null;
                Map<String, String> units = UnitFiles.systemd(programs, ctx.config.get(Settings.BROKER_URL), work, runAs);
                for (Map.Entry<String, String> u : units.entrySet()) {
                    Path f = output.resolve(u.getKey());
                    Files.writeString(f, origin(home, "# ") + u.getValue());
                    spec.commandLine().getOut().println("wrote " + f.toAbsolutePath());
                }
                spec.commandLine().getOut().println("install: sudo cp celeriac-*.service /etc/systemd/system/ && sudo systemctl daemon-reload"
                        + " && sudo systemctl enable --now " + String.join(" ", units.keySet()));
            }
            case "supervisord" -> {
                Path f = output.resolve("supervisord.conf");
                Files.writeString(f, origin(home, "; ") + UnitFiles.supervisord(programs, work, output.toAbsolutePath(), ctx.logDir,
                        ctx.config.get(Settings.LOGFILE_MAXBYTES), ctx.config.get(Settings.LOGFILE_BACKUPS), user));
                spec.commandLine().getOut().println("wrote " + f.toAbsolutePath());
                spec.commandLine().getOut().println("run: supervisord -c " + f.toAbsolutePath() + "; then: supervisorctl -c "
                        + f.toAbsolutePath() + " status");
            }
            default -> throw new IllegalArgumentException("generate what? 'systemd', 'supervisord' or 'completion', not '" + what + "'");
        }
        return Main.OK;
    }

    /** The installed Celeriac this runs from (bin/celeriac sets celeriac.home), or null from a source tree. */
    static Path installedHome() {
        String home = System.getProperty("celeriac.home", System.getenv("CELERIAC_HOME"));
        if (home == null || home.isBlank()) {
            return null;
        }
        Path h = Path.of(home).toAbsolutePath().normalize();
        return Files.isExecutable(h.resolve("bin/celeriac")) ? h : null;
    }

    /**
     * The programs as the installed launcher runs them: {@code HOME/bin/celeriac worker …}, with the
     * app's jars (this CELERIAC_CLASSPATH, made absolute) in their environment.
     */
    private static List<ProgramSpec> installedPrograms(ManagerContext ctx, Path home) {
        List<ProgramSpec> out = new ArrayList<>();
        String appClassPath = absoluteClassPath(System.getenv("CELERIAC_CLASSPATH"));
        for (ProgramSpec p : Programs.parse(ctx.config, List.of(home.resolve("bin/celeriac").toString()), ctx.options.passThrough())) {
            Map<String, String> env = new LinkedHashMap<>(p.environment());
            if (p.kind() != null && !appClassPath.isEmpty()) {
                env.putIfAbsent("CELERIAC_CLASSPATH", appClassPath);
            }
            out.add(new ProgramSpec(p.name(), p.kind(), p.command(), p.count(), env, p.startsecs(), p.startretries(), p.stopwaitsecs()));
        }
        return out;
    }

    private static String absoluteClassPath(String classPath) {
        if (classPath == null || classPath.isBlank()) {
            return "";
        }
        List<String> parts = new ArrayList<>();
        for (String p : classPath.split(java.io.File.pathSeparator)) {
            if (!p.isBlank()) {
                parts.add(p.endsWith("*") ? Path.of(p.substring(0, p.length() - 1)).toAbsolutePath() + java.io.File.separator + "*"
                        : Path.of(p).toAbsolutePath().toString());
            }
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    /** A first comment line saying what the generated file runs. */
    private static String origin(Path home, String comment) {
        return home != null ? comment + "Runs the installed Celeriac at " + home + "\n"
                : comment + "Runs this source tree's build (java -cp …/target/…); for production, install the distribution"
                        + " (celeriac-VERSION.tar.gz, see README 'Install') and generate from its bin/celeriac\n";
    }

    /**
     * Tab completion: picocli's bash script, which zsh runs through bashcompinit. Load it with
     * {@code source <(celeriac generate completion bash)} (zsh: the same, with {@code zsh}).
     */
    private int completion() {
        if (shell == null || !(shell.equals("bash") || shell.equals("zsh"))) {
            throw new IllegalArgumentException("generate completion: 'bash' or 'zsh'" + (shell == null ? "" : ", not '" + shell + "'"));
        }
        spec.commandLine().getOut().print(picocli.AutoComplete.bash("celeriac", spec.root().commandLine()));
        spec.commandLine().getOut().flush();
        return Main.OK;
    }
}
