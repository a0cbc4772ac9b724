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
    List<String> celeriacCommand() {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        for (String a : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (!a.startsWith("-agentlib") && !a.startsWith("-javaagent") && !a.startsWith("-Xrunjdwp")) {
                cmd.add(a);
            }
        }
        cmd.add("-cp");
        cmd.add(absoluteClassPath());
        cmd.add(Main.class.getName());
        return cmd;
    }

    static String absoluteClassPath() {
        List<String> parts = new ArrayList<>();
        for (String p : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
            parts.add(Path.of(p).toAbsolutePath().toString());
        }
        return String.join(java.io.File.pathSeparator, parts);
    }

    List<ProgramSpec> programs() {
        return Programs.parse(config, celeriacCommand(), options.passThrough());
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
