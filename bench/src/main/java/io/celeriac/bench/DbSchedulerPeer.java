package io.celeriac.bench;

import com.github.kagkarlsson.scheduler.SchedulerClient;
import com.github.kagkarlsson.scheduler.task.TaskInstance;
import com.zaxxer.hikari.HikariDataSource;
import io.celeriac.testkit.LocalPostgres;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * db-scheduler on a database of its own: tasks scheduled with its {@link SchedulerClient} (a batch
 * for the backlog, one {@code schedule} each when paced), run by {@link DbSchedulerWorker} in a
 * child JVM; a task has completed when its row is deleted (the worker notes when).
 */
final class DbSchedulerPeer implements Peer {
    static final String VERSION = "16.7.1";
    static final int THREADS = 2;
    static final long POLLING_MS = 100;
    private final double lower;
    private final double upper;

    /** The PostgreSQL table of db-scheduler's README (its postgresql_tables.sql). */
    private static final String DDL = """
            create table scheduled_tasks (
              task_name text not null, task_instance text not null, task_data bytea,
              execution_time timestamp with time zone not null, picked BOOLEAN not null, picked_by text,
              last_success timestamp with time zone, last_failure timestamp with time zone, consecutive_failures INT,
              last_heartbeat timestamp with time zone, version BIGINT not null, priority SMALLINT,
              PRIMARY KEY (task_name, task_instance));
            CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time);
            CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
            CREATE INDEX priority_execution_time_idx on scheduled_tasks (priority desc, execution_time asc);
            """;

    private final String jdbcUrl;
    private final HikariDataSource ds;
    private final SchedulerClient client;
    private final WorkerProcess worker;
    private final Path completionsFile;
    private final AtomicLong sent = new AtomicLong();
    private final Map<String, Instant> done = new HashMap<>();
    private long readTo;

    /** {@code lower} and {@code upper}: pollUsingLockAndFetch's fractions of the thread count. */
    DbSchedulerPeer(LocalPostgres pg, Path work, double lower, double upper) throws Exception {
        this.lower = lower;
        this.upper = upper;
        jdbcUrl = PeerDb.create(pg);
        ds = PeerDb.pool(jdbcUrl, "db-scheduler-client");
        try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
            s.execute(DDL);
        }
        client = SchedulerClient.Builder.create(ds, DbSchedulerWorker.NOOP).build();
        worker = new WorkerProcess("db-scheduler", work.resolve("db-scheduler-worker.log"));
        completionsFile = work.resolve("db-scheduler-completions.txt");
        Files.deleteIfExists(completionsFile);
    }

    @Override
    public String name() {
        return "db-scheduler-pg";
    }

    @Override
    public String configuration() {
        return "db-scheduler " + VERSION + " (Maven Central) on PostgreSQL, a database of its own with the README's table;"
                + " one Scheduler in a child JVM (-Xmx512m, JVM defaults otherwise), HikariCP defaults;"
                + " threads(" + THREADS + "), pollUsingLockAndFetch(" + lower + ", " + upper + ") (lock-and-fetch, the README's"
                + " advice above 1,000 executions/s, with its fractions \"for high throughput\"; fetch again when " + lower + " x threads are left, up to " + upper
                + " x threads at a time), pollingInterval(" + POLLING_MS
                + " ms) (default 10 s); tasks sent by SchedulerClient (scheduleBatch for the backlog, schedule(instance, now)"
                + " when paced); a completion is the row deleted (a SchedulerListener notes the time after the delete)";
    }

    @Override
    public List<String> load(int n) throws Exception {
        List<String> ids = new ArrayList<>(n);
        List<TaskInstance<?>> batch = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = 0; i < n; i++) {
            String id = "backlog-" + i;
            ids.add(id);
            batch.add(DbSchedulerWorker.NOOP.instance(id));
            if (batch.size() == 1000 || i == n - 1) {
                client.scheduleBatch(batch, now);
                batch.clear();
            }
        }
        return ids;
    }

    @Override
    public void startWorker() throws Exception {
        worker.started(PeerDb.childJvm(DbSchedulerWorker.class, worker.log(), jdbcUrl, Integer.toString(THREADS), Long.toString(POLLING_MS),
                Double.toString(lower), Double.toString(upper), completionsFile.toString()));
    }

    @Override
    public String send() {
        String id = "paced-" + sent.incrementAndGet();
        client.schedule(DbSchedulerWorker.NOOP.instance(id), Instant.now());
        return id;
    }

    @Override
    public Map<String, Instant> completions(List<String> ids, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            worker.checkAlive();
            // cheap until the table is empty: every row deleted means every task completed
            if (PeerDb.count(ds, "select count(*) from scheduled_tasks") == 0) {
                readNew();
                if (ids.stream().allMatch(done::containsKey)) {
                    break;
                }
            }
            Thread.sleep(200);
        }
        readNew();
        Map<String, Instant> m = new HashMap<>();
        for (String id : ids) {
            Instant t = done.get(id);
            if (t != null) {
                m.put(id, t);
            }
        }
        return m;
    }

    /** Reads the lines the worker appended since the last call. */
    private void readNew() throws IOException {
        if (!Files.exists(completionsFile)) {
            return;
        }
        try (RandomAccessFile f = new RandomAccessFile(completionsFile.toFile(), "r")) {
            long end = f.length();
            byte[] bytes = new byte[(int) (end - readTo)];
            f.seek(readTo);
            f.readFully(bytes);
            String text = new String(bytes, StandardCharsets.UTF_8);
            int lastNewline = text.lastIndexOf('\n');
            if (lastNewline < 0) {
                return;
            }
            for (String line : text.substring(0, lastNewline).split("\n")) {
                int sp = line.indexOf(' ');
                long micros = Long.parseLong(line.substring(sp + 1));
                done.put(line.substring(0, sp), Instant.ofEpochSecond(micros / 1_000_000, (micros % 1_000_000) * 1000));
            }
            readTo += text.substring(0, lastNewline + 1).getBytes(StandardCharsets.UTF_8).length;
        }
    }

    @Override
    public void stopWorker() throws Exception {
        worker.stop();
    }

    @Override
    public void close() throws Exception {
        stopWorker();
        ds.close();
    }
}
