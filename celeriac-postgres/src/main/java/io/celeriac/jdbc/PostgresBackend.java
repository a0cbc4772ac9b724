package io.celeriac.jdbc;

import io.celeriac.ConfigException;
import io.celeriac.config.Config;
import io.celeriac.config.Secrets;
import io.celeriac.config.Settings;
import io.celeriac.spi.BackendProvider;
import io.celeriac.spi.Broker;
import io.celeriac.spi.Coordination;
import io.celeriac.spi.ResultStore;
import io.celeriac.spi.TaskHistory;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Properties;
import java.util.Set;

/**
 * {@code postgresql://user:password@host:port/database?sslmode=require…}: broker, result store and
 * coordination in a PostgreSQL database (tables {@code celeriac_*}, created on first use). For
 * workers on many machines sharing one database. Reservation is {@code FOR UPDATE SKIP LOCKED};
 * idle workers wait on {@code LISTEN/NOTIFY}. As libpq: the user defaults to the login name, the
 * database to the user, the port to 5432; query options (sslmode, sslrootcert, connectTimeout, …)
 * go to the JDBC driver as they are.
 */
public final class PostgresBackend implements BackendProvider {
    private final Clock clock;

    /** The provider the service loader uses: the system clock. */
    public PostgresBackend() {
        this(Clock.systemUTC());
    }

    /** A provider whose stores read time from {@code clock}: for tests. */
    public PostgresBackend(Clock clock) {
        this.clock = clock;
    }

    @Override
    public Set<String> schemes() {
        return Set.of("postgresql", "postgres");
    }

    @Override
    public Broker openBroker(String url, Config config) {
        return new SqlBroker(open(url), config.get(Settings.BROKER_RECOVERY_TIMEOUT), clock, Secrets.redact(url));
    }

    @Override
    public ResultStore openResultStore(String url, Config config) {
        return new SqlResultStore(open(url), config.get(Settings.RESULT_EXPIRES), clock, Secrets.redact(url));
    }

    @Override
    public Coordination openCoordination(String url, Config config) {
        return new SqlCoordination(open(url), clock, Secrets.redact(url));
    }

    /** The task history in the same database ({@code celeriac_task_history}). */
    @Override
    public TaskHistory openTaskHistory(String url, Config config) {
        return new SqlTaskHistory(open(url), Secrets.redact(url));
    }

    private static PostgresDatabase open(String url) {
        Target t = parse(url);
        return PostgresDatabase.acquire(t.jdbcUrl(), t.props(), url);
    }

    /** The JDBC URL and connection properties of a {@code postgresql://} URL. */
    record Target(String jdbcUrl, Properties props) {
    }

    static Target parse(String url) {
        URI u;
        try {
            u = new URI(url);
        } catch (URISyntaxException e) {
            throw new ConfigException("'" + Secrets.redact(url) + "' is not a valid PostgreSQL URL: " + e.getReason());
        }
        if (u.getHost() == null) {
            throw new ConfigException("'" + Secrets.redact(url) + "': a PostgreSQL URL needs a host, as in"
                    + " postgresql://user:password@localhost:5432/database");
        }
        Properties props = new Properties();
        String user = System.getProperty("user.name");
        String info = u.getRawUserInfo();
        if (info != null && !info.isEmpty()) {
            int colon = info.indexOf(':');
            user = decode(colon < 0 ? info : info.substring(0, colon));
            if (colon >= 0) {
                props.setProperty("password", decode(info.substring(colon + 1)));
            }
        }
        props.setProperty("user", user);
        String path = u.getRawPath() == null ? "" : u.getRawPath();
        String database = path.length() > 1 ? decode(path.substring(1)) : user;
        if (database.contains("/")) {
            throw new ConfigException("'" + Secrets.redact(url) + "': the path must be just the database name");
        }
        String query = u.getRawQuery();
        if (query != null) {
            for (String kv : query.split("&")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new ConfigException("'" + Secrets.redact(url) + "': option '" + kv + "' needs a value (name=value)");
                }
                props.setProperty(decode(kv.substring(0, eq)), decode(kv.substring(eq + 1)));
            }
        }
        props.putIfAbsent("ApplicationName", "celeriac");
        props.putIfAbsent("connectTimeout", "5");
        // A server that stops answering (frozen, SIGSTOP, a network that drops packets) fails a call
        // within this long instead of holding it for ever: an outage, logged and waited out. The
        // statements Celeriac runs are short; a ?socketTimeout= in the URL overrides it.
        props.putIfAbsent("socketTimeout", "10");
        props.putIfAbsent("loginTimeout", "10");
        // A client frozen inside a transaction (SIGSTOP, a GC pause) must not keep its row locks: the
        // rows it leased would be skipped (SKIP LOCKED) by every other worker for as long as it stays
        // frozen. Celeriac's transactions are short; the server ends one left idle this long.
        String idle = "-c idle_in_transaction_session_timeout=5000";
        String options = props.getProperty("options");
        if (options == null || !options.contains("idle_in_transaction_session_timeout")) {
            props.setProperty("options", options == null || options.isBlank() ? idle : options + " " + idle);
        }
        String host = u.getHost().contains(":") && !u.getHost().startsWith("[") ? "[" + u.getHost() + "]" : u.getHost();
        String jdbc = "jdbc:postgresql://" + host + ":" + (u.getPort() < 0 ? 5432 : u.getPort()) + "/"
                + java.net.URLEncoder.encode(database, StandardCharsets.UTF_8).replace("+", "%20");
        return new Target(jdbc, props);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }
}
