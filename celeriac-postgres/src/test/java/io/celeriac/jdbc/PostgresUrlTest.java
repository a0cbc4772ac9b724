package io.celeriac.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.celeriac.ConfigException;
import org.junit.jupiter.api.Test;

/** How a {@code postgresql://} URL becomes a JDBC URL and connection properties (libpq's defaults). */
class PostgresUrlTest {
    @Test
    void everyPartIsTaken() {
        PostgresBackend.Target t = PostgresBackend.parse("postgresql://app:s%40cret@db.example:6543/tasks?sslmode=require&connectTimeout=2");
        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/tasks");
        assertThat(t.props()).containsEntry("user", "app").containsEntry("password", "s@cret")
                .containsEntry("sslmode", "require").containsEntry("connectTimeout", "2");
    }

    @Test
    void asLibpqTheDatabaseIsTheUserAndThePort5432() {
        PostgresBackend.Target t = PostgresBackend.parse("postgres://celeriac@localhost");
        assertThat(t.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:5432/celeriac");
        assertThat(t.props()).containsEntry("user", "celeriac").doesNotContainKey("password");
        assertThat(PostgresBackend.parse("postgresql://localhost/").props()).containsEntry("user", System.getProperty("user.name"));
    }

    @Test
    void badUrlsAreConfigErrorsWithoutThePassword() {
        assertThatThrownBy(() -> PostgresBackend.parse("postgresql://u:hunter2@/db")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("needs a host").hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> PostgresBackend.parse("postgresql://h/a/b")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("just the database name");
    }
}
