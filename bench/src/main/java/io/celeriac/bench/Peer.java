package io.celeriac.bench;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * One system of {@code bench/run --suite peers}: how it is sent no-op tasks, how its workers are
 * started (in a process of their own), and how a completion is read back as the system itself keeps
 * it (a stored result, a deleted row, a SUCCEEDED job).
 */
interface Peer extends AutoCloseable {
    /** Its row name in the results table, e.g. {@code db-scheduler-pg}. */
    String name();

    /** How it is configured: version, store, worker threads, polling, and why. */
    String configuration();

    /** Sends {@code n} tasks with no worker running (the system's batch API where it has one); returns their ids. */
    List<String> load(int n) throws Exception;

    /** Starts the worker process; returns at once (burn-down times do not count its start-up). */
    void startWorker() throws Exception;

    /** Sends one task to run now; returns its id. Called from several producer threads at once. */
    String send() throws Exception;

    /**
     * When each of {@code ids} completed, as the system keeps it, waiting up to {@code timeout} for
     * all of them; ids not completed by then are missing from the map.
     */
    Map<String, Instant> completions(List<String> ids, Duration timeout) throws Exception;

    /** Stops the worker process. */
    void stopWorker() throws Exception;

    @Override
    void close() throws Exception;
}
