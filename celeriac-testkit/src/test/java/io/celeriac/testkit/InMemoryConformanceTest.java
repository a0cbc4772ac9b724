package io.celeriac.testkit;

import io.celeriac.spi.InMemoryBackend;

/** The in-memory backend (memory://) meets the same contract as the real brokers. */
class InMemoryConformanceTest extends ProviderConformanceKit {
    private final InMemoryBackend provider = new InMemoryBackend();

    @Override
    protected InMemoryBackend provider() {
        return provider;
    }

    @Override
    protected String url() {
        return "memory://conformance";
    }
}
