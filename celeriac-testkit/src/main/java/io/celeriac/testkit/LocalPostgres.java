package io.celeriac.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Databases of their own on the PostgreSQL server already running on this machine
 * ({@code 127.0.0.1:5432}, user {@code postgres} with trust authentication; another address with
 * {@code -Dceleriac.test.postgres=HOST:PORT}), made with {@code psql} and dropped by {@link #close()}
 * (a test class's {@code @AfterAll}). No JUnit in it, so benchmarks use it too. Cheaper than {@link PostgresServer}, which starts a cluster of its own (use that one for
 * tests that stop or freeze the server).
 *
 * <pre>{@code
 * static final LocalPostgres pg = new LocalPostgres();
 * ... String url = pg.createDatabase(); ...
 * @AfterAll static void drop() throws Exception { pg.close(); }
 * }</pre>
 */
public final class LocalPostgres implements AutoCloseable {
    private final String host;
    private final int port;
    private final List<String> made = new ArrayList<>();

    /** The server of {@code celeriac.test.postgres}, else 127.0.0.1:5432. */
    public LocalPostgres() {
        String at = System.getProperty("celeriac.test.postgres", "127.0.0.1:5432");
        int colon = at.lastIndexOf(':');
        this.host = at.substring(0, colon);
        this.port = Integer.parseInt(at.substring(colon + 1));
    }

    /** A new, empty database; returns its {@code postgresql://} URL. */
    public synchronized String createDatabase() throws IOException, InterruptedException {
        String name = "celeriac_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        psql("postgres", "CREATE DATABASE " + name);
        made.add(name);
        return url(name);
    }

    /** The URL of database {@code name} on this server. */
    public String url(String name) {
        return "postgresql://postgres@" + host + ":" + port + "/" + name;
    }

    /** Runs {@code sql} in database {@code database}; returns what psql printed (unaligned, tuples only). */
    public String psql(String database, String sql) throws IOException, InterruptedException {
        Path out = Files.createTempFile("celeriac-psql", ".out");
        try {
            Process p = new ProcessBuilder("psql", "-h", host, "-p", Integer.toString(port), "-U", "postgres", "-d", database,
                    "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql).redirectErrorStream(true).redirectOutput(out.toFile()).start();
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException("psql did not finish in 60 s: " + sql);
            }
            String text = Files.readString(out);
            if (p.exitValue() != 0) {
                throw new IOException("psql on " + host + ":" + port + " failed (" + sql + "): " + text.strip());
            }
            return text.strip();
        } finally {
            Files.deleteIfExists(out);
        }
    }

    /** Drops the databases this made. */
    @Override
    public synchronized void close() throws IOException, InterruptedException {
        for (String name : made) {
            psql("postgres", "DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
        made.clear();
    }
}
