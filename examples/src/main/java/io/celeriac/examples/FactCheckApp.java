package io.celeriac.examples;

import io.celeriac.CeleriacApp;
import io.celeriac.Param;
import io.celeriac.Task;
import io.celeriac.TaskContext;
import io.celeriac.TaskRegistry;
import io.celeriac.Tasks;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The example app, modelled on the seed guide's fact-checking backend: a periodic scrape of news
 * sources (some of which fail, so retries show), and the small tasks used by the demo, the tests
 * and the benchmark. It is the default app of the distribution jar.
 */
public final class FactCheckApp implements CeleriacApp {

    /** Simulated news sources. */
    static final List<String> SOURCES = List.of("wire-agency", "gov-press-releases", "fact-db", "social-trends", "local-news");

    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(this);
        // any arguments, returned as they came: for checking what crosses the wire (Celery interop)
        tasks.register(Tasks.raw("echo", ctx -> {
            Map<String, Object> out = new java.util.LinkedHashMap<>();
            out.put("args", ctx.args());
            out.put("kwargs", ctx.kwargs());
            return out;
        }));
    }

    /**
     * Scrapes every source and extracts the claims to check. A source that times out makes the
     * whole scrape retry with exponential back-off (1 s, 2 s, 4 s; the seed's policy).
     *
     * @param failureRate chance that an attempt meets a source that times out (0 = never, 1 = always);
     *                    default 0.4, so most runs show a retry and about 1 in 40 runs out of retries
     */
    @Task(name = "scrape_all_sources", maxRetries = 3)
    public Map<String, Object> scrapeAllSources(TaskContext ctx, @Param(value = "failure_rate", optional = true) Double failureRate) {
        double rate = failureRate == null ? 0.4 : failureRate;
        if (rate < 0 || rate > 1) {
            throw new IllegalArgumentException("failure_rate must be between 0 and 1, got " + rate);
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        if (random.nextDouble() < rate) {
            SourceTimeout exc = new SourceTimeout(SOURCES.get(random.nextInt(SOURCES.size())));
            ctx.logger().warn("Task failed: {} (attempt {}/{})", exc.getMessage(), ctx.retries() + 1, ctx.maxRetries() + 1);
            throw ctx.retry(exc, Duration.ofSeconds(1L << ctx.retries())); // 1 s, 2 s, 4 s
        }
        List<String> scraped = new ArrayList<>(SOURCES);
        int claims = 0;
        for (int i = 0; i < scraped.size(); i++) {
            claims += 1 + random.nextInt(5);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("sources", scraped.size());
        out.put("claims_found", claims);
        out.put("attempts", ctx.retries() + 1);
        return out;
    }

    @Task(name = "add")
    public long add(long x, long y) {
        return x + y;
    }

    @Task(name = "noop")
    public Object noop() {
        return null;
    }

    /** Always raises, carrying the message: shows how failures are recorded. */
    @Task(name = "fail")
    public Object fail(String message) {
        throw new FactCheckError(message);
    }

    @Task(name = "sleep")
    public double sleep(double seconds) throws InterruptedException {
        Thread.sleep(Math.round(seconds * 1000));
        return seconds;
    }

    /** A source did not answer in time. */
    public static final class SourceTimeout extends RuntimeException {
        public SourceTimeout(String source) {
            super("source '" + source + "' timed out");
        }
    }

    /** Raised by the {@code fail} task. */
    public static final class FactCheckError extends RuntimeException {
        public FactCheckError(String message) {
            super(message);
        }
    }
}
