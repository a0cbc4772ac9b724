package io.celeriac.fleet;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import io.celeriac.protocol.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * {@code /metrics}, {@code /health/live} and {@code /health/ready} as JDK {@link HttpHandler}s, for
 * the dashboard's server (or any {@link HttpServer}): {@link #handlers()} gives each path's handler
 * for a server that wraps its handlers (authentication, headers), {@link #mount(HttpServer)} adds
 * them as they are. GET and HEAD only (405 otherwise); ready answers 200 or 503 with the checks as JSON.
 */
public final class FleetEndpoints {
    /** The metrics path. */
    public static final String METRICS = "/metrics";
    /** The liveness path. */
    public static final String LIVE = "/health/live";
    /** The readiness path. */
    public static final String READY = "/health/ready";

    private final FleetMetrics metrics;
    private final FleetHealth health;

    /**
     * The endpoints of these metrics and health checks.
     *
     * @param metrics the metrics
     * @param health the health checks (the same the metrics report)
     */
    public FleetEndpoints(FleetMetrics metrics, FleetHealth health) {
        this.metrics = metrics;
        this.health = health;
    }

    /**
     * Each path with its handler, in the order {@code /metrics}, {@code /health/live}, {@code /health/ready}.
     *
     * @return path to handler
     */
    public Map<String, HttpHandler> handlers() {
        Map<String, HttpHandler> m = new LinkedHashMap<>();
        m.put(METRICS, exchange -> answer(exchange, 200, FleetMetrics.CONTENT_TYPE, metrics::scrape));
        m.put(LIVE, exchange -> answer(exchange, 200, "application/json", () -> Json.write(health.live())));
        m.put(READY, exchange -> {
            FleetHealth.Readiness r = health.ready();
            ObjectNode doc = r.json();
            answer(exchange, r.ready() ? 200 : 503, "application/json", () -> Json.write(doc));
        });
        return m;
    }

    /**
     * Registers every handler with {@code register} (path, handler): the dashboard's own way of adding
     * a handler, so its wrapping applies.
     *
     * @param register the server's registration
     */
    public void mount(BiConsumer<String, HttpHandler> register) {
        handlers().forEach(register);
    }

    /**
     * Adds every handler to {@code server} as a context of its own.
     *
     * @param server the server
     */
    public void mount(HttpServer server) {
        mount((path, handler) -> server.createContext(path, exchange -> {
            if (!exchange.getRequestURI().getPath().equals(path)) {
                try (exchange) {
                    exchange.sendResponseHeaders(404, -1); // a context matches by prefix: /metrics/x is not ours
                }
                return;
            }
            handler.handle(exchange);
        }));
    }

    private interface Body {
        String get() throws Exception;
    }

    private static void answer(HttpExchange exchange, int status, String contentType, Body body) throws IOException {
        try (exchange) {
            String method = exchange.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes;
            int code = status;
            String type = contentType;
            try {
                bytes = body.get().getBytes(StandardCharsets.UTF_8);
            } catch (Exception e) {
                code = 500;
                type = "text/plain; charset=utf-8";
                bytes = ("error: " + FleetChecks.oneLine(e.getMessage()) + "\n").getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.getResponseHeaders().set("Cache-Control", "no-store");
            if (method.equals("HEAD")) {
                exchange.sendResponseHeaders(code, -1);
                return;
            }
            exchange.sendResponseHeaders(code, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
