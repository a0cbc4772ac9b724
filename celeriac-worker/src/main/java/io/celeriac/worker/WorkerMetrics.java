package io.celeriac.worker;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.protocol.Json;
import io.celeriac.spi.Broker;
import io.celeriac.spi.ResultStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's own {@code /metrics} (Prometheus text format 0.0.4, from Micrometer's Prometheus
 * registry), {@code /health/live} and {@code /health/ready}, served by the JDK's HTTP server on
 * {@code worker_metrics_bind}:{@code worker_metrics_port}. Fed as a {@link TaskObserver}, like the
 * worker's stats and events.
 *
 * <p>Ready means: the broker and the result store answer (asked at most once a second, each given
 * 2 s) and the worker made progress within {@code worker_liveness_timeout} (the rule of
 * {@code celeriac health}, {@link HealthChecks}).
 */
final class WorkerMetrics implements TaskObserver, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.worker");
    /** Broker and result-store answers are reused this long: a probe every few seconds costs one look each. */
    private static final long CACHE_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final Duration CHECK_TIMEOUT = Duration.ofSeconds(2);
    /** Prometheus text exposition format 0.0.4. */
    static final String TEXT_004 = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final String node;
    private final Broker broker;
    private final ResultStore results;
    private final Config config;
    private final WorkerStats stats;
    private final Duration liveness;
    private final WorkerMeters meters;
    private final ExecutorService checks = Executors.newSingleThreadExecutor(ThreadPool.platformThreads("celeriac-metrics-check-"));
    private HttpServer server;
    private long checkedAt;
    private Map<String, Check> lastChecks;

    /** One readiness check's answer. */
    private record Check(boolean ok, String detail) {
    }

    WorkerMetrics(String node, Set<String> registered, Broker broker, ResultStore results, Config config, WorkerStats stats,
                  Supplier<Integer> poolSize, Supplier<Integer> poolChildren, LongSupplier historyDropped) {
        this.node = node;
        this.broker = broker;
        this.results = results;
        this.config = config;
        this.stats = stats;
        this.liveness = config.get(Settings.WORKER_LIVENESS_TIMEOUT);
        this.meters = new WorkerMeters(registry, node, registered, stats, poolSize, poolChildren, historyDropped);
    }

    @Override
    public void finished(Finished f) {
        meters.finished(f);
    }

    @Override
    public void pool(PoolEvent event, long pid) {
        meters.pool(event, pid);
    }

    /** The text {@code /metrics} serves. */
    String scrape() {
        return registry.scrape(TEXT_004);
    }

    /**
     * Listens on {@code bind}:{@code port} (0: any free port); returns the port. Throws
     * {@link WorkerStartException} with one line when it cannot.
     */
    int start(String bind, int port) {
        InetSocketAddress address = new InetSocketAddress(bind, port);
        if (address.isUnresolved()) {
            throw new io.celeriac.ConfigException("worker_metrics_bind '" + bind + "' is not an address of this host");
        }
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException | RuntimeException e) {
            throw new WorkerStartException("worker_metrics_port " + port + ": cannot listen on " + bind + ":" + port + " ("
                    + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()) + ")");
        }
        server.setExecutor(Executors.newSingleThreadExecutor(ThreadPool.platformThreads("celeriac-metrics-http-")));
        server.createContext("/metrics", ex -> answer(ex, 200, TEXT_004, scrape()));
        server.createContext("/health/live", ex -> {
            ObjectNode o = Json.NODES.objectNode().put("status", "live").put("worker", node).put("pid", ProcessHandle.current().pid());
            answer(ex, 200, "application/json", Json.write(o));
        });
        server.createContext("/health/ready", this::ready);
        server.createContext("/", ex -> answer(ex, 404, "text/plain; charset=utf-8", "not found: try /metrics, /health/live, /health/ready\n"));
        server.start();
        return server.getAddress().getPort();
    }

    private void ready(HttpExchange ex) throws IOException {
        Map<String, Check> c = new LinkedHashMap<>(brokerChecks());
        double age = stats.secondsWithoutProgress();
        c.put("progress", HealthChecks.makingProgress(age, liveness)
                ? new Check(true, String.format("polled the broker or finished a task %.1f s ago", age))
                : new Check(false, String.format("no progress for %.0f s (worker_liveness_timeout %d s): it neither polled the broker"
                + " nor finished a task", age, liveness.toSeconds())));
        ObjectNode o = Json.NODES.objectNode();
        List<String> failing = c.entrySet().stream().filter(e -> !e.getValue().ok()).map(Map.Entry::getKey).toList();
        o.put("status", failing.isEmpty() ? "ready" : "unready");
        o.put("worker", node);
        if (!failing.isEmpty()) {
            o.put("failing", String.join(", ", failing));
        }
        ObjectNode checksNode = o.putObject("checks");
        c.forEach((name, check) -> checksNode.putObject(name).put("ok", check.ok()).put("detail", check.detail()));
        answer(ex, failing.isEmpty() ? 200 : 503, "application/json", Json.write(o));
    }

    /** The broker's and the result store's answers, asked again when the last are older than a second. */
    private synchronized Map<String, Check> brokerChecks() {
        long now = System.nanoTime();
        if (lastChecks == null || now - checkedAt > CACHE_NANOS) {
            Map<String, Check> c = new LinkedHashMap<>();
            c.put("broker", timed(broker.describe(), () -> HealthChecks.broker(broker, config)));
            c.put("result_backend", timed(results.describe(), () -> HealthChecks.resultStore(results)));
            lastChecks = c;
            checkedAt = System.nanoTime();
        }
        return lastChecks;
    }

    private Check timed(String target, Runnable probe) {
        long t0 = System.nanoTime();
        Future<?> f = checks.submit(probe);
        try {
            f.get(CHECK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            return new Check(true, String.format("%s answered in %.1f ms", target, (System.nanoTime() - t0) / 1e6));
        } catch (java.util.concurrent.TimeoutException e) {
            f.cancel(true);
            return new Check(false, target + ": no answer within " + CHECK_TIMEOUT.toSeconds() + " s");
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause();
            return new Check(false, target + ": " + io.celeriac.protocol.LogText.escape(String.valueOf(cause.getMessage())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Check(false, target + ": interrupted");
        }
    }

    private static void answer(HttpExchange ex, int status, String type, String body) throws IOException {
        try (ex) {
            if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
                status = 405;
                type = "text/plain; charset=utf-8";
                body = "only GET\n";
                ex.getResponseHeaders().set("Allow", "GET, HEAD");
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().set("Content-Type", type);
            ex.getResponseHeaders().set("Cache-Control", "no-store");
            boolean head = "HEAD".equals(ex.getRequestMethod());
            ex.sendResponseHeaders(status, head ? -1 : bytes.length);
            if (!head) {
                try (OutputStream out = ex.getResponseBody()) {
                    out.write(bytes);
                }
            }
        } catch (IOException | RuntimeException e) {
            log.debug("metrics: answering {} failed: {}", ex.getRequestURI(), e.toString());
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
            ((ExecutorService) server.getExecutor()).shutdownNow();
        }
        checks.shutdownNow();
        registry.close();
    }
}
