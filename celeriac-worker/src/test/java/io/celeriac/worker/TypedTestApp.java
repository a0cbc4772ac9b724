package io.celeriac.worker;

import io.celeriac.CeleriacApp;
import io.celeriac.Kwarg;
import io.celeriac.Task;
import io.celeriac.TaskClient;
import io.celeriac.TaskContext;
import io.celeriac.TaskRegistry;
import java.util.List;

/**
 * An app whose tasks are named by an interface the client uses too ({@link TypedClientWorkerTest});
 * loaded by name in the process pool's children as any app.
 */
public final class TypedTestApp implements CeleriacApp {

    /** A task's result: a record, as JSON on the wire. */
    public record Report(String source, int claims, String worker) {
    }

    /** Shared by the worker (implemented below) and the client ({@code app.client(Facts.class)}). */
    @TaskClient(resultTimeout = 60)
    public interface Facts {
        @Task(name = "typed.scrape", maxRetries = 2)
        Report scrape(String source, @Kwarg("claims") Integer claims);

        @Task(name = "typed.scrape_all")
        List<Report> scrapeAll(List<String> sources);

        @Task(name = "typed.add")
        long add(long x, long y);

        @Task(name = "typed.fail")
        String fail(String message);
    }

    /** The worker's side: plain Java, no annotations of its own. */
    public static final class FactsImpl implements Facts {
        @Override
        public Report scrape(String source, Integer claims) {
            return new Report(source, claims == null ? source.length() : claims, TaskContext.current().hostname());
        }

        @Override
        public List<Report> scrapeAll(List<String> sources) {
            return sources.stream().map(s -> scrape(s, null)).toList();
        }

        @Override
        public long add(long x, long y) {
            return x + y;
        }

        @Override
        public String fail(String message) {
            throw new IllegalStateException(message);
        }
    }

    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(new FactsImpl());
    }
}
