package io.celeriac.testkit;

import io.celeriac.config.Config;
import io.celeriac.spi.InMemoryBackend;
import io.celeriac.spi.TaskHistory;
import java.util.concurrent.atomic.AtomicInteger;

/** The in-memory task history ({@code memory://}) meets the same contract as the stored ones. */
class InMemoryTaskHistoryTest extends TaskHistoryConformanceTest {
    private static final AtomicInteger STORES = new AtomicInteger();
    private final InMemoryBackend provider = new InMemoryBackend();

    @Override
    protected String newStore() {
        return "memory://history-" + STORES.incrementAndGet();
    }

    @Override
    protected TaskHistory open(String url) {
        return provider.openTaskHistory(url, Config.defaults());
    }
}
