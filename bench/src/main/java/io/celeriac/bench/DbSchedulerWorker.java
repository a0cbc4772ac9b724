package io.celeriac.bench;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.event.AbstractSchedulerListener;
import com.github.kagkarlsson.scheduler.task.ExecutionComplete;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import java.io.BufferedWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The db-scheduler worker process of {@code --suite peers}: one {@link Scheduler} on the peer's
 * database running the no-op one-time task. db-scheduler keeps no record of a finished one-time
 * execution (its row is deleted), so a listener notes when each one completed, after the delete, in
 * a file the benchmark reads ({@code instance epoch-microseconds} per line).
 *
 * <pre>
 *   java ... DbSchedulerWorker JDBC_URL THREADS POLLING_MS LOWER_FRACTION UPPER_FRACTION COMPLETIONS_FILE
 * </pre>
 */
public final class DbSchedulerWorker {
    /** The task: does nothing. The client side schedules instances of the same name. */
    static final OneTimeTask<Void> NOOP = Tasks.oneTime("noop").execute((instance, context) -> { });

    private DbSchedulerWorker() {
    }

    public static void main(String[] args) throws Exception {
        PeerDb.quietLogging();
        ConcurrentLinkedQueue<String> done = new ConcurrentLinkedQueue<>();
        Path file = Path.of(args[5]);
        Thread writer = new Thread(() -> drain(done, file), "completions");
        writer.setDaemon(true);
        writer.start();
        Scheduler scheduler = Scheduler.create(PeerDb.pool(args[0], "db-scheduler"), NOOP)
                .threads(Integer.parseInt(args[1]))
                .pollingInterval(Duration.ofMillis(Long.parseLong(args[2])))
                .pollUsingLockAndFetch(Double.parseDouble(args[3]), Double.parseDouble(args[4]))
                .addSchedulerListener(new AbstractSchedulerListener() {
                    @Override
                    public void onExecutionComplete(ExecutionComplete complete) {
                        // called after the completion handler deleted the row
                        Instant now = Instant.now();
                        done.add(complete.getExecution().taskInstance.getId() + " "
                                + (now.getEpochSecond() * 1_000_000 + now.getNano() / 1000) + "\n");
                    }
                })
                .registerShutdownHook()
                .build();
        scheduler.start();
        Thread.currentThread().join();
    }

    private static void drain(ConcurrentLinkedQueue<String> done, Path file) {
        try (BufferedWriter w = Files.newBufferedWriter(file)) {
            while (true) {
                String line;
                while ((line = done.poll()) != null) {
                    w.write(line);
                }
                w.flush();
                Thread.sleep(50);
            }
        } catch (Exception e) {
            System.err.println("completions file: " + e);
        }
    }
}
