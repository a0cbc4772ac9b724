package io.celeriac.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.celeriac.ConfigException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Builds a {@link Config} from, in increasing precedence: the YAML file, {@code CELERIAC_*}
 * environment variables, then command-line flags ({@code --set name=value} and named flags).
 *
 * <p>The file is {@code --config PATH} if given (it must exist), else {@code $CELERIAC_CONFIG}
 * (it must exist), else {@code ./celeriac.yaml} when present.
 */
public final class ConfigLoader {
    public static final String DEFAULT_FILE = "celeriac.yaml";
    public static final String CONFIG_ENV = "CELERIAC_CONFIG";

    /** Variables the launcher script reads, and those the manager gives its programs; they are not settings. */
    private static final Set<String> LAUNCHER_ENV = Set.of(CONFIG_ENV, "CELERIAC_CLASSPATH", "CELERIAC_JAVA_OPTS",
            "CELERIAC_JAVA", "CELERIAC_HOME", "CELERIAC_MANAGER", "CELERIAC_MANAGER_LOG",
            "CELERIAC_DETACHED", "CELERIAC_LOG_FILE");

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    private ConfigLoader() {
    }

    /**
     * @param explicitFile the {@code --config} path, or null
     * @param workDir      directory where {@code celeriac.yaml} is looked for
     * @param env          the environment (normally {@code System.getenv()})
     * @param flags        setting name → raw value from the command line, applied last
     */
    public static Config load(Path explicitFile, Path workDir, Map<String, String> env, Map<String, String> flags) {
        Config.Builder b = Config.builder();
        Path file = explicitFile;
        if (file == null && env.get(CONFIG_ENV) != null && !env.get(CONFIG_ENV).isBlank()) {
            file = Path.of(env.get(CONFIG_ENV));
        }
        if (file != null) {
            if (!Files.exists(file)) {
                throw new ConfigException("config file '" + file + "' does not exist");
            }
            readYaml(file, b);
        } else {
            Path dflt = workDir.resolve(DEFAULT_FILE);
            if (Files.exists(dflt)) {
                readYaml(dflt, b);
            }
        }
        // Sorted so that, of several bad variables, the same one is always reported.
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String key = e.getKey();
            if (!key.startsWith("CELERIAC_") || LAUNCHER_ENV.contains(key)) {
                continue;
            }
            String name = key.substring("CELERIAC_".length()).toLowerCase(java.util.Locale.ROOT);
            b.setRaw(name, e.getValue(), "environment variable " + key);
        }
        for (Map.Entry<String, String> e : flags.entrySet()) {
            b.setRaw(e.getKey(), e.getValue(), "command line");
        }
        return b.build();
    }

    private static void readYaml(Path file, Config.Builder b) {
        JsonNode root;
        try {
            root = YAML.readTree(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            throw new ConfigException("config file '" + file + "' does not exist");
        } catch (JacksonException e) {
            JsonLocation at = e.getLocation();
            String where = at == null ? "" : " at line " + at.getLineNr() + ", column " + at.getColumnNr();
            String why = e.getOriginalMessage().lines().findFirst().orElse("syntax error");
            throw new ConfigException("config file '" + file + "' is not valid YAML" + where + ": " + why);
        } catch (IOException e) {
            throw new ConfigException("config file '" + file + "' cannot be read: " + e.getMessage());
        }
        if (root == null || root.isMissingNode() || root.isNull()) {
            return; // an empty file sets nothing
        }
        if (!root.isObject()) {
            throw new ConfigException("config file '" + file + "' must be a mapping of setting names to values,"
                    + " e.g. 'broker_url: sqlite:celeriac.db'");
        }
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            b.setRaw(e.getKey(), toPlain(e.getValue()), "config file '" + file + "'");
        }
    }

    /** YAML node → String, Number, Boolean, List or Map, which is what {@link ValueType} parses. */
    static Object toPlain(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.textValue();
        }
        if (node.isBoolean()) {
            return node.booleanValue();
        }
        if (node.isNumber()) {
            return node.numberValue();
        }
        return YAML.convertValue(node, Object.class);
    }
}
