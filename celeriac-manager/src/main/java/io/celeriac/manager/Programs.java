package io.celeriac.manager;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.config.ValueType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads {@code programs} into {@link ProgramSpec}s. Without it: one worker and one beat, and the
 * dashboard when {@code dashboard_enabled} (kind {@code dashboard}: {@code celeriac dashboard}). In a
 * command, {@code %(process_name)s} becomes the process's name (worker, or worker-2 of several), as
 * in supervisord; a worker's node name is its process name at this host.
 *
 * <pre>
 * programs:
 *   worker:      {kind: worker, count: 2, queues: [celery], concurrency: 2, pool: process}
 *   io-worker:   {kind: worker, queues: [io], pool: threads, concurrency: 50}
 *   beat:        {kind: beat}
 *   exporter:    {command: [/usr/bin/node-exporter, --port, "9100"], environment: {X: "1"}, stopwaitsecs: 5}
 * </pre>
 */
public final class Programs {
    public static final String PROCESS_NAME = "%(process_name)s";
    private static final Set<String> FIELDS = Set.of("kind", "command", "count", "queues", "concurrency", "pool",
            "environment", "startsecs", "startretries", "stopwaitsecs");

    private Programs() {
    }

    /**
     * @param celeriac    how to run this Celeriac: java, its options, the class path, the main class
     * @param passThrough the configuration arguments the manager itself was given, for its programs
     */
    public static List<ProgramSpec> parse(Config c, List<String> celeriac, List<String> passThrough) {
        Map<String, Object> raw = c.get(Settings.PROGRAMS);
        if (raw.isEmpty()) {
            raw = new LinkedHashMap<>();
            raw.put("worker", Map.of("kind", "worker"));
            raw.put("beat", Map.of("kind", "beat"));
            if (c.get(Settings.DASHBOARD_ENABLED)) {
                raw.put("dashboard", Map.of("kind", "dashboard"));
            }
        }
        List<ProgramSpec> out = new ArrayList<>();
        for (Map.Entry<String, Object> e : raw.entrySet()) {
            out.add(program(e.getKey(), e.getValue(), c, celeriac, passThrough));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static ProgramSpec program(String name, Object raw, Config c, List<String> celeriac, List<String> passThrough) {
        if (!name.matches("[A-Za-z0-9_.-]+")) {
            throw bad(name, "a program name may hold letters, digits, '.', '_' and '-' only");
        }
        if (!(raw instanceof Map<?, ?> m)) {
            throw bad(name, "must be a mapping, e.g. {kind: worker}");
        }
        for (Object k : m.keySet()) {
            if (!FIELDS.contains(String.valueOf(k))) {
                throw bad(name, "unknown field '" + k + "' (fields: " + String.join(", ", new java.util.TreeSet<>(FIELDS)) + ")");
            }
        }
        String kind = m.get("kind") == null ? null : String.valueOf(m.get("kind"));
        Object command = m.get("command");
        if (kind == null && command == null) {
            throw bad(name, "has no command (give kind: worker, beat or dashboard, or command: [program, args…])");
        }
        if (kind != null && command != null) {
            throw bad(name, "give kind or command, not both");
        }
        List<String> cmd = new ArrayList<>();
        if (command != null) {
            if (command instanceof List<?> l && !l.isEmpty()) {
                l.forEach(x -> cmd.add(String.valueOf(x)));
            } else if (command instanceof String s && !s.isBlank()) {
                cmd.addAll(List.of(s.trim().split("\\s+")));
            } else {
                throw bad(name, "command must be a list such as [/usr/bin/program, --flag] or a string");
            }
            kind = "command";
        } else if (kind.equals("worker")) {
            cmd.addAll(celeriac);
            cmd.addAll(List.of("worker", "-n", PROCESS_NAME));
            if (m.get("queues") != null) {
                cmd.addAll(List.of("-Q", String.join(",", ValueType.names().parse(field(name, "queues"), m.get("queues")))));
            }
            if (m.get("concurrency") != null) {
                cmd.addAll(List.of("-c", Integer.toString(ValueType.integer(1, 10_000).parse(field(name, "concurrency"), m.get("concurrency")))));
            }
            if (m.get("pool") != null) {
                cmd.addAll(List.of("-P", ValueType.oneOf("process", "threads").parse(field(name, "pool"), m.get("pool"))));
            }
            cmd.addAll(passThrough);
        } else if (kind.equals("beat")) {
            cmd.addAll(celeriac);
            cmd.addAll(List.of("beat", "-n", PROCESS_NAME));
            cmd.addAll(passThrough);
        } else if (kind.equals("dashboard")) {
            cmd.addAll(celeriac);
            cmd.add("dashboard");
            cmd.addAll(passThrough);
        } else {
            throw bad(name, "kind must be worker, beat or dashboard, not '" + kind + "' (or give a command)");
        }
        if (!kind.equals("worker") && (m.get("queues") != null || m.get("concurrency") != null || m.get("pool") != null)) {
            throw bad(name, "queues, concurrency and pool apply to kind: worker only");
        }
        int count = m.get("count") == null ? 1 : ValueType.integer(1, 1000).parse(field(name, "count"), m.get("count"));
        if (kind.equals("dashboard") && count != 1) {
            throw bad(name, "a dashboard listens on one port: count must be 1");
        }
        Map<String, String> env = new LinkedHashMap<>();
        if (m.get("environment") != null) {
            if (!(m.get("environment") instanceof Map<?, ?> em)) {
                throw bad(name, "environment must be a mapping of names to values");
            }
            em.forEach((k, v) -> env.put(String.valueOf(k), String.valueOf(v)));
        }
        Duration startsecs = m.get("startsecs") == null ? c.get(Settings.STARTSECS)
                : ValueType.duration(Duration.ZERO).parse(field(name, "startsecs"), m.get("startsecs"));
        int startretries = m.get("startretries") == null ? c.get(Settings.STARTRETRIES)
                : ValueType.integer(0, 1000).parse(field(name, "startretries"), m.get("startretries"));
        Duration stopwaitsecs = m.get("stopwaitsecs") == null ? c.get(Settings.STOPWAITSECS)
                : ValueType.duration(Duration.ZERO).parse(field(name, "stopwaitsecs"), m.get("stopwaitsecs"));
        return new ProgramSpec(name, kind, List.copyOf(cmd), count, env, startsecs, startretries, stopwaitsecs);
    }

    private static String field(String program, String field) {
        return "programs." + program + "." + field;
    }

    private static ConfigException bad(String program, String why) {
        return new ConfigException("program '" + program + "': " + why);
    }
}
