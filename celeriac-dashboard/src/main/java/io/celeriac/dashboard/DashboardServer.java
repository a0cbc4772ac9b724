package io.celeriac.dashboard;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.celeriac.Celeriac;
import io.celeriac.SendOptions;
import io.celeriac.config.Config;
import io.celeriac.config.Secrets;
import io.celeriac.protocol.Json;
import io.celeriac.spi.TaskRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code celeriac dashboard}: the web UI on the JDK's {@link HttpServer} (no framework: a handful
 * of routes, one thread pool). Every response carries the security headers (a CSP without inline
 * scripts, no framing, nosniff, no referrer); every request but the health probes passes
 * {@link Auth}; every POST carries the CSRF token of its form (an HMAC of the server's random key
 * and the user) and, when the browser sends one, a same-origin {@code Origin}; in read-only mode
 * POSTs are refused (403) and no control is rendered.
 *
 * <p>Mount points for what other parts compute: {@link #mount} (e.g. {@code /metrics},
 * {@code /health/ready}), before {@link #start}.
 */
public final class DashboardServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.dashboard");
    /** The uPlot WebJar's files, served from the jar. */
    static final String UPLOT = "META-INF/resources/webjars/uplot/1.6.30/dist/";
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
            + " connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    private final DashboardConfig options;
    private final DashboardSources src;
    private final Pages pages;
    private final byte[] csrfKey = new byte[32];
    private final Map<String, Mount> mounts = new ConcurrentHashMap<>();
    /** What a control did, shown once on the page it redirects to (by a key: the page never shows text from its URL). */
    private final Map<String, String> notices = java.util.Collections.synchronizedMap(new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> e) {
            return size() > 200;
        }
    });
    private final java.util.concurrent.atomic.AtomicLong noticeIds = new java.util.concurrent.atomic.AtomicLong(
            new SecureRandom().nextInt(1 << 20));
    private HttpServer server;
    private ExecutorService pool;
    private ScheduledExecutorService sampler;

    /** A handler mounted at a path; {@code open}: no credentials asked (health probes). */
    private record Mount(HttpHandler handler, boolean open) {
    }

    /**
     * @param options where to listen and who may use it
     * @param config  the settings (queues, task history, …)
     * @param app     the client the pages read through (its broker, result store and coordination)
     * @param runDir  the manager's run directory (its status is read from its control socket there)
     */
    public DashboardServer(DashboardConfig options, Config config, Celeriac app, Path runDir) {
        this(options, config, app, runDir, Clock.systemUTC());
    }

    DashboardServer(DashboardConfig options, Config config, Celeriac app, Path runDir, Clock clock) {
        this.options = options;
        this.src = new DashboardSources(config, app, runDir, clock);
        this.pages = new Pages(src, options.readOnly());
        new SecureRandom().nextBytes(csrfKey);
        mount("/health/live", ex -> send(ex, 200, "application/json", "{\"status\":\"live\"}"), true);
    }

    /**
     * Serves {@code handler} at {@code path} (exactly, and below it), behind the same headers and,
     * unless {@code open}, the same authentication as the pages. A later mount of a path replaces
     * the earlier one (the built-in {@code /health/live} is a placeholder).
     */
    public DashboardServer mount(String path, HttpHandler handler, boolean open) {
        mounts.put(path, new Mount(handler, open));
        return this;
    }

    /** Binds and starts serving; a port in use is a one-line {@link io.celeriac.ConfigException}. */
    public DashboardServer start() throws IOException {
        try {
            server = HttpServer.create(new InetSocketAddress(options.bind(), options.port()), 64);
        } catch (BindException e) {
            throw new io.celeriac.ConfigException("dashboard: cannot listen on " + options.bind().getHostAddress() + ":" + options.port()
                    + " (" + e.getMessage() + "); set dashboard_port or --port");
        }
        pool = Executors.newFixedThreadPool(8, r -> {
            Thread t = new Thread(r, "dashboard-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(pool);
        server.createContext("/", this::handle);
        server.start();
        sampler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "dashboard-sampler");
            t.setDaemon(true);
            return t;
        });
        sampler.scheduleWithFixedDelay(src::sample, 0, 5, TimeUnit.SECONDS);
        return this;
    }

    /** The port listened on (the one chosen when {@code dashboard_port} is 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    /** The address to open in a browser. */
    public String url() {
        String host = options.bind().isAnyLocalAddress() ? "127.0.0.1" : options.bind().getHostAddress();
        if (host.contains(":")) {
            host = "[" + host + "]";
        }
        return "http://" + host + ":" + port() + "/";
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
        }
        if (sampler != null) {
            sampler.shutdownNow();
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        src.close();
    }

    // --- the request path ---------------------------------------------------------------------------

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            headers(ex);
            String path = ex.getRequestURI().getPath();
            Mount m = mountFor(path);
            if (m != null && m.open()) {
                m.handler().handle(ex);
                return;
            }
            if (path.startsWith("/static/")) { // no secrets in the assets; the login page needs its stylesheet
                serveStatic(ex, path.substring("/static/".length()));
                return;
            }
            if (path.equals("/login")) {
                login(ex);
                return;
            }
            String user = options.auth().principal(ex.getRequestHeaders().getFirst("Authorization"),
                    ex.getRequestHeaders().getFirst("Cookie"));
            if (user == null) {
                unauthorized(ex);
                return;
            }
            if (m != null) {
                m.handler().handle(ex);
                return;
            }
            String method = ex.getRequestMethod();
            if (method.equals("POST")) {
                post(ex, path, user);
            } else if (method.equals("GET") || method.equals("HEAD")) {
                get(ex, path, user);
            } else {
                ex.getResponseHeaders().set("Allow", "GET, HEAD, POST");
                send(ex, 405, "text/plain; charset=utf-8", "method not allowed\n");
            }
        } catch (Exception e) {
            log.warn("dashboard: {} {}: {}", ex.getRequestMethod(), Secrets.redact(ex.getRequestURI().getPath()), Secrets.redact(String.valueOf(e)));
            try {
                send(ex, 500, "text/plain; charset=utf-8", "internal error: " + Secrets.redact(String.valueOf(e.getMessage())) + "\n");
            } catch (IOException | RuntimeException ignored) {
                // the response had started; nothing more to say
            }
        }
    }

    private Mount mountFor(String path) {
        for (Map.Entry<String, Mount> e : mounts.entrySet()) {
            if (path.equals(e.getKey()) || path.startsWith(e.getKey() + "/")) {
                return e.getValue();
            }
        }
        return null;
    }

    private static void headers(HttpExchange ex) {
        var h = ex.getResponseHeaders();
        h.set("Content-Security-Policy", CSP);
        h.set("X-Frame-Options", "DENY");
        h.set("X-Content-Type-Options", "nosniff");
        h.set("Referrer-Policy", "same-origin"); // not no-referrer: with it a browser sends "Origin: null" on its own form POSTs, which sameOrigin refuses
        h.set("Cross-Origin-Opener-Policy", "same-origin");
        h.set("Cache-Control", "no-store");
    }

    private void get(HttpExchange ex, String path, String user) throws IOException, InterruptedException {
        Map<String, String> query = parse(ex.getRequestURI().getRawQuery());
        String csrf = csrf(user);
        String notice = query.get("notice") == null ? null : notices.get(query.get("notice")); // only what this server said
        switch (path) {
            case "/" -> page(ex, "overview", "Overview", "/live/overview", pages.chart(), pages.overview(), notice);
            case "/workers" -> page(ex, "workers", "Workers", "/live/workers", null, pages.workers(csrf), notice);
            case "/tasks" -> {
                Pages.Search s = Pages.Search.of(query);
                page(ex, "tasks", "Tasks", "/live/tasks" + s.query(s.cursor()), pages.taskSearchForm(s), pages.tasks(s), notice);
            }
            case "/queues" -> page(ex, "queues", "Queues", "/live/queues", null, pages.queues(csrf), notice);
            case "/beat" -> page(ex, "beat", "Beat", "/live/beat", null, pages.beat(), notice);
            case "/api/rates" -> send(ex, 200, "application/json", Json.write(ratesJson()));
            case "/api/overview" -> send(ex, 200, "application/json", Json.write(src.overviewJson()));
            case "/live/overview" -> fragment(ex, pages.overview());
            case "/live/workers" -> fragment(ex, pages.workers(csrf));
            case "/live/tasks" -> fragment(ex, pages.tasks(Pages.Search.of(query)));
            case "/live/queues" -> fragment(ex, pages.queues(csrf));
            case "/live/beat" -> fragment(ex, pages.beat());
            default -> {
                if (path.startsWith("/tasks/")) {
                    String id = URLDecoder.decode(path.substring("/tasks/".length()), StandardCharsets.UTF_8);
                    Html t = pages.task(id, csrf);
                    if (t == null) {
                        page(ex, 404, "tasks", "Task " + id, null, new Html().raw("<p id=\"not-found\" class=\"notice\">")
                                .text("no task " + id + " in the task history (it may have been pruned, or never recorded)").raw("</p>"), notice);
                    } else {
                        page(ex, 200, "tasks", "Task " + id, "/live/task/" + Html.q(id), null, t, notice);
                    }
                } else if (path.startsWith("/live/task/")) {
                    Html t = pages.task(URLDecoder.decode(path.substring("/live/task/".length()), StandardCharsets.UTF_8), csrf);
                    fragment(ex, t == null ? new Html().raw("<p class=\"notice\">gone from the task history</p>") : t);
                } else {
                    send(ex, 404, "text/plain; charset=utf-8", "not found\n");
                }
            }
        }
    }

    private void page(HttpExchange ex, String page, String title, String live, Html before, Html body, String notice) throws IOException {
        page(ex, 200, page, title, live, before, body, notice);
    }

    private void page(HttpExchange ex, int code, String page, String title, Html before, Html body, String notice) throws IOException {
        page(ex, code, page, title, "", before, body, notice);
    }

    private void page(HttpExchange ex, int code, String page, String title, String live, Html before, Html body, String notice)
            throws IOException {
        send(ex, code, "text/html; charset=utf-8", pages.frame(page, title, live, before, body, notice).toString());
    }

    private static void fragment(HttpExchange ex, Html body) throws IOException {
        send(ex, 200, "text/html; charset=utf-8", body.toString());
    }

    private ObjectNode ratesJson() {
        DashboardSources.Rates r = src.rates();
        ObjectNode o = Json.NODES.objectNode();
        o.put("source", r.source());
        ArrayNode t = o.putArray("minutes");
        ArrayNode s = o.putArray("succeeded");
        ArrayNode f = o.putArray("failed");
        for (long[] row : r.rows()) {
            t.add(row[0] * 60);
            s.add(row[1]);
            f.add(row[2]);
        }
        return o;
    }

    // --- controls --------------------------------------------------------------------------------------

    private void post(HttpExchange ex, String path, String user) throws IOException, InterruptedException {
        if (options.readOnly()) {
            send(ex, 403, "text/plain; charset=utf-8", "the dashboard is read-only (dashboard_read_only)\n");
            return;
        }
        Map<String, String> form = parse(new String(readBody(ex), StandardCharsets.UTF_8));
        if (!sameOrigin(ex) || !constantEquals(form.get("csrf"), csrf(user))) {
            send(ex, 403, "text/plain; charset=utf-8", "refused: missing or wrong CSRF token (reload the page and try again)\n");
            return;
        }
        String back;
        String notice;
        try {
            switch (path) {
                case "/control/worker" -> {
                    back = "/workers";
                    notice = workerControl(form);
                }
                case "/control/task" -> {
                    back = "/tasks/" + Html.q(form.getOrDefault("id", ""));
                    notice = taskControl(form);
                }
                case "/control/deadletters" -> {
                    back = "/queues";
                    String action = form.getOrDefault("action", "");
                    if (action.equals("replay")) {
                        int n = src.replay(required(form, "id"));
                        notice = n == 0 ? "no dead letter of task " + form.get("id") + " to replay" : "replayed task " + form.get("id");
                    } else if (action.equals("replay_all")) {
                        notice = "replayed " + src.replay(null) + " dead letters";
                    } else {
                        throw new IllegalArgumentException("unknown action '" + action + "'");
                    }
                }
                case "/control/purge" -> {
                    back = "/queues";
                    if (!"yes".equals(form.get("confirm"))) {
                        throw new IllegalArgumentException("purge needs its confirmation box ticked");
                    }
                    String queue = required(form, "queue");
                    notice = "purged " + src.purge(queue) + " messages from " + queue;
                }
                default -> {
                    send(ex, 404, "text/plain; charset=utf-8", "not found\n");
                    return;
                }
            }
        } catch (IllegalArgumentException e) {
            send(ex, 400, "text/plain; charset=utf-8", "bad request: " + Secrets.redact(e.getMessage()) + "\n");
            return;
        }
        log.info("dashboard: {} by {}: {}", path, user, notice);
        String key = Long.toString(noticeIds.incrementAndGet(), 36);
        notices.put(key, notice);
        ex.getResponseHeaders().set("Location", back + (back.contains("?") ? "&" : "?") + "notice=" + key);
        send(ex, 303, "text/plain; charset=utf-8", notice + "\n");
    }

    private String workerControl(Map<String, String> form) throws InterruptedException {
        String node = required(form, "node");
        String action = required(form, "action");
        ObjectNode args = Json.NODES.objectNode();
        switch (action) {
            case "pool_grow", "pool_shrink" -> args.put("n", number(form.getOrDefault("n", "1"), "n", 1, 1000));
            case "rate_limit" -> {
                String rate = required(form, "rate").trim();
                if (!rate.matches("\\d+(\\.\\d+)?\\s*(/\\s*[smh])?")) {
                    throw new IllegalArgumentException("bad rate limit '" + rate + "': expected N/s, N/m or N/h (e.g. 10/s), 0 for none");
                }
                args.put("task_name", required(form, "task")).put("rate_limit", rate);
            }
            case "time_limit" -> {
                double soft = seconds(required(form, "soft"), "soft");
                double hard = seconds(required(form, "hard"), "hard");
                if (hard > 0 && soft >= hard) {
                    throw new IllegalArgumentException("the soft limit (" + soft + ") must be below the hard one (" + hard + ")");
                }
                args.put("task_name", required(form, "task")).put("soft", soft).put("hard", hard);
            }
            case "shutdown" -> {
                // no arguments
            }
            default -> throw new IllegalArgumentException("unknown action '" + action + "'");
        }
        JsonNode reply = src.control(node, action, args);
        return node + ": " + (reply.has("ok") ? reply.path("ok").asText() : "ERROR " + reply.path("error").asText(String.valueOf(reply)));
    }

    private String taskControl(Map<String, String> form) {
        String id = required(form, "id");
        String action = required(form, "action");
        switch (action) {
            case "revoke" -> {
                src.app.revoke(id, false);
                return "revoked " + id + " (a worker that reaches it marks it REVOKED)";
            }
            case "terminate" -> {
                src.app.revoke(id, true);
                return "revoked " + id + " with terminate (stopped if it runs)";
            }
            case "resend" -> {
                TaskRecord r = src.history().flatMap(h -> h.get(id))
                        .orElseThrow(() -> new IllegalArgumentException("no task " + id + " in the task history"));
                if (r.args() == null) {
                    throw new IllegalArgumentException("the history has no arguments of task " + id);
                }
                List<?> args;
                Map<String, ?> kwargs;
                try {
                    args = Json.MAPPER.readValue(r.args(), List.class);
                    kwargs = r.kwargs() == null ? Map.of() : Json.MAPPER.readValue(r.kwargs(), Map.class);
                } catch (IOException e) {
                    throw new IllegalArgumentException("the recorded arguments of " + id + " cannot be read: " + e.getMessage());
                }
                SendOptions opts = r.queue() == null ? SendOptions.NONE : SendOptions.options().withQueue(r.queue());
                String newId = src.app.send(r.name(), args, kwargs, opts).id();
                return "sent " + r.name() + " again as " + newId;
            }
            default -> throw new IllegalArgumentException("unknown action '" + action + "'");
        }
    }

    // --- authentication ------------------------------------------------------------------------------

    private void unauthorized(HttpExchange ex) throws IOException {
        if (options.auth().isBasic()) {
            ex.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"celeriac dashboard\", charset=\"UTF-8\"");
            send(ex, 401, "text/plain; charset=utf-8", "credentials required\n");
            return;
        }
        ex.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"celeriac dashboard\"");
        send(ex, 401, "text/html; charset=utf-8", loginPage(null).toString());
    }

    private Html loginPage(String problem) {
        Html h = new Html();
        h.raw("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">")
                .raw("<title>Sign in · Celeriac</title><link rel=\"stylesheet\" href=\"/static/dashboard.css\"></head><body>")
                .raw("<header><span class=\"brand\">Celeriac</span></header><main id=\"login\"><h2>Sign in</h2>");
        if (problem != null) {
            h.raw("<p class=\"notice\" id=\"login-problem\">").text(problem).raw("</p>");
        }
        h.raw("<form method=\"post\" action=\"/login\"><label>token (dashboard_auth) <input type=\"password\" name=\"token\" required")
                .raw(" autocomplete=\"current-password\"></label> <button>sign in</button></form></main></body></html>");
        return h;
    }

    /** The bearer token typed once: a cookie derived from it (HttpOnly, SameSite=Strict) stands in for the header. */
    private void login(HttpExchange ex) throws IOException {
        if (!options.auth().isBearer()) {
            ex.getResponseHeaders().set("Location", "/");
            send(ex, 303, "text/plain; charset=utf-8", "no sign-in needed here\n");
            return;
        }
        if (!ex.getRequestMethod().equals("POST")) {
            send(ex, 200, "text/html; charset=utf-8", loginPage(null).toString());
            return;
        }
        Map<String, String> form = parse(new String(readBody(ex), StandardCharsets.UTF_8));
        if (!sameOrigin(ex) || !options.auth().tokenMatches(form.get("token"))) {
            send(ex, 401, "text/html; charset=utf-8", loginPage("wrong token").toString());
            return;
        }
        ex.getResponseHeaders().add("Set-Cookie", Auth.COOKIE + "=" + options.auth().sessionValue() + "; Path=/; HttpOnly; SameSite=Strict");
        ex.getResponseHeaders().set("Location", "/");
        send(ex, 303, "text/plain; charset=utf-8", "signed in\n");
    }

    /** The form token of a user: an HMAC of this server's random key, the configured secret and the user. */
    String csrf(String user) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec(csrfKey, "HmacSHA256"));
            byte[] d = mac.doFinal((options.auth().secretDigest() + "\n" + user).getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(d);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A browser's Origin (or, without one, Referer) must name this host; a client that sends neither is judged by the token alone. */
    private static boolean sameOrigin(HttpExchange ex) {
        String host = ex.getRequestHeaders().getFirst("Host");
        String origin = ex.getRequestHeaders().getFirst("Origin");
        if (origin == null || origin.equals("null")) {
            return origin == null;
        }
        return host != null && (origin.equals("http://" + host) || origin.equals("https://" + host));
    }

    // --- plumbing ----------------------------------------------------------------------------------------

    private void serveStatic(HttpExchange ex, String name) throws IOException {
        String resource = switch (name) {
            case "dashboard.css", "dashboard.js" -> "io/celeriac/dashboard/static/" + name;
            case "uplot.js" -> UPLOT + "uPlot.iife.min.js";
            case "uplot.css" -> UPLOT + "uPlot.min.css";
            default -> null;
        };
        InputStream in = resource == null ? null : DashboardServer.class.getClassLoader().getResourceAsStream(resource);
        if (in == null) {
            send(ex, 404, "text/plain; charset=utf-8", "not found\n");
            return;
        }
        byte[] body;
        try (in) {
            body = in.readAllBytes();
        }
        ex.getResponseHeaders().set("Cache-Control", "max-age=3600");
        send(ex, 200, name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8", body);
    }

    static void send(HttpExchange ex, int code, String type, String body) throws IOException {
        send(ex, code, type, body.getBytes(StandardCharsets.UTF_8));
    }

    static void send(HttpExchange ex, int code, String type, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", type);
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(code, head ? -1 : body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
    }

    private static byte[] readBody(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(64 * 1024 + 1);
            if (b.length > 64 * 1024) {
                throw new IllegalArgumentException("request body over 64 KiB");
            }
            return b;
        }
    }

    static Map<String, String> parse(String encoded) {
        Map<String, String> out = new LinkedHashMap<>();
        if (encoded == null || encoded.isEmpty()) {
            return out;
        }
        for (String pair : encoded.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            out.putIfAbsent(k, v);
        }
        return out;
    }

    private static String required(Map<String, String> form, String name) {
        String v = form.get(name);
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + " is required");
        }
        return v.trim();
    }

    private static int number(String s, String what, int min, int max) {
        try {
            int n = Integer.parseInt(s.trim());
            if (n < min || n > max) {
                throw new IllegalArgumentException(what + " must be " + min + " to " + max + ", got " + n);
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a whole number, got '" + s + "'");
        }
    }

    private static double seconds(String s, String what) {
        try {
            double d = Double.parseDouble(s.trim());
            if (!(d >= 0) || Double.isInfinite(d)) {
                throw new IllegalArgumentException(what + " must be 0 or more seconds, got " + s);
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(what + " must be a number of seconds, got '" + s + "'");
        }
    }

    private static boolean constantEquals(String a, String b) {
        return a != null && b != null && java.security.MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}
