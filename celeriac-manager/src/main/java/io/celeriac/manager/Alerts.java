package io.celeriac.manager;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.celeriac.config.Secrets;
import io.celeriac.protocol.CeleryTime;
import io.celeriac.protocol.Json;
import io.celeriac.protocol.TaskMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Alerts (the seed's "configure monitoring alerts"): a JSON POST to {@code alert_webhook_url} on a
 * FATAL program, a crash loop, or health turning unhealthy. Sent from a thread of their own and
 * retried (1 s, 2 s, 4 s), so a slow or broken webhook never holds up supervision.
 *
 * <pre>{"event": "fatal"|"crash_loop"|"unhealthy", "process": "worker", "message": "…", "host": "…", "time": "…"}</pre>
 */
public final class Alerts implements SupervisorEvents, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger("celeriac.manager");
    private static final int TRIES = 4;

    private final URI url;
    /** The URL as logs show it: its path and query (the webhook's secret) masked. */
    private final String safeUrl;
    private final HttpClient http;
    private final ExecutorService sender = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "celeriac-alerts");
        t.setDaemon(true);
        return t;
    });

    /** {@code url} empty: alerts are only logged. */
    public Alerts(String url) {
        this.safeUrl = Secrets.redactWebhook(url);
        try {
            this.url = url == null || url.isBlank() ? null : new URI(url.trim());
        } catch (java.net.URISyntaxException e) {
            throw new io.celeriac.ConfigException("alert_webhook_url '" + safeUrl + "' is not a valid URL: " + e.getReason());
        }
        if (this.url != null && !("http".equalsIgnoreCase(this.url.getScheme()) || "https".equalsIgnoreCase(this.url.getScheme()))) {
            throw new io.celeriac.ConfigException("alert_webhook_url '" + safeUrl + "': expected an http:// or https:// URL");
        }
        this.http = this.url == null ? null : HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    }

    @Override
    public void fatal(String process, String why) {
        send("fatal", process, process + " is FATAL: " + why);
    }

    @Override
    public void crashLoop(String process, int crashes) {
        send("crash_loop", process, process + " crashed " + crashes + " times in 10 minutes");
    }

    public void unhealthy(String message) {
        send("unhealthy", null, message);
    }

    public void send(String event, String process, String message) {
        log.error("ALERT {}: {}", event, message);
        if (url == null) {
            return;
        }
        ObjectNode body = Json.NODES.objectNode();
        body.put("event", event);
        if (process != null) {
            body.put("process", process);
        }
        body.put("message", message);
        body.put("host", TaskMessage.hostName());
        body.put("time", CeleryTime.format(Instant.now()));
        String json = Json.write(body);
        sender.execute(() -> post(json));
    }

    private void post(String json) {
        for (int i = 0; i < TRIES; i++) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(url).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(json)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() < 300) {
                    return;
                }
                log.warn("alert webhook {} answered {}", safeUrl, r.statusCode());
            } catch (java.io.IOException e) {
                log.warn("alert webhook {} unreachable: {}", safeUrl, Secrets.redact(e.getMessage()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            try {
                Thread.sleep(1000L << i);
            } catch (InterruptedException e) {
                return;
            }
        }
        log.error("alert not delivered to {} after {} tries: {}", safeUrl, TRIES, json);
    }

    @Override
    public void close() {
        sender.shutdown();
        try {
            sender.awaitTermination(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
