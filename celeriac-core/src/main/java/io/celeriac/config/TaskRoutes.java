package io.celeriac.config;

import io.celeriac.ConfigException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Celery's {@code task_routes} ({@code celery/app/routes.py}): a list of routers, each a mapping of
 * task name or glob to a queue name or {@code {queue: …}} ({@code routing_key} stands for the queue
 * when there is no {@code queue}; {@code exchange} and {@code exchange_type} are accepted and
 * ignored, as a Redis or SQL broker has no exchanges). The first router that knows the task wins;
 * within one, an exact name before the globs, the globs in order. A key with {@code *} is a glob as
 * Python's {@code fnmatch} ({@code *}, {@code ?}, {@code [seq]}, {@code [!seq]}).
 *
 * <p>Applied at send, as Celery does: the call's queue, then the task's own queue ({@code @Task(queue)},
 * {@code task_annotations}), then the route, then {@code task_default_queue}.
 */
public final class TaskRoutes {
    public static final TaskRoutes NONE = new TaskRoutes(List.of());
    private static final Set<String> KEYS = Set.of("queue", "routing_key", "exchange", "exchange_type");

    private record Router(Map<String, String> exact, Map<Pattern, String> globs) {
    }

    private final List<Router> routers;

    private TaskRoutes(List<Router> routers) {
        this.routers = List.copyOf(routers);
    }

    /** The routes of {@code task_routes} in {@code config}. */
    public static TaskRoutes of(Config config) {
        return parse(Settings.TASK_ROUTES.name(), config.get(Settings.TASK_ROUTES));
    }

    /** Reads the setting's routers; a bad entry is a one-line {@link ConfigException} naming it. */
    public static TaskRoutes parse(String setting, List<Object> routers) {
        List<Router> out = new ArrayList<>();
        for (Object r : routers) {
            if (!(r instanceof Map<?, ?> map)) {
                throw new ConfigException("setting '" + setting + "': " + ValueType.quote(r)
                        + " is not a mapping of task name or glob → queue (router classes are not supported)");
            }
            Map<String, String> exact = new LinkedHashMap<>();
            Map<Pattern, String> globs = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                String key = String.valueOf(e.getKey());
                String queue = queue(setting, key, e.getValue());
                if (key.contains("*")) {
                    globs.put(glob(key), queue);
                } else {
                    exact.put(key, queue);
                }
            }
            out.add(new Router(exact, globs));
        }
        return out.isEmpty() ? NONE : new TaskRoutes(out);
    }

    private static String queue(String setting, String task, Object route) {
        String where = "setting '" + setting + "': route of '" + task + "'";
        if (route instanceof String s && !s.isBlank()) {
            return s.strip();
        }
        if (!(route instanceof Map<?, ?> m)) {
            throw new ConfigException(where + ": " + ValueType.quote(route) + " is not a queue name or {queue: NAME}");
        }
        for (Object k : m.keySet()) {
            if (!KEYS.contains(String.valueOf(k))) {
                throw new ConfigException(where + ": unknown key '" + k + "'; expected queue, routing_key, exchange, exchange_type");
            }
        }
        Object q = m.get("queue") != null ? m.get("queue") : m.get("routing_key");
        if (!(q instanceof String s) || s.isBlank()) {
            throw new ConfigException(where + ": no queue (give queue: NAME)");
        }
        return s.strip();
    }

    /** Python's {@code fnmatch.translate}, matched against the whole name. */
    static Pattern glob(String glob) {
        StringBuilder re = new StringBuilder();
        for (int i = 0; i < glob.length(); i++) {
            char c = glob.charAt(i);
            int close = c == '[' ? glob.indexOf(']', i + 2) : -1;
            if (c == '*') {
                re.append(".*");
            } else if (c == '?') {
                re.append('.');
            } else if (close > 0) {
                String set = glob.substring(i + 1, close);
                String body = (set.startsWith("!") ? set.substring(1) : set).replace("\\", "\\\\").replace("[", "\\[");
                re.append('[').append(set.startsWith("!") ? "^" : "").append(body).append(']');
                i = close;
            } else {
                re.append(Pattern.quote(String.valueOf(c)));
            }
        }
        return Pattern.compile(re.toString(), Pattern.DOTALL);
    }

    /** The queue the routes give {@code task}, or null when none does. */
    public String queue(String task) {
        for (Router r : routers) {
            String q = r.exact.get(task);
            if (q != null) {
                return q;
            }
            for (Map.Entry<Pattern, String> g : r.globs.entrySet()) {
                if (g.getKey().matcher(task).matches()) {
                    return g.getValue();
                }
            }
        }
        return null;
    }

    public boolean isEmpty() {
        return routers.isEmpty();
    }
}
