package io.celeriac.dashboard;

import io.celeriac.Celeriac;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import io.celeriac.config.Config;
import io.celeriac.worker.Worker;
import io.celeriac.worker.WorkerOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/** A dashboard on a free port over a client (and, when asked, a real in-process worker), and an HTTP client for it. */
final class Served implements AutoCloseable {
    static final Duration WAIT = Duration.ofSeconds(20);

    final Celeriac app;
    final Worker worker;
    final DashboardServer server;
    private final HttpClient http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

    Served(Config c, Path runDir, boolean withWorker) throws Exception {
        TaskRegistry registry = new TaskRegistry();
        registry.register(Tasks.task("add", Integer.class, Integer.class, (a, b) -> a + b));
        app = Celeriac.open(c, registry);
        if (withWorker) {
            worker = new Worker(WorkerOptions.from(c), registry, app.broker(), app.results(), Clock.systemUTC());
            worker.start();
        } else {
            worker = null;
        }
        server = new DashboardServer(DashboardConfig.of(c, null), c, app, runDir).start();
    }

    HttpResponse<String> get(String path, String... headers) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url()).resolve(path)).timeout(WAIT);
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<String> post(String path, Map<String, String> form, String... headers) throws Exception {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.length() == 0 ? "" : "&").append(Html.q(k)).append('=').append(Html.q(v)));
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(server.url()).resolve(path)).timeout(WAIT)
                .header("Content-Type", "application/x-www-form-urlencoded");
        if (headers.length > 0) {
            b.headers(headers);
        }
        return http.send(b.POST(HttpRequest.BodyPublishers.ofString(body.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The worker's pool size, as it answers inspect stats. */
    int concurrency(String node) throws InterruptedException {
        return app.control().call("stats", null, List.of(node), List.of(node), WAIT).get(node).path("concurrency").asInt();
    }

    @Override
    public void close() throws Exception {
        server.close();
        if (worker != null) {
            worker.shutdownNow();
            worker.awaitTermination(WAIT);
        }
        app.close();
    }
}
