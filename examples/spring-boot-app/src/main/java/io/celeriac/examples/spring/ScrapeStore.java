package io.celeriac.examples.spring;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

/** The application's own table of finished scrapes ({@code schema.sql}), through Spring JDBC. */
@Repository
public class ScrapeStore {
    private final JdbcTemplate jdbc;

    /** @param jdbc the application's database */
    public ScrapeStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /**
     * Records a finished scrape; a task run again after a crash records the same row again, not a second one.
     *
     * @param taskId the task's id
     * @param result what {@code scrape_all_sources} found: sources, claims_found, attempts
     */
    public void save(String taskId, Map<String, Object> result) {
        jdbc.update("INSERT INTO scrapes (task_id, sources, claims_found, attempts, finished_at) VALUES (?, ?, ?, ?, ?)"
                        + " ON CONFLICT (task_id) DO UPDATE SET sources = excluded.sources, claims_found = excluded.claims_found,"
                        + " attempts = excluded.attempts, finished_at = excluded.finished_at",
                taskId, result.get("sources"), result.get("claims_found"), result.get("attempts"), Instant.now().toString());
    }

    /**
     * @param taskId the task's id
     * @return its row, once the task stored it
     */
    public Optional<Map<String, Object>> find(String taskId) {
        List<Map<String, Object>> rows = jdbc.queryForList("SELECT * FROM scrapes WHERE task_id = ?", taskId);
        return rows.stream().findFirst();
    }

    /** @return the last 20 scrapes, newest first */
    public List<Map<String, Object>> latest() {
        return jdbc.queryForList("SELECT * FROM scrapes ORDER BY finished_at DESC LIMIT 20");
    }

    /** @return whether the database answers a query (the 5-minute check) */
    public boolean answers() {
        return Integer.valueOf(1).equals(jdbc.queryForObject("SELECT 1", Integer.class));
    }
}
