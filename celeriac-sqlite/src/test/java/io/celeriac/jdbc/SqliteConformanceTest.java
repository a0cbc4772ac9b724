package io.celeriac.jdbc;

import io.celeriac.testkit.ProviderConformanceKit;
import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The conformance kit against a real SQLite file. */
class SqliteConformanceTest extends ProviderConformanceKit {
    @TempDir
    static Path dir;

    private final SqliteBackend provider = new SqliteBackend();

    @Override
    protected SqliteBackend provider() {
        return provider;
    }

    @Override
    protected String url() {
        return "sqlite:" + dir.resolve("conformance.db");
    }
}
