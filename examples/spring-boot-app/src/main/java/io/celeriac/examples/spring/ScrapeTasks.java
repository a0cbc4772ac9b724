package io.celeriac.examples.spring;

import io.celeriac.Param;
import io.celeriac.Task;
import io.celeriac.TaskContext;
import io.celeriac.examples.FactCheckApp;
import java.util.Map;
import org.springframework.stereotype.Component;

/**
 * The tasks, as a Spring bean: the starter registers its {@code @Task} methods, and Spring injects
 * the {@link ScrapeStore} they write to.
 */
@Component
public class ScrapeTasks {
    private final FactCheckApp seed = new FactCheckApp();
    private final ScrapeStore store;

    /** @param store where results are recorded */
    public ScrapeTasks(ScrapeStore store) {
        this.store = store;
    }

    /**
     * The seed's scrape (a source that times out makes it retry, 1 s, 2 s, 4 s), its findings stored in
     * the application's database.
     *
     * @param ctx         the run
     * @param failureRate chance that an attempt meets a source that times out; default 0.4
     * @return what it found
     */
    @Task(name = "scrape_all_sources", maxRetries = 3)
    public Map<String, Object> scrapeAllSources(TaskContext ctx, @Param(value = "failure_rate", optional = true) Double failureRate) {
        Map<String, Object> found = seed.scrapeAllSources(ctx, failureRate);
        store.save(ctx.id(), found);
        return found;
    }

    /**
     * The seed's health check every 5 minutes (beat_schedule in application.properties), on the same
     * DataSource the application uses; Celeriac's own {@code celeriac.health_check} checks the broker.
     *
     * @return "ok" when the database answers
     */
    @Task(name = "check_database")
    public String checkDatabase() {
        if (!store.answers()) {
            throw new IllegalStateException("the application's database did not answer SELECT 1");
        }
        return "ok";
    }
}
