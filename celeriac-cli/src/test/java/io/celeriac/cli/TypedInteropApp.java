package io.celeriac.cli;

import io.celeriac.CeleriacApp;
import io.celeriac.Kwarg;
import io.celeriac.Task;
import io.celeriac.TaskRegistry;

/** A Celeriac worker's app whose tasks an interface names, for {@link TypedClientInteropTest}. */
public final class TypedInteropApp implements CeleriacApp {

    /** What {@code typed.scrape} returns: a JSON object to Python, a record to a typed Java client. */
    public record Report(String source, int claims) {
    }

    /** Implemented here; called by Python by name and by Java through {@code app.client(Facts.class)}. */
    public interface Facts {
        @Task(name = "typed.scrape")
        Report scrape(String source, @Kwarg("claims") Integer claims);

        @Task(name = "typed.add")
        long add(long x, long y);
    }

    /** The implementation: no annotations of its own. */
    public static final class FactsImpl implements Facts {
        @Override
        public Report scrape(String source, Integer claims) {
            return new Report(source, claims == null ? source.length() : claims);
        }

        @Override
        public long add(long x, long y) {
            return x + y;
        }
    }

    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(new FactsImpl());
    }
}
