package io.celeriac.bench;

import static org.jobrunr.server.BackgroundJobServerConfiguration.usingStandardBackgroundJobServerConfiguration;

import java.time.Duration;
import org.jobrunr.configuration.JobRunr;
import org.jobrunr.jobs.lambdas.JobRequest;
import org.jobrunr.jobs.lambdas.JobRequestHandler;
import org.jobrunr.storage.sql.postgres.PostgresStorageProvider;
import org.jobrunr.utils.mapper.jackson.JacksonJsonMapper;

/**
 * The JobRunr worker process of {@code --suite peers}: a BackgroundJobServer on the peer's database
 * running the no-op {@link Noop} job request; JobRunr marks each job SUCCEEDED in its jobs table.
 *
 * <pre>
 *   java ... JobRunrWorker JDBC_URL WORKERS POLL_SECONDS
 * </pre>
 */
public final class JobRunrWorker {
    private JobRunrWorker() {
    }

    /** The job: a request whose handler does nothing (a field, so that it is a JSON object with content). */
    public static final class Noop implements JobRequest {
        public int n;

        public Noop() {
        }

        public Noop(int n) {
            this.n = n;
        }

        @Override
        public Class<NoopHandler> getJobRequestHandler() {
            return NoopHandler.class;
        }
    }

    /** Runs a {@link Noop}: nothing. */
    public static final class NoopHandler implements JobRequestHandler<Noop> {
        @Override
        public void run(Noop request) {
        }
    }

    public static void main(String[] args) throws Exception {
        PeerDb.quietLogging();
        JobRunr.configure()
                .useJsonMapper(new JacksonJsonMapper())
                .useStorageProvider(new PostgresStorageProvider(PeerDb.pool(args[0], "jobrunr")))
                .useBackgroundJobServer(usingStandardBackgroundJobServerConfiguration()
                        .andWorkerCount(Integer.parseInt(args[1]))
                        .andPollInterval(Duration.ofSeconds(Long.parseLong(args[2]))))
                .initialize();
        Thread.currentThread().join();
    }
}
