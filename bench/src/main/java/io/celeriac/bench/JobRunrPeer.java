package io.celeriac.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.celeriac.testkit.LocalPostgres;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.jobrunr.configuration.JobRunr;
import org.jobrunr.scheduling.JobBuilder;
import org.jobrunr.scheduling.JobRequestScheduler;
import org.jobrunr.storage.sql.postgres.PostgresStorageProvider;
import org.jobrunr.utils.mapper.jackson.JacksonJsonMapper;

/**
 * JobRunr on a database of its own: jobs enqueued with its {@link JobRequestScheduler} (a stream of
 * jobs for the backlog, one {@code enqueue} each when paced), run by {@link JobRunrWorker} in a
 * child JVM; a job has completed when JobRunr marks it SUCCEEDED (the row's {@code updatedAt}).
 */
final class JobRunrPeer implements Peer {
    static final String VERSION = "8.7.0";
    static final int WORKERS = 2;
    static final int POLL_SECONDS = 5;

    private final String jdbcUrl;
    private final HikariDataSource ds;
    private final JobRequestScheduler scheduler;
    private final WorkerProcess worker;
    private final AtomicInteger sent = new AtomicInteger();

    JobRunrPeer(LocalPostgres pg, Path work) throws Exception {
        jdbcUrl = PeerDb.create(pg);
        ds = PeerDb.pool(jdbcUrl, "jobrunr-client");
        // the client side only (no BackgroundJobServer here); it creates JobRunr's tables
        scheduler = JobRunr.configure().useJsonMapper(new JacksonJsonMapper()).useStorageProvider(new PostgresStorageProvider(ds))
                .initialize().getJobRequestScheduler();
        worker = new WorkerProcess("JobRunr", work.resolve("jobrunr-worker.log"));
    }

    @Override
    public String name() {
        return "jobrunr-pg";
    }

    @Override
    public String configuration() {
        return "JobRunr " + VERSION + " (Maven Central, the newest there; Java 8+) on PostgreSQL, a database of its own,"
                + " PostgresStorageProvider (tables created by JobRunr), JacksonJsonMapper, HikariCP defaults; one"
                + " BackgroundJobServer in a child JVM (-Xmx512m, JVM defaults otherwise): andWorkerCount(" + WORKERS
                + "), andPollInterval(" + POLL_SECONDS + " s) (the smallest JobRunr accepts; default 15 s; a worker going idle"
                + " also fetches at once); jobs are JobRequests sent by JobRequestScheduler (create(Stream) for the backlog,"
                + " enqueue(request) when paced); a completion is the job's SUCCEEDED state (updatedAt in jobrunr_jobs)";
    }

    @Override
    public List<String> load(int n) {
        List<String> ids = new ArrayList<>(n);
        List<JobBuilder> jobs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            UUID id = UUID.randomUUID();
            ids.add(id.toString());
            jobs.add(JobBuilder.aJob().withId(id).withJobRequest(new JobRunrWorker.Noop(i)));
        }
        scheduler.create(jobs.stream());
        return ids;
    }

    @Override
    public void startWorker() throws Exception {
        worker.started(PeerDb.childJvm(JobRunrWorker.class, worker.log(), jdbcUrl, Integer.toString(WORKERS), Integer.toString(POLL_SECONDS)));
    }

    @Override
    public String send() {
        return scheduler.enqueue(new JobRunrWorker.Noop(sent.incrementAndGet())).asUUID().toString();
    }

    @Override
    public Map<String, Instant> completions(List<String> ids, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        // every earlier phase has completed, so: wait until no job is in another state
        while (System.nanoTime() < deadline
                && PeerDb.count(ds, "select count(*) from jobrunr_jobs where state <> 'SUCCEEDED'") > 0) {
            worker.checkAlive();
            Thread.sleep(200);
        }
        Set<String> wanted = new HashSet<>(ids);
        Map<String, Instant> m = new HashMap<>();
        try (Connection c = ds.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select id, updatedAt from jobrunr_jobs where state = 'SUCCEEDED'")) {
            while (r.next()) {
                String id = r.getString(1);
                if (wanted.contains(id)) {
                    m.put(id, r.getTimestamp(2).toInstant());
                }
            }
        }
        return m;
    }

    @Override
    public void stopWorker() throws Exception {
        worker.stop();
    }

    @Override
    public void close() throws Exception {
        stopWorker();
        JobRunr.destroy();
        ds.close();
    }
}
