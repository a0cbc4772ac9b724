package io.celeriac.worker;

import io.celeriac.CeleriacApp;
import io.celeriac.Param;
import io.celeriac.SoftTimeLimitExceeded;
import io.celeriac.Task;
import io.celeriac.TaskContext;
import io.celeriac.TaskRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Map;

/** Tasks that misbehave on purpose, loaded by real child JVMs in the execution tests (--app). */
public final class ExecutionTestApp implements CeleriacApp {
    @Override
    public void register(TaskRegistry tasks) {
        tasks.register(this);
    }

    /** Appends "pid time" to the file, so a test can see each attempt and where it ran. */
    static void attempt(String file) throws IOException {
        Files.writeString(Path.of(file), ProcessHandle.current().pid() + " " + System.currentTimeMillis() + "\n",
                StandardOpenOption.CREATE, StandardOpenOption.APPEND);
    }

    @Task(name = "flaky", autoretryFor = IOException.class, maxRetries = 3, retryBackoff = 0.2,
            retryJitter = Task.Toggle.FALSE)
    public Map<String, Object> flaky(TaskContext ctx, String file, int failures) throws IOException {
        attempt(file);
        if (ctx.retries() < failures) {
            throw new IOException("attempt " + (ctx.retries() + 1) + " failed");
        }
        return Map.of("retries", ctx.retries());
    }

    @Task(name = "always_fails", autoretryFor = IOException.class, maxRetries = 3, retryBackoff = 0.1,
            retryJitter = Task.Toggle.FALSE)
    public Object alwaysFails(String file) throws IOException {
        attempt(file);
        throw new IOException("source down");
    }

    /** Fails once, with a 10 s back-off and jitter: its retry lands somewhere in the next 10 s. */
    @Task(name = "fail_once_jittered", autoretryFor = IOException.class, maxRetries = 1, retryBackoff = 10,
            retryJitter = Task.Toggle.TRUE)
    public long failOnceJittered(TaskContext ctx) throws IOException {
        if (ctx.retries() == 0) {
            throw new IOException("first attempt fails");
        }
        return System.currentTimeMillis(); // when the retry ran
    }

    @Task(name = "soft_sleeper", softTimeLimit = 0.5, timeLimit = 5)
    public String softSleeper(TaskContext ctx, double seconds) throws InterruptedException {
        try {
            ctx.sleep(Duration.ofMillis((long) (seconds * 1000)));
            return "slept";
        } catch (SoftTimeLimitExceeded e) {
            return "cleaned up after: " + e.getMessage();
        }
    }

    /** Soft limit hit in a plain Thread.sleep that the task does not handle. */
    @Task(name = "soft_ignorer", softTimeLimit = 0.3)
    public String softIgnorer() throws InterruptedException {
        Thread.sleep(5_000);
        return "never";
    }

    /** Spins on the CPU, ignoring interruption: only killing the process stops it. */
    @Task(name = "spin", timeLimit = 1)
    public long spin() {
        long x = 0;
        while (!Thread.currentThread().isInterrupted() || x >= 0) {
            x++;
        }
        return x;
    }

    @Task(name = "pid")
    public long pid() {
        return ProcessHandle.current().pid();
    }

    @Task(name = "exit")
    public Object exit(int code, @Param(value = "file", optional = true) String file) throws IOException {
        if (file != null) {
            attempt(file);
        }
        System.exit(code);
        return null;
    }

    @Task(name = "nap")
    public long nap(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
        return ProcessHandle.current().pid();
    }
}
