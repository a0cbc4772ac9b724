package io.celeriac.bench;

import java.nio.file.Path;

/** A peer's worker process: started, checked while the benchmark waits on it, stopped with its children. */
final class WorkerProcess {
    private final String what;
    private final Path log;
    private Process process;

    WorkerProcess(String what, Path log) {
        this.what = what;
        this.log = log;
    }

    Path log() {
        return log;
    }

    void started(Process p) {
        process = p;
    }

    /** Throws when the worker has died, naming its log. */
    void checkAlive() {
        if (process != null && !process.isAlive()) {
            throw new IllegalStateException("the " + what + " worker died; see " + log);
        }
    }

    void stop() throws InterruptedException {
        if (process != null) {
            Measure.stop(process);
            process = null;
        }
    }
}
