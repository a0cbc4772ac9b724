package io.celeriac.spring;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.config.Setting;
import io.celeriac.config.Settings;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;

/**
 * Renders {@code META-INF/spring-configuration-metadata.json} (what IDEs complete {@code celeriac.*}
 * properties from) from the settings table: one property per setting, its description and default
 * the table's. The build runs {@code main} as the classes are made (exec-maven-plugin), so the file
 * in the jar is always the table's; {@code CeleriacPropertiesTest} checks it is there and current.
 */
final class PropertiesMetadata {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private PropertiesMetadata() {
    }

    static String render() {
        ObjectNode root = JSON.createObjectNode();
        root.putArray("groups").addObject().put("name", "celeriac").put("type", CeleriacProperties.class.getName())
                .put("description", "Celeriac: the settings table (docs/SETTINGS.md), in Spring's property names.");
        ArrayNode props = root.putArray("properties");
        for (Setting<?> s : Settings.all()) {
            ObjectNode p = props.addObject();
            p.put("name", CeleriacProperties.springName(s.name()));
            p.put("type", javaType(s.defaultValue()));
            p.put("description", s.doc() + " (setting " + s.name() + ")");
            p.put("sourceType", CeleriacProperties.class.getName());
            Object d = s.defaultValue();
            if (d instanceof Boolean b) {
                p.put("defaultValue", b);
            } else if (d instanceof Integer i) {
                p.put("defaultValue", i);
            } else if (d instanceof String str && !str.isEmpty()) {
                p.put("defaultValue", "worker_pool".equals(s.name()) ? "threads" : str);
            } else if (d instanceof Duration || d instanceof ZoneId) {
                p.put("defaultValue", s.defaultDoc());
            }
        }
        props.addObject().put("name", CeleriacProperties.WORKER_ENABLED).put("type", "java.lang.Boolean")
                .put("description", "Run a worker (thread pool) inside the application; it starts and stops with the context.")
                .put("sourceType", CeleriacProperties.class.getName()).put("defaultValue", false);
        props.addObject().put("name", CeleriacProperties.BEAT_ENABLED).put("type", "java.lang.Boolean")
                .put("description", "Run beat inside the application (one leader across replicas, by the beat lock).")
                .put("sourceType", CeleriacProperties.class.getName()).put("defaultValue", false);
        try {
            return JSON.writeValueAsString(root).replace("\r\n", "\n") + "\n";
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String javaType(Object defaultValue) {
        if (defaultValue instanceof Boolean) {
            return "java.lang.Boolean";
        }
        if (defaultValue instanceof Integer) {
            return "java.lang.Integer";
        }
        if (defaultValue instanceof List) {
            return "java.util.List<java.lang.String>";
        }
        if (defaultValue instanceof Map) {
            return "java.util.Map<java.lang.String,java.lang.Object>";
        }
        return "java.lang.String"; // durations ("30s", "5m", seconds), zones, URLs, names
    }

    /**
     * Writes the file.
     *
     * @param args the file to write
     * @throws IOException it cannot be written
     */
    public static void main(String[] args) throws IOException {
        Path file = Path.of(args[0]);
        Files.createDirectories(file.getParent());
        Files.writeString(file, render(), StandardCharsets.UTF_8);
    }
}
