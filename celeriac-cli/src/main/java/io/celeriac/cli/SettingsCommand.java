package io.celeriac.cli;

import io.celeriac.config.Config;
import io.celeriac.config.Setting;
import io.celeriac.config.Settings;
import io.celeriac.config.SettingsReference;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(name = "settings", mixinStandardHelpOptions = true,
        description = "Show every setting with its value and where the value came from.")
final class SettingsCommand implements Callable<Integer> {
    @Mixin
    ConfigOptions config;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Option(names = "--markdown", description = "Print the settings reference (docs/SETTINGS.md) instead.")
    boolean markdown;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        if (markdown) {
            out.print(SettingsReference.markdown());
            out.flush();
            return Main.OK;
        }
        Config c = config.load(Map.of());
        Map<String, String> values = c.describe();
        int width = values.keySet().stream().mapToInt(String::length).max().orElse(10);
        for (Setting<?> s : Settings.all()) {
            out.printf("%-" + width + "s = %s  (%s)%n", s.name(), values.get(s.name()), c.source(s));
        }
        return Main.OK;
    }
}
