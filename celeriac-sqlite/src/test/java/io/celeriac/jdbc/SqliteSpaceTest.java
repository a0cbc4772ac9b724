package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.celeriac.config.Config;
import io.celeriac.spi.Broker;
import io.celeriac.spi.BrokerMessage;
import io.celeriac.spi.Delivery;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The embedded broker's file gives space back once its messages are gone. */
@Tag("integration")
class SqliteSpaceTest {
    @TempDir
    Path dir;

    private static final String MIB = "x".repeat(1 << 20);

    private static long pragma(Path file, String name) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static long onDisk(Path file) throws Exception {
        Path wal = Path.of(file + "-wal");
        return Files.size(file) + (Files.exists(wal) ? Files.size(wal) : 0);
    }

    private static void drain(Broker b, int n) throws Exception {
        int acked = 0;
        while (acked < n) {
            List<Delivery> got = b.reserve(List.of("celery"), 20, Duration.ofSeconds(1));
            b.ack(got);
            acked += got.size();
        }
    }

    @Test
    void aNewFileUsesIncrementalAutoVacuumAndShrinksAfterABurstIsDrained() throws Exception {
        Path file = dir.resolve("new.db");
        String url = "sqlite:" + file;
        try (Broker b = new SqliteBackend().openBroker(url, Config.defaults())) {
            assertThat(pragma(file, "auto_vacuum")).as("2: incremental").isEqualTo(2);
            for (int i = 0; i < 60; i++) {
                b.publish("celery", new BrokerMessage("t" + i, MIB, 0, null));
            }
            long peak = onDisk(file);
            assertThat(peak).isGreaterThan(60L << 20);
            drain(b, 60);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(onDisk(file)).as("db + WAL, peak %d", peak).isLessThan(peak / 8));
            // still a working broker after the shrink
            b.publish("celery", new BrokerMessage("after", "small", 0, null));
            assertThat(b.reserve(List.of("celery"), 1, Duration.ofSeconds(5))).extracting(Delivery::payload).containsExactly("small");
        }
    }

    @Test
    void aFileMadeWithoutAutoVacuumIsConvertedWhenOpenedAndThenShrinks() throws Exception {
        Path file = dir.resolve("old.db");
        // a file as an older Celeriac left it: no auto-vacuum, big, its rows deleted
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file); Statement s = c.createStatement()) {
            s.execute("PRAGMA journal_mode=WAL");
            s.execute("CREATE TABLE filler (payload TEXT)");
            try (var ps = c.prepareStatement("INSERT INTO filler VALUES (?)")) {
                for (int i = 0; i < 40; i++) {
                    ps.setString(1, MIB);
                    ps.executeUpdate();
                }
            }
            s.execute("DELETE FROM filler");
            s.execute("PRAGMA wal_checkpoint(TRUNCATE)");
        }
        assertThat(pragma(file, "auto_vacuum")).isZero();
        long before = onDisk(file);
        assertThat(before).isGreaterThan(40L << 20);
        try (Broker b = new SqliteBackend().openBroker("sqlite:" + file, Config.defaults())) {
            assertThat(pragma(file, "auto_vacuum")).isEqualTo(2);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
                    .untilAsserted(() -> assertThat(onDisk(file)).isLessThan(before / 8));
        }
    }
}
