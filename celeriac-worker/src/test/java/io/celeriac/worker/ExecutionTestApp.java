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

    /**
     * Waits for the file {@code go-0} in {@code dir}, then reports PROGRESS {@code {"current": i,
     * "total": steps}} for i = 1..steps, each time waiting for {@code go-i} before going on: a latch
     * the test opens from outside, whatever process runs the task.
     */
    @Task(name = "progress")
    public String progress(TaskContext ctx, String dir, int steps) throws InterruptedException {
        awaitFile(Path.of(dir, "go-0"));
        for (int i = 1; i <= steps; i++) {
            ctx.updateState("PROGRESS", Map.of("current", i, "total", steps));
            awaitFile(Path.of(dir, "go-" + i));
        }
        return "done " + steps;
    }

    /** {@link #progress}, with {@code trackStarted} on for this task alone. */
    @Task(name = "tracked_progress", trackStarted = Task.Toggle.TRUE)
    public String trackedProgress(TaskContext ctx, String dir, int steps) throws InterruptedException {
        return progress(ctx, dir, steps);
    }

    /** Reports {@code state}, then returns "reported". */
    @Task(name = "report_state")
    public String reportState(TaskContext ctx, String state) {
        ctx.updateState(state, Map.of("note", "from the task"));
        return "reported";
    }

    private static void awaitFile(Path file) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!Files.exists(file) && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
    }

    /** Where this JVM mapped the JDK's class-data archive (the start of its first mapping, hex), or "" when it did not. */
    @Task(name = "jdk_archive_address")
    public String jdkArchiveAddress() throws IOException {
        for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
            if (line.endsWith("/classes.jsa") || line.endsWith("/classes_nocoops.jsa")) {
                return line.substring(0, line.indexOf('-'));
            }
        }
        return "";
    }

    @Task(name = "nap")
    public long nap(double seconds) throws InterruptedException {
        Thread.sleep((long) (seconds * 1000));
        return ProcessHandle.current().pid();
    }

    /** Counts the runs in this app's life: a static, so it starts from zero each time the app is loaded afresh. */
    private static int runs;

    /** Memory kept by {@link #hog}: a static of the app. */
    private static final java.util.List<byte[]> HELD = new java.util.ArrayList<>();

    @Task(name = "count")
    public Map<String, Object> count() {
        return Map.of("runs", ++runs, "pid", ProcessHandle.current().pid(), "loader", String.valueOf(getClass().getClassLoader().getName()));
    }

    /**
     * Sets a thread local of the task's thread to {@code value} and returns what it held before
     * ("" for nothing). The {@code ThreadLocal} itself is kept in the JVM's system properties, so
     * every load of this app reads the same one: what it held can only be gone with the thread.
     */
    @Task(name = "thread_local")
    public Map<String, Object> threadLocal(String value) {
        @SuppressWarnings("unchecked")
        ThreadLocal<String> local = (ThreadLocal<String>) System.getProperties()
                .computeIfAbsent("celeriac.test.thread_local", k -> new ThreadLocal<String>());
        String before = local.get();
        local.set(value);
        return Map.of("before", before == null ? "" : before, "pid", ProcessHandle.current().pid());
    }

    /**
     * Remembers this load of the app (a weak reference to its class loader, in the system
     * properties) the first time; later, after a full collection, tells whether that load is gone.
     */
    @Task(name = "first_load_collected")
    public boolean firstLoadCollected() throws InterruptedException {
        Object first = System.getProperties().get("celeriac.test.first_loader");
        if (first == null) {
            System.getProperties().put("celeriac.test.first_loader", new java.lang.ref.WeakReference<>(getClass().getClassLoader()));
            return false;
        }
        for (int i = 0; i < 20 && ((java.lang.ref.WeakReference<?>) first).get() != null; i++) {
            System.gc();
            Thread.sleep(50);
        }
        return ((java.lang.ref.WeakReference<?>) first).get() == null;
    }

    /** Keeps {@code mib} MiB more in a static of the app, every page written, and returns the pid. */
    @Task(name = "hog")
    public long hog(int mib) {
        for (int i = 0; i < mib; i++) {
            byte[] b = new byte[1 << 20];
            java.util.Arrays.fill(b, (byte) 1);
            HELD.add(b);
        }
        return ProcessHandle.current().pid();
    }

    /** Starts a thread that never ends (a leak a reload cannot free) and returns the pid. */
    @Task(name = "leak_thread")
    public long leakThread() {
        Thread t = new Thread(() -> {
            try {
                Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
                // never
            }
        }, "leaked-by-the-app");
        t.setDaemon(true);
        t.start();
        return ProcessHandle.current().pid();
    }
}
