package io.celeriac.jdbc;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Settings;
import io.celeriac.spi.BackendProvider;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import io.celeriac.spi.TaskHistory;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Set;

/** {@code sqlite:PATH}: the embedded broker and result store, one file per deployment. */
public final class SqliteBackend implements BackendProvider {
    public static final String DEFAULT_FILE = "celeriac.db";

    private final Clock clock;

    /** The provider the service loader uses: the system clock. */
    public SqliteBackend() {
        this(Clock.systemUTC());
    }

    /** A provider whose stores read time from {@code clock} (leases, expiry, locks): for tests. */
    public SqliteBackend(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Set<String> schemes() {
        return Set.of("sqlite");
    }

    @Override
    public Broker openBroker(String url, Config config) {
        return new SqlBroker(SqliteDatabase.acquire(path(url), url), config.get(Settings.BROKER_RECOVERY_TIMEOUT),
                clock, url);
    }

    @Override
    public ResultStore openResultStore(String url, Config config) {
        return new SqlResultStore(SqliteDatabase.acquire(path(url), url), config.get(Settings.RESULT_EXPIRES),
                clock, url);
    }

    @Override
    public Coordination openCoordination(String url, Config config) {
        return new SqlCoordination(SqliteDatabase.acquire(path(url), url), clock, url);
    }

    /** The task history in the same database ({@code celeriac_task_history}). */
    @Override
    public TaskHistory openTaskHistory(String url, Config config) {
        return new SqlTaskHistory(SqliteDatabase.acquire(path(url), url), url);
    }

    /**
     * The file of a {@code sqlite:} URL: {@code sqlite:} alone is {@code ./celeriac.db};
     * {@code sqlite:rel.db} and {@code sqlite:/abs.db} are paths; {@code sqlite://} + path is the same
     * path ({@code sqlite:///abs.db}).
     */
    public static Path path(String url) {
        String rest = url.substring(url.indexOf(':') + 1);
        if (rest.startsWith("//")) {
            rest = rest.substring(2);
        }
        int q = rest.indexOf('?');
        if (q >= 0) {
            throw new ConfigException("'" + url + "': sqlite URLs take no options (found '" + rest.substring(q) + "')");
        }
        if (rest.isEmpty()) {
            rest = DEFAULT_FILE;
        }
        try {
            return Path.of(rest);
        } catch (InvalidPathException e) {
            throw new ConfigException("'" + url + "': '" + rest + "' is not a file path");
        }
    }
}
