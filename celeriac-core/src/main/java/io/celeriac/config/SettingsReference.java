package io.celeriac.config;

/** Renders the settings table as the Markdown of {@code docs/SETTINGS.md}. */
public final class SettingsReference {
    private SettingsReference() {
    }

    public static String markdown() {
        StringBuilder sb = new StringBuilder();
        sb.append("# Settings reference\n\n")
                .append("Generated from the settings table (`io.celeriac.config.Settings`) by\n")
                .append("`./celeriac settings --markdown > docs/SETTINGS.md`; a test fails when this file and the table differ.\n\n")
                .append("Each setting can be given, from lowest to highest precedence:\n\n")
                .append("1. in the YAML file (`./celeriac.yaml`, or `--config PATH`, or `$CELERIAC_CONFIG`), as `name: value`;\n")
                .append("2. as an environment variable, `CELERIAC_` + the name in upper case;\n")
                .append("3. on the command line, as `--set name=value` or a command's own flag.\n\n")
                .append("Durations are seconds (`600`, `0.5`) or a number with a unit (`250ms`, `30s`, `5m`, `2h`, `1d`).\n")
                .append("An unknown name or an invalid value is an error that names the setting; nothing is clamped.\n\n")
                .append("| setting | type | default | environment variable | meaning |\n")
                .append("|---|---|---|---|---|\n");
        for (Setting<?> s : Settings.all()) {
            sb.append("| `").append(s.name()).append("` | ")
                    .append(s.type().description()).append(" | `")
                    .append(s.defaultDoc().isEmpty() ? "\"\"" : s.defaultDoc()).append("` | `")
                    .append(s.envName()).append("` | ")
                    .append(s.doc().replace("|", "\\|")).append(" |\n");
        }
        return sb.toString();
    }
}
