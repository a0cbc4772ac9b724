package io.celeriac.cli;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.ConfigLoader;
import io.celeriac.config.Settings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Options every command takes: where the configuration comes from, and the common overrides. */
final class ConfigOptions {
    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML configuration file (default: ./celeriac.yaml when present, or $CELERIAC_CONFIG).")
    Path configFile;

    @Option(names = "--set", paramLabel = "NAME=VALUE",
            description = "Set any setting (repeatable), e.g. --set task_acks_late=false. See docs/SETTINGS.md.")
    List<String> sets = List.of();

    @Option(names = {"-b", "--broker"}, paramLabel = "URL", description = "broker_url, e.g. sqlite:celeriac.db")
    String broker;

    @Option(names = "--result-backend", paramLabel = "URL", description = "result_backend (default: the broker's store)")
    String resultBackend;

    @Option(names = {"-A", "--app"}, paramLabel = "CLASS", description = "The CeleriacApp class that registers the tasks.")
    String app;

    @Option(names = {"-l", "--loglevel"}, paramLabel = "LEVEL", description = "TRACE, DEBUG, INFO, WARNING or ERROR.")
    String logLevel;

    /**
     * Hands the options given before a command ({@code celeriac -b URL worker}) down the chain of
     * commands parsed, to each command's own {@link ConfigOptions}: a value given to the command
     * itself wins, and its {@code --set}s come after (so win over) the ones before it.
     */
    static void handDown(CommandLine.ParseResult parsed) {
        ConfigOptions above = null;
        for (CommandLine cl : parsed.asCommandLineList()) {
            ConfigOptions own = cl.getCommandSpec().mixins().values().stream()
                    .map(m -> m.userObject()).filter(ConfigOptions.class::isInstance).map(ConfigOptions.class::cast)
                    .findFirst().orElse(null);
            if (own == null) {
                continue; // help: nothing to hand on
            }
            if (above != null) {
                own.inherit(above);
            }
            above = own;
        }
    }

    private void inherit(ConfigOptions above) {
        if (configFile == null) configFile = above.configFile;
        if (broker == null) broker = above.broker;
        if (resultBackend == null) resultBackend = above.resultBackend;
        if (app == null) app = above.app;
        if (logLevel == null) logLevel = above.logLevel;
        if (!above.sets.isEmpty()) {
            List<String> all = new java.util.ArrayList<>(above.sets);
            all.addAll(sets);
            sets = all;
        }
    }

    /** These options as given, to hand on to the processes the manager starts. */
    List<String> passThrough() {
        List<String> out = new java.util.ArrayList<>();
        if (configFile != null) {
            out.addAll(List.of("--config", configFile.toAbsolutePath().toString()));
        }
        for (String s : sets) {
            out.addAll(List.of("--set", s));
        }
        if (broker != null) {
            out.addAll(List.of("--broker", broker));
        }
        if (resultBackend != null) {
            out.addAll(List.of("--result-backend", resultBackend));
        }
        if (app != null) {
            out.addAll(List.of("--app", app));
        }
        if (logLevel != null) {
            out.addAll(List.of("--loglevel", logLevel));
        }
        return out;
    }

    /** File, then environment, then these flags, then {@code extra} (a command's own flags). */
    Config load(Map<String, String> extra) {
        Map<String, String> flags = new LinkedHashMap<>();
        for (String s : sets) {
            int eq = s.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException("--set '" + s + "': expected NAME=VALUE, e.g. --set worker_concurrency=4");
            }
            flags.put(s.substring(0, eq).trim(), s.substring(eq + 1));
        }
        put(flags, Settings.BROKER_URL.name(), broker);
        put(flags, Settings.RESULT_BACKEND.name(), resultBackend);
        put(flags, Settings.APP.name(), app);
        put(flags, Settings.LOG_LEVEL.name(), logLevel);
        extra.forEach((k, v) -> put(flags, k, v));
        Config c = ConfigLoader.load(configFile, Path.of("").toAbsolutePath(), System.getenv(), flags);
        Logging.setLevel(c.get(Settings.LOG_LEVEL));
        Logging.setFormat(c.get(Settings.LOG_FORMAT));
        return c;
    }

    private static void put(Map<String, String> flags, String name, Object value) {
        if (value != null) {
            flags.put(name, value.toString());
        }
    }
}
