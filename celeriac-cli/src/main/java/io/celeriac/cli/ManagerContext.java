package io.celeriac.cli;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.manager.ProgramSpec;
import io.celeriac.manager.Programs;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What the manager commands share: the configuration, the run and log directories, how to run Celeriac. */
final class ManagerContext {
    final Config config;
    final Path runDir;
    final Path logDir;
    final ConfigOptions options;

    ManagerContext(ConfigOptions options) {
        this.options = options;
        this.config = options.load(Map.of());
        this.runDir = Path.of(config.get(Settings.RUN_DIR)).toAbsolutePath();
        this.logDir = Path.of(config.get(Settings.LOG_DIR)).toAbsolutePath();
    }

    /** This Celeriac as a command: this JVM, its options and class path, the main class. */
    static List<String> celeriacCommand() {
        return celeriacCommand(List.of());
    }

    /** As {@link #celeriacCommand()}, {@code extraClassPath} after this JVM's class path. */
    static List<String> celeriacCommand(List<Path> extraClassPath) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent") && !a.startsWith("-Xrunjdwp")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        StringBuilder cp = new StringBuilder(absoluteClassPath());
        for (Path p : extraClassPath) {
            cp.append(java.io.File.pathSeparator).append(p.toAbsolutePath());
        }
        cmd.add(cp.toString());
        cmd.add(Main.class.getName());
        return cmd;
    }

    /**
     * {@code celeriac ARGS…} as a process of its own session ({@code setsid} where there is one: closing
     * the terminal does not stop it), stdin from /dev/null, its output and errors to {@code output}.
     */
    static Process startInOwnSession(List<String> args, ProcessBuilder.Redirect output, Map<String, String> env) throws IOException {
        List<String> cmd = new ArrayList<>();
        if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
            cmd.add("/usr/bin/setsid");
        }
        cmd.addAll(celeriacCommand());
        cmd.addAll(args);
        ProcessBuilder b = new ProcessBuilder(cmd)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                .redirectOutput(output)
                .redirectErrorStream(true);
        b.environment().putAll(env);
        return b.start();
    }

    static String absoluteClassPath() {
        List<String> parts = new ArrayList<>();
        for (String p : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            parts.add(Path.of(p).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    List<ProgramSpec> programs() {
        return programs(List.of());
    }

    /** The configured programs, run with {@code extraClassPath} on their class path too (the demo's example app). */
    List<ProgramSpec> programs(List<Path> extraClassPath) {
        return Programs.parse(config, celeriacCommand(extraClassPath), options.passThrough());
    }

    /** "; dashboard on http://…/" when the programs include the dashboard, else "". */
    String dashboardNote(List<ProgramSpec> programs) {
        if (programs.stream().noneMatch(p -> p.kind().equals("dashboard"))) {
            return "";
        }
        String bind = config.get(Settings.DASHBOARD_BIND).trim();
        String host = bind.equals("0.0.0.0") || bind.equals("::") ? "127.0.0.1" : bind.contains(":") ? "[" + bind + "]" : bind;
        int port = config.get(Settings.DASHBOARD_PORT);
        return port == 0 ? "; dashboard on a free port (its URL is the first line of " + logDir.resolve("dashboard.log") + ")"
                : "; dashboard on http://" + host + ":" + port + "/";
    }

    /** Makes a directory the manager must write to, or says clearly why it cannot. */
    static void writableDir(Path dir, String setting) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ConfigException(setting + " '" + dir + "' cannot be created: " + e.getMessage());
        }
        if (!Files.isWritable(dir)) {
            throw new ConfigException(setting + " '" + dir + "' is not writable");
        }
    }
}
