package io.celeriac.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.celeriac.testkit.LocalPostgres;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** A fresh database for one peer on the machine's PostgreSQL, and what the peers' processes share about it. */
final class PeerDb {
    private PeerDb() {
    }

    /** A new database on {@code pg}; returns its JDBC URL (user postgres, trust). */
    static String create(LocalPostgres pg) throws Exception {
        String url = pg.createDatabase(); // postgresql://postgres@host:port/name
        return "jdbc:postgresql://" + url.substring(url.indexOf('@') + 1) + "?user=postgres";
    }

    /** A connection pool as an application would have one: HikariCP with its defaults (at most 10 connections). */
    static HikariDataSource pool(String jdbcUrl, String name) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(jdbcUrl);
        c.setPoolName(name);
        return new HikariDataSource(c);
    }

    /** The first column of the first row of {@code sql}, a count. */
    static long count(javax.sql.DataSource ds, String sql) throws Exception {
        try (Connection c = ds.getConnection(); Statement s = c.createStatement(); ResultSet r = s.executeQuery(sql)) {
            r.next();
            return r.getLong(1);
        }
    }

    /** Keeps the peers' libraries (and HikariCP) to warnings: logback's default would print every job at DEBUG. */
    static void quietLogging() {
        Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        if (root instanceof ch.qos.logback.classic.Logger l) {
            l.setLevel(ch.qos.logback.classic.Level.WARN);
        }
    }

    /** Starts {@code main} in a JVM of its own with this JVM's class path and the JVM's default options. */
    static Process childJvm(Class<?> main, Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx512m", "-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }
}
